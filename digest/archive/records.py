"""Build records: what each issue's files were built from, so unchanged issues are skipped and the archive
can list them without opening anything else.

One small JSON file per issue, ``OUT/.digest/issues/<slug>.json``, written (atomically) after the issue's
files. It holds the issue's ``probe`` (a cheap key over its candidate files, trusted only once the issue
is *final*: built after its last day ended, so no future-dated post can appear), one ``key`` per edition
(the exact inputs: posts, theme, settings, code; see :mod:`digest.build.keys`) with the files it wrote
and their sizes (a deleted or truncated file makes the edition stale), and what the archive shows.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

from digest.runtime.files import atomic_write

SCHEMA = 2
DIR = ".digest"
ISSUES = "issues"


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the output folder
    size: int


@dataclass(frozen=True)
class EditionEntry:
    key: str
    files: tuple[FileEntry, ...]


@dataclass(frozen=True)
class IssueRecord:
    slug: str
    period: str
    start: date
    end: date
    title: str
    site_title: str
    lang: str
    generated: datetime
    count: int
    duplicates_dropped: int
    sections: tuple[tuple[str, int], ...]  # (title, articles)
    probe: str
    final: bool
    posts: tuple[tuple[str, str], ...]  # (path, content hash)
    editions: Mapping[str, EditionEntry] = field(default_factory=dict)

    def to_json(self) -> str:
        data = asdict(self)
        data.update(schema=SCHEMA, start=self.start.isoformat(), end=self.end.isoformat(),
                    generated=self.generated.isoformat(), editions={k: asdict(v) for k, v in self.editions.items()})
        return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> IssueRecord | None:
        """The record, or ``None`` when it is unreadable or from another schema (the issue is rebuilt)."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.pop("schema", None) != SCHEMA:
                return None
            editions = {k: EditionEntry(v["key"], tuple(FileEntry(f["path"], int(f["size"])) for f in v["files"]))
                        for k, v in data.pop("editions").items()}
            return cls(**{**data, "start": date.fromisoformat(data["start"]), "end": date.fromisoformat(data["end"]),
                          "generated": datetime.fromisoformat(data["generated"]),
                          "sections": tuple((str(t), int(n)) for t, n in data["sections"]),
                          "posts": tuple((str(p), str(h)) for p, h in data["posts"]), "editions": editions})
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def record_dir(out_dir: Path) -> Path:
    return out_dir / DIR / ISSUES


def record_path(out_dir: Path, slug: str) -> Path:
    return record_dir(out_dir) / f"{slug}.json"


def load(out_dir: Path, slug: str) -> IssueRecord | None:
    """The record of one issue, or None (missing, unreadable or from another schema: rebuild)."""
    try:
        return IssueRecord.from_json(record_path(out_dir, slug).read_text(encoding="utf-8"))
    except OSError:
        return None


def save(out_dir: Path, record: IssueRecord) -> Path:
    return atomic_write(record_path(out_dir, record.slug), record.to_json())


def all_records(out_dir: Path) -> list[IssueRecord]:
    """Every readable issue record, sorted by start date then slug."""
    d = record_dir(out_dir)
    if not d.is_dir():
        return []
    out = [r for p in sorted(d.glob("*.json")) if (r := load(out_dir, p.stem)) is not None]
    return sorted(out, key=lambda r: (r.start, r.slug))


def file_entries(out_dir: Path, files: Iterable[Path]) -> tuple[FileEntry, ...]:
    root = out_dir.resolve()
    return tuple(FileEntry(Path(f).resolve().relative_to(root).as_posix(), Path(f).stat().st_size) for f in files)


def intact(out_dir: Path, entry: EditionEntry | None) -> bool:
    """Every file an edition wrote is still there with the size it had."""
    if entry is None or not entry.files:
        return False
    for f in entry.files:
        try:
            if (out_dir / f.path).stat().st_size != f.size:
                return False
        except OSError:
            return False
    return True


def fresh_editions(out_dir: Path, record: IssueRecord | None, keys: Mapping[str, str]) -> set[str]:
    """The editions whose recorded key matches ``keys`` and whose files are intact."""
    if record is None:
        return set()
    return {name for name, key in keys.items()
            if (entry := record.editions.get(name)) is not None and entry.key == key and intact(out_dir, entry)}

