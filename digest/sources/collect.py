"""Collecting an issue's posts: the candidates by file-name date, the index's real dates, the posts read.

File-name dates pick the candidates (a day either side, for time-zone spill-over); the cached index tells
which candidates really fall in the range; only those are read in full (or taken from the cache).
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

from digest.config.settings import Settings
from digest.errors import Notice, PostError, Problem, Skipped
from digest.runtime import parallel
from digest.runtime.cache import Stat, Store
from digest.runtime.env import Environment
from digest.sources.discover import Outside, filename_date, list_post_files, name_filter, stat_entries, stat_inside
from digest.sources.index import scan, source_prefix
from digest.sources.posts import SourcePost, parse_post


@dataclass
class Collected:
    posts: list[SourcePost] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _read(root: Path, rel: Path, settings: Settings) -> SourcePost:
    try:
        with open(root / rel, "rb") as f:
            data = f.read(settings.max_post_bytes + 1)
    except OSError as e:
        raise PostError(f"cannot read: {e.strerror or e}") from None
    return parse_post(rel, data, settings)


def _read_share(settings: Settings, keys_: list[str]) -> list[SourcePost | str]:
    """Each file read and parsed; a bad one gives its one-line problem instead."""
    out: list[SourcePost | str] = []
    for key in keys_:
        try:
            out.append(_read(settings.site_root, Path(key), settings))
        except PostError as e:
            out.append(e.message)
    return out


def read_posts(settings: Settings, files: Iterable[Path], cache: Store) -> Collected:
    """Read (or take from the cache) each file; a bad file becomes a Problem."""
    root = settings.site_root
    out = Collected()
    stats: list[Stat] = []
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
        stats.append((rel.as_posix(), st.st_mtime_ns, st.st_size))
    prefix = source_prefix(settings, "post") if cache.enabled else ""
    cached = cache.posts(prefix, stats)
    misses = [key for key, _, _ in stats if key not in cached]
    if misses:  # many (a new day, an empty cache): read on the free cores
        read = parallel.share_out(partial(_read_share, settings), misses, parallel.POST)
        cached.update(zip(misses, read, strict=True))
        done = set(misses)
        for entry in stats:
            if entry[0] in done:
                cache.put_post(prefix, entry, cached[entry[0]])
    for key, _, _ in stats:
        rel = Path(key)
        hit = cached[key]
        if isinstance(hit, str):
            out.problems.append(Skipped(rel, hit))
            continue
        out.posts.append(hit)
        out.problems.extend(Notice(rel, n) for n in hit.notices)
    return out


def collect(settings: Settings, start: date, end: date, *, env: Environment | None = None,
            now: datetime | None = None, files: Iterable[str] | None = None) -> Collected:
    """The posts whose local date (site time zone) is in [start, end], with the problems met.

    ``files``: the site's post files when the caller listed them already (a back-fill lists them once);
    ``env``: the cache and the like (default: from the process environment)."""
    env = env or Environment.from_os()
    wanted_name = name_filter(start - timedelta(days=1), end + timedelta(days=1))  # time-zone spill-over
    listing = list_post_files(settings) if files is None else files
    candidates, missing = stat_entries(settings.site_root, sorted(filter(wanted_name, listing)))
    metas = scan(settings, candidates, env=env)
    wanted = []
    for path, _, _ in candidates:
        meta = metas[path]
        if isinstance(meta, str):
            d = filename_date(path.rsplit("/", 1)[-1])
            keep = d is None or start <= d <= end  # a bad file is reported on the day its name says
        else:
            keep = start <= meta.day <= end
        if keep:
            wanted.append(Path(path))
    with Store(env.cache_dir, settings.site_root) as cache:
        got = read_posts(settings, wanted, cache)
    got.problems.extend(missing)
    now = now or datetime.now(settings.tz)
    kept = [p for p in got.posts if start <= p.date.date() <= end
            and (p.published or settings.include_unpublished) and (p.date <= now or settings.include_future)]
    kept.sort(key=lambda p: (p.date, p.path.as_posix()))
    in_range = {p.path for p in got.posts if start <= p.date.date() <= end}

    def ours(pr: Problem) -> bool:
        if not pr.skipped:
            return pr.path in in_range
        d = filename_date(pr.path.name)
        return d is None or start <= d <= end

    return Collected(kept, [pr for pr in got.problems if ours(pr)])
