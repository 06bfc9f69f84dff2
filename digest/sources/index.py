"""The site index: each post's day, title and sections, read from the head of its file and cached.

A year of posts is 100,000+ files. Building one day must not parse them all, and ``digest list`` must
scan them all in seconds. So the index reads only the first few KB of a file, takes the common case of
simple ``key: value`` front matter on a fast path (falling back to YAML for anything else: quotes with
escapes, lists, blocks, anchors…), and caches the result by path, size and mtime.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

from digest.config.settings import Settings, Shapes, shaping
from digest.errors import PostError
from digest.runtime import keys, parallel
from digest.runtime.cache import HeadRow, Store
from digest.runtime.env import Environment
from digest.sources.discover import base_of, filename_date
from digest.sources.frontmatter import load_front_matter
from digest.sources.posts import PostMeta, front_and_meta, front_with_defaults, index_meta, parse_post
from digest.sources.simplefront import simple_front

HEAD_BYTES = 2048
Entry = tuple[str, int, int]  # relative posix path, mtime_ns, size


def _front_of_head(head: bytes) -> dict[str, object] | None:
    """The front matter of a file's first bytes, or None when only a full parse can tell."""
    if not head.startswith(b"---\n"):
        return None  # BOM, CRLF, blank line first, no front matter: the full parser handles and notes them
    end = head.find(b"\n---", 3)
    if end < 0 or head[end + 4 : end + 5] not in (b"\n", b"") or b"\r" in head[:end] or b"\x00" in head:
        return None
    try:
        fm = head[4:end].decode("utf-8")
    except UnicodeDecodeError:
        return None
    quick = simple_front(fm)
    if quick is not None:
        return quick
    try:
        return load_front_matter(fm)  # the collector's own loader, with its limits and cleaning
    except PostError:
        return None  # the full parser reports it on one line


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One post in the index: its local day, time, sections and whether it is published."""

    path: str
    day: date
    timestamp: float
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    published: bool


SEP = "\x1f"


def source_prefix(settings: Settings, kind: str) -> str:
    """The part of a source cache key shared by every file: the settings that shape reading, the code."""
    return keys.key(kind, inputs=(), settings=shaping(settings, Shapes.SOURCE),
                    code=keys.code_fingerprint("digest.sources"))


def head_prefix(settings: Settings) -> str:
    """The index rows' :func:`source_prefix`, shortened: it is kept in every row and in both of the table's
    indexes (a year of posts is 100,000+ rows), and 96 bits tell settings and code apart as well as 256."""
    return source_prefix(settings, "head")[:24]


def read_meta(root: Path, rel: str, settings: Settings) -> PostMeta | str:
    """One file's metadata, or the one-line reason it cannot be read."""
    try:
        front, data, mtime = _read_head(str(root), rel, settings)
        if front is None:
            return parse_post(Path(rel), data, settings, mtime).meta
        return front_and_meta(Path(rel), front, settings, None, mtime)[1]
    except OSError as e:
        return f"cannot read: {e.strerror or e}"
    except PostError as e:
        return e.message


def _read_head(root: str, rel: str, settings: Settings) -> tuple[dict[str, object] | None, bytes, int | None]:
    """(the front matter when the file's head gives it, else None and the file's bytes (up to past the size
    limit) for the full parser; the file's mtime when it is a draft, which may be dated by it)."""
    fd = os.open(os.path.join(root, rel), os.O_RDONLY)
    try:
        mtime = os.fstat(fd).st_mtime_ns if "_drafts/" in rel else None
        head = os.read(fd, HEAD_BYTES)
        front = _front_of_head(head)
        if front is not None:
            return front, head, mtime
        rest = []
        while chunk := os.read(fd, 1 << 20):
            rest.append(chunk)
            if len(head) + sum(map(len, rest)) > settings.max_post_bytes:
                break
        return None, head + b"".join(rest), mtime
    finally:
        os.close(fd)


def name_day(path: str, error: bool) -> int | None:
    """The file-name date's ordinal; for an unreadable file without one, -1 (it is reported with every issue)."""
    d = filename_date(path[path.rfind("/") + 1:])
    return d.toordinal() if d else (-1 if error else None)


def make_row(entry: Entry, meta: PostMeta | str) -> HeadRow:
    path, mtime, size = entry
    if isinstance(meta, str):
        return (path, mtime, size, None, None, None, None, None, meta, name_day(path, True))
    return (path, mtime, size, meta.date.toordinal(), meta.date.timestamp(), SEP.join(meta.categories),
            SEP.join(meta.tags), int(meta.published), None, name_day(path, False))


def read_row(root: str, settings: Settings, base: str, entry: Entry) -> HeadRow:
    """One file's index row: :func:`make_row` of :func:`read_meta`, without the title, slug and notes it
    does not keep, nor path objects (this runs for every file of a site when the index is made)."""
    rel = entry[0]
    try:
        front, data, mtime = _read_head(root, rel, settings)
        if front is None:
            return make_row(entry, parse_post(Path(rel), data, settings, mtime).meta)
        when, cats, tags, published = index_meta(rel, front_with_defaults(rel, front, settings, base), settings,
                                                 base, mtime)
    except OSError as e:
        return make_row(entry, f"cannot read: {e.strerror or e}")
    except PostError as e:
        return make_row(entry, e.message)
    return (rel, entry[1], entry[2], when.toordinal(), when.timestamp(), SEP.join(cats), SEP.join(tags),
            int(published), None, name_day(rel, False))


def read_rows(root: str, settings: Settings, entries: list[Entry]) -> list[HeadRow]:
    """Each file's index row (its head read), in order: the work shared out over the free cores."""
    base = base_of(settings)
    return [read_row(root, settings, base, e) for e in entries]


def _entry(path: str, day: int | None, ts: float | None, cats: str | None, tags: str | None,
           published: int | None, error: str | None, _name_day: int | None = None) -> IndexEntry | str:
    if error is not None:
        return error
    assert day is not None and ts is not None
    return IndexEntry(path, date.fromordinal(day), ts, tuple(cats.split(SEP)) if cats else (),
                      tuple(tags.split(SEP)) if tags else (), bool(published))


def scan_rows(settings: Settings, entries: Iterable[Entry], *, env: Environment,
              all_entries: bool = False) -> dict[str, HeadRow]:
    """Index rows (:data:`~digest.runtime.cache.HeadRow`) for ``entries``, cached ones reused, the rest read
    (on the free cores when many).
    ``all_entries`` says ``entries`` is the whole site (one query instead of many)."""
    entries = list(entries)
    root = settings.site_root.resolve()
    with Store(env.cache_dir, settings.site_root) as cache:
        prefix = head_prefix(settings) if cache.enabled else ""
        stored = cache.heads(prefix, None if all_entries else [e[0] for e in entries])
        out: dict[str, HeadRow] = {}
        todo = []
        for e in entries:
            row = stored.get(e[0])
            if row is not None and row[1] == e[1] and row[2] == e[2]:
                out[e[0]] = row
            else:
                todo.append(e)
        if todo:
            for row in parallel.share_out(partial(read_rows, str(root), settings), todo, parallel.HEAD,
                                          preload=("digest.sources.index",)):
                out[row[0]] = row
                cache.put_head(prefix, row)
    return out


def scan(settings: Settings, entries: Iterable[Entry], *, env: Environment,
         all_entries: bool = False) -> dict[str, IndexEntry | str]:
    """Index entries (or the one-line reason a file cannot be read) for ``entries``."""
    rows = scan_rows(settings, entries, env=env, all_entries=all_entries)
    return {path: _entry(row[0], *row[3:]) for path, row in rows.items()}
