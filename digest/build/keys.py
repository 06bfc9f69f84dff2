"""The keys of the incremental build (see :mod:`digest.runtime.keys` for the scheme).

* the **probe** of an issue: cheap — the bytes of every file the site index dates in the issue (the cross-day
  window included, and unreadable files reported with it), the settings that shape an issue and every
  edition's options, the theme and the code; trusted only for a final record;
* an **edition key**: exact — the issue's posts (path, content hash), the cross-day exclusions, the theme,
  the settings that shape an issue, the edition's own options and those of the editions it embeds, and the
  code of everything up to the build.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from digest.config.settings import Settings, Shapes, edition_shaping, shaping
from digest.editions.base import Edition
from digest.runtime import keys
from digest.sources.siteindex import SiteIndex, dated_between


def content_hash(data: bytes) -> str:
    """The same truncated SHA-256 the collector stores as ``Post.content_hash``."""
    return hashlib.sha256(data).hexdigest()[:20]


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


@dataclass(frozen=True)
class IssueInputs:
    """What every key of one issue shares besides its posts."""

    settings: Settings
    start: date
    end: date
    period: str
    theme: str  # the theme's fingerprint
    source_date_epoch: int | None

    def common(self) -> list[str]:
        return [self.period, self.start.isoformat(), self.end.isoformat(), self.theme, str(self.source_date_epoch)]


def probe(inputs: IssueInputs, index: SiteIndex, *, memo: dict[Path, str] | None = None) -> str:
    s = inputs.settings
    cands = dated_between(index, inputs.start - timedelta(days=s.dedupe_days), inputs.end)
    hashed = [f"{p}={h}" for p, h in hash_files(s.site_root, map(Path, cands), memo)]
    every_edition = edition_shaping(s, tuple(s.editions))
    return keys.key("probe", inputs=[*inputs.common(), *hashed], settings=[shaping(s, Shapes.ISSUE), every_edition],
                    code=keys.code_fingerprint("digest.build"))


def edition_keys(inputs: IssueInputs, editions: Iterable[Edition], *, posts: Iterable[tuple[str, str]],
                 exclude: Iterable[str]) -> dict[str, str]:
    s = inputs.settings
    shared = keys.json_digest({"posts": sorted(posts), "exclude": sorted(exclude), "issue": inputs.common()})
    out = {}
    for e in editions:
        own = edition_shaping(s, (e.name, *e.shaped_by))
        out[e.name] = keys.key(f"edition:{e.name}", inputs=[shared], settings=[shaping(s, Shapes.ISSUE), own],
                               code=keys.code_fingerprint("digest.build"))
    return out
