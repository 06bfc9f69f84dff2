"""The build record: what each issue's files were built from, so unchanged issues are skipped.

One small JSON file per issue, ``OUT/.digest/issues/<slug>.json``, written (atomically) after the
issue's files. It records:

* ``inputs``: the sorted (path, content hash) of the posts in the issue, the theme files' hash, the
  settings hash, ``digest.__version__``, ``SOURCE_DATE_EPOCH`` and the cross-day exclusions, folded
  into one key per format (a format's key also covers that format's own settings);
* ``probe``: a cheaper hash of every candidate post file (paths and bytes, no parsing), trusted only
  for a *final* record (built after the issue's last day ended, so no future-dated post can appear);
* per format, the files written (relative to ``OUT``) and their sizes: a deleted or truncated file
  makes the format stale;
* what the archive shows (title, dates, article count, sections, the generation time).
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterable

from digest import __version__
from digest.sources.discover import day_of_name, list_post_files
from digest.runtime.files import atomic_write
from digest.config.settings import Settings
from digest.theming.loader import Theme

SCHEMA = 1
DIR = ".digest"
ISSUES = "issues"
_SKIP_THEME_DIRS = {"archive", "__pycache__"}  # the archive templates do not change issues


def _sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def _jsonhash(value: Any) -> str:
    return _sha(json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str))


def content_hash(data: bytes) -> str:
    """The same truncated SHA-256 the collector stores as ``Post.content_hash``."""
    return hashlib.sha256(data).hexdigest()[:20]


# -- input hashes ---------------------------------------------------------------------------------
def theme_hash(theme: Theme) -> str:
    """Every file of the theme chain (override folder first), by relative path and bytes."""
    h = hashlib.sha256()
    for i, d in enumerate(theme.dirs):
        for here, subdirs, files in os.walk(d):
            rel_here = Path(here).relative_to(d)
            subdirs[:] = sorted(s for s in subdirs if not s.startswith(".")
                                and not (rel_here == Path(".") and s in _SKIP_THEME_DIRS))
            for name in sorted(files):
                if name.startswith("."):
                    continue
                p = Path(here, name)
                h.update(f"{i}:{(rel_here / name).as_posix()}\0".encode())
                h.update(_sha(p.read_bytes()).encode())
    return h.hexdigest()


_OWN = {"html": (), "epub": ("epub",), "pdf": ("pdf",), "email": ("email", "epub", "pdf")}
_PER_FORMAT = {"epub", "pdf", "email"}


def settings_hash(settings: Settings, fmt: str | None = None) -> str:
    """The settings that shape an issue; with ``fmt``, only that format's own sub-settings."""
    data = settings.model_dump(mode="json", exclude={"site_root", "out", "formats", "smtp", "archive"})
    if fmt is not None:
        keep = set(_OWN.get(fmt, _PER_FORMAT))
        for key in _PER_FORMAT - keep:
            data.pop(key, None)
    return _jsonhash(data)


def _head_day(path: str) -> date | None:
    name = path[path.rfind("/") + 1 :]
    return day_of_name(name[:11] + "x.md") if len(name) >= 11 else None


class PostFiles:
    """A site's post files grouped by file-name date, for many range look-ups (a long back-fill)."""

    def __init__(self, files: Iterable[str]):
        """``files``: relative posix paths (``collect.list_post_files``); a year is 100,000+ of them."""
        self.by_day: dict[date | None, list[str]] = defaultdict(list)
        by_head: dict[str, list[str]] = defaultdict(list)
        for f in files:  # group by the name's first 11 characters, then date each group once
            by_head[f[f.rfind("/") + 1 :][:11]].append(f)
        for fs in by_head.values():
            # (a name with a date but no slug, "2022-04-19-.md", is a candidate of that day; the
            # collector reads it as undated)
            self.by_day[day_of_name(fs[0]) or _head_day(fs[0])] += fs

    def names_between(self, lo: date, hi: date) -> list[str]:
        """Relative paths dated in [lo, hi], and those with no date in their name, sorted."""
        out = list(self.by_day.get(None, ()))
        if (hi - lo).days < len(self.by_day):
            for i in range((hi - lo).days + 1):
                out += self.by_day.get(lo + timedelta(days=i), ())
        else:
            out += [f for d, fs in self.by_day.items() if d is not None and lo <= d <= hi for f in fs]
        return sorted(out)

    def between(self, lo: date, hi: date) -> list[Path]:
        return [Path(f) for f in self.names_between(lo, hi)]


