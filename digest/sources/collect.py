"""Collecting an issue's posts: the site index gives the files dated in the range (their real dates, from
the front matter first, as in Jekyll); only those are read in full (or taken from the cache).
"""
from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import partial
from pathlib import Path

from digest.config.settings import Settings
from digest.errors import Notice, PostError, Problem, Skipped
from digest.runtime import parallel
from digest.runtime.cache import Stat, Store, pickled
from digest.runtime.env import Environment
from digest.runtime.spill import Spill
from digest.sources.discover import Outside, stat_inside
from digest.sources.index import source_prefix
from digest.sources.posts import SourcePost, parse_post
from digest.sources.siteindex import SiteIndex


@dataclass
class Collected:
    posts: list[SourcePost] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _read(root: Path, rel: Path, settings: Settings) -> SourcePost:
    try:
        with open(root / rel, "rb") as f:
            st = os.fstat(f.fileno())
            mtime = st.st_mtime_ns if "_drafts/" in rel.as_posix() else None  # dates a draft
            limit = settings.max_post_bytes + 1  # one byte past the limit tells a post that is too long
            data = f.read(min(st.st_size + 1, limit))  # (a buffer of the limit's size for each post costs time)
            if len(data) > st.st_size:  # it grew since: read on, up to the limit
                data += f.read(limit - len(data))
    except OSError as e:
        raise PostError(f"cannot read: {e.strerror or e}") from None
    return parse_post(rel, data, settings, mtime)


def _read_share(settings: Settings, keys_: list[str]) -> list[bytes]:
    """Each file read and parsed, pickled as the cache keeps it; a bad one gives its one-line problem instead."""
    out: list[bytes] = []
    for key in keys_:
        value: SourcePost | Skipped
        try:
            value = _read(settings.site_root, Path(key), settings)
        except PostError as e:
            value = Skipped(Path(key), e.message)
        out.append(pickled(value))
    return out


def read_posts(settings: Settings, files: Iterable[Path], cache: Store, spill: Spill | None = None) -> Collected:
    """Read (or take from the cache) each file; a bad file becomes a Problem. Bodies past the memory budget
    are kept by ``spill`` (default: one in the system's temporary folder)."""
    spill = spill or Spill()
    stats = _stats(settings.site_root, files)
    out = Collected(problems=stats.problems)
    prefix = source_prefix(settings, "post") if cache.enabled else ""
    got = {key: _kept(value, spill) for key, value in cache.posts(prefix, stats.entries)}
    misses = [key for key, _, _ in stats.entries if key not in got]
    if misses:  # many (a new day, an empty cache): read on the free cores, a round at a time
        entries = {entry[0]: entry for entry in stats.entries}
        done = 0
        for part in parallel.rounds(partial(_read_share, settings), misses, parallel.POST):
            for key, data in zip(misses[done : done + len(part)], part, strict=True):
                cache.put_post(prefix, entries[key], data)
                got[key] = _kept(pickle.loads(data), spill)
            done += len(part)
            del part  # (not held while the next round is read)
    spill.done()
    for key, _, _ in stats.entries:
        hit = got[key]
        if isinstance(hit, Skipped):
            out.problems.append(hit)
            continue
        out.posts.append(hit)
        out.problems.extend(Notice(Path(key), n) for n in hit.notices)
    return out


def _kept(value: SourcePost | Skipped, spill: Spill) -> SourcePost | Skipped:
    """The post with its body and front matter kept by ``spill``, and its section and tag names shared with
    the other posts' (a raw post waits for rendering: a day of 100,000 holds every one at once)."""
    if not isinstance(value, SourcePost):
        return value
    meta = value.meta
    meta = replace(meta, categories=tuple(map(sys.intern, meta.categories)), tags=tuple(map(sys.intern, meta.tags)))
    return replace(value, meta=meta, markdown=spill.keep(value.body), front_matter=spill.keep_value(value.front))


@dataclass
class _Stats:
    entries: list[Stat] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _stats(root: Path, files: Iterable[Path]) -> _Stats:
    """Each file's (path, mtime, size), checked to be inside the site; the others as problems."""
    out = _Stats()
    base = str(root.resolve()) + os.sep
    for rel in files:
        try:
            st = stat_inside(base, rel.as_posix())
        except OSError as e:
            out.problems.append(Skipped(rel, f"cannot read: {e.strerror or e}"))
            continue
        except Outside as e:
            out.problems.append(Skipped(rel, str(e)))
            continue
        out.entries.append((rel.as_posix(), st.st_mtime_ns, st.st_size))
    return out


def collect(settings: Settings, start: date, end: date, *, env: Environment | None = None,
            now: datetime | None = None, files: Iterable[str] | None = None) -> Collected:
    """The posts whose local date (site time zone) is in [start, end], with the problems met.

    ``files``: the candidate files when the caller asked the index already (a build asks it once for all
    its issues: :func:`~digest.sources.siteindex.dated_between`); ``env``: the cache and the like (default:
    from the process environment)."""
    env = env or Environment.from_os()
    problems: list[Problem] = []
    if files is None:
        index = SiteIndex(settings, env)
        entries, problems = index.between(start, end)
        wanted = [Path(e[0]) for e in entries]
    else:
        wanted = [Path(f) for f in sorted(files)]
    with Store(env.cache_dir, settings.site_root) as cache:
        got = read_posts(settings, wanted, cache, Spill(env.cache_dir))
    now = now or datetime.now(settings.tz)
    visible = settings.include_unpublished, settings.include_future
    kept = [p for p in got.posts if start <= p.date.date() <= end and (p.published or visible[0])
            and (p.date <= now or visible[1])]
    kept.sort(key=lambda p: (p.date, p.path.as_posix()))
    in_range = {p.path for p in got.posts if start <= p.date.date() <= end}
    reported = {pr.path for pr in problems}
    mine = [pr for pr in got.problems if (pr.skipped and pr.path not in reported) or pr.path in in_range]
    return Collected(kept, problems + mine)