def candidate_files(settings: Settings, start: date, end: date, *, files: PostFiles | None = None) -> list[Path]:
    """The post files the collector may read for [start, end] (by file-name date, ±1 day)."""
    files = PostFiles(list_post_files(settings)) if files is None else files
    return files.between(start - timedelta(days=1), end + timedelta(days=1))


def hash_files(root: Path, rels: Iterable[Path], memo: dict[Path, str] | None = None) -> list[tuple[str, str]]:
    """(path, content hash) of each file; ``memo`` saves re-reading a file shared by several issues."""
    memo = {} if memo is None else memo
    out = []
    for rel in rels:
        h = memo.get(rel)
        if h is None:
            try:
                h = content_hash((root / rel).read_bytes())
            except OSError:
                h = "unreadable"
            memo[rel] = h
        out.append((rel.as_posix(), h))
    return out


def probe(settings: Settings, start: date, end: date, period: str, theme: str, *,
          files: PostFiles | None = None, memo: dict[Path, str] | None = None) -> str:
    """Cheap: the bytes of every candidate file (the cross-day window included) and the settings."""
    window = settings.dedupe_days
    cands = candidate_files(settings, start - timedelta(days=window), end, files=files)
    return _jsonhash({
        "v": __version__, "period": period, "start": start, "end": end, "theme": theme,
        "settings": settings_hash(settings), "sde": os.environ.get("SOURCE_DATE_EPOCH"),
        "files": hash_files(settings.site_root, cands, memo),
    })


def format_keys(settings: Settings, formats: Iterable[str], *, start: date, end: date, period: str,
                theme: str, posts: list[tuple[str, str]], exclude: Iterable[str]) -> dict[str, str]:
    """The exact inputs of each format: the issue's posts, exclusions, theme, settings, version."""
    common = _jsonhash({
        "v": __version__, "period": period, "start": start, "end": end, "theme": theme,
        "sde": os.environ.get("SOURCE_DATE_EPOCH"), "posts": sorted(posts), "exclude": sorted(exclude),
    })
    return {f: _jsonhash([common, f, settings_hash(settings, f)]) for f in formats}


# -- records --------------------------------------------------------------------------------------
def record_dir(out_dir: Path) -> Path:
    return out_dir / DIR / ISSUES


def record_path(out_dir: Path, slug: str) -> Path:
    return record_dir(out_dir) / f"{slug}.json"


def load(out_dir: Path, slug: str) -> dict[str, Any] | None:
    """The record of one issue, or None (missing, unreadable or from another schema: rebuild)."""
    try:
        data = json.loads(record_path(out_dir, slug).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("formats"), dict):
        return None
    return data


def save(out_dir: Path, record: dict[str, Any]) -> Path:
    record = {**record, "schema": SCHEMA}
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, indent=1, default=str) + "\n"
    return atomic_write(record_path(out_dir, record["slug"]), text)


def all_records(out_dir: Path) -> list[dict[str, Any]]:
    """Every readable issue record, sorted by start date then slug."""
    d = record_dir(out_dir)
    if not d.is_dir():
        return []
    out = [r for p in sorted(d.glob("*.json")) if (r := load(out_dir, p.stem)) is not None]
    return sorted(out, key=lambda r: (r["start"], r["slug"]))


def file_entries(out_dir: Path, files: Iterable[Path]) -> list[dict[str, Any]]:
    root = out_dir.resolve()
    return [{"path": Path(f).resolve().relative_to(root).as_posix(), "size": Path(f).stat().st_size} for f in files]


def intact(out_dir: Path, entry: dict[str, Any] | None) -> bool:
    """Every file a format wrote is still there with the size it had."""
    if not entry or not entry.get("files"):
        return False
    for f in entry["files"]:
        try:
            if (out_dir / f["path"]).stat().st_size != f["size"]:
                return False
        except (OSError, KeyError, TypeError):
            return False
    return True


def fresh_formats(out_dir: Path, record: dict[str, Any] | None, keys: dict[str, str]) -> set[str]:
    """The formats whose recorded key matches ``keys`` and whose files are intact."""
    if record is None:
        return set()
    recorded = record["formats"]
    return {f for f, k in keys.items() if recorded.get(f, {}).get("key") == k and intact(out_dir, recorded.get(f))}
