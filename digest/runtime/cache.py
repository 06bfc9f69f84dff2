"""The on-disk cache: one SQLite file per site, whose every entry is found by a key of :mod:`digest.runtime.keys`.

Four kinds of entries: the index (each post file's day, sections and publication, from its head), parsed
posts, rendered posts, and made-once outputs (drawn covers). A lookup hits only when the stored key is the
key asked for, so an entry made by other code, other settings or other bytes is never used; stale entries
are overwritten as new ones are made. The cache is safe to delete, and a cache that cannot be opened is no
cache, not an error. ``Store(None, …)`` (``--no-cache``) reads and writes nothing.
"""
from __future__ import annotations

import contextlib
import hashlib
import pickle
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

_TABLES = (
    "CREATE TABLE IF NOT EXISTS heads (path TEXT PRIMARY KEY, prefix TEXT, mtime_ns INTEGER, size INTEGER, "
    "day INTEGER, ts REAL, cats TEXT, tags TEXT, published INTEGER, error TEXT, name_day INTEGER)",
    "CREATE INDEX IF NOT EXISTS heads_day ON heads (prefix, day)",
    "CREATE INDEX IF NOT EXISTS heads_name_day ON heads (prefix, name_day)",
    "CREATE TABLE IF NOT EXISTS trees (path TEXT PRIMARY KEY, prefix TEXT, state TEXT)",
    "CREATE TABLE IF NOT EXISTS posts (path TEXT PRIMARY KEY, prefix TEXT, mtime_ns INTEGER, size INTEGER, data BLOB)",
    "CREATE TABLE IF NOT EXISTS rendered (path TEXT PRIMARY KEY, key TEXT, data BLOB)",
    "CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, used REAL, data BLOB)",
)
SCHEMA = "7"  # the layout of the tables above (the keys inside them are derived, never bumped)
BLOBS_KEPT = 64  # made-once outputs kept, the most recently used
FLUSH_BYTES = 8 << 20  # pending pickled posts written out past this: a month of posts is not held twice
Stat = tuple[str, int, int]  # relative posix path, mtime_ns, size: a file's stand-in for its bytes
# path, mtime_ns, size, day (ordinal), timestamp, categories, tags, published, error, file-name day (ordinal;
# -1: an unreadable file without one)
HeadRow = tuple[str, int, int, int | None, float | None, str | None, str | None, int | None, str | None, int | None]
_CHECKED = "/"  # the trees table's rows of full checks (a tree's own path is relative: never starts with "/")
_HEAD_COLUMNS = "path, mtime_ns, size, day, ts, cats, tags, published, error, name_day"
_UNREADABLE = (sqlite3.Error, pickle.UnpicklingError, EOFError, AttributeError, TypeError, ImportError, ValueError)


class Store:
    """One site's cache, open for one stage of a build; writes are batched and committed by :meth:`close`."""

    def __init__(self, cache_dir: Path | None, site_root: Path):
        self._db: sqlite3.Connection | None = None
        self._writes: dict[str, list[tuple[Any, ...]]] = {"heads": [], "posts": [], "rendered": [], "blobs": [],
                                                          "trees": [], "gone": []}
        self._touched: list[tuple[float, str]] = []
        self._pending = 0  # bytes of pickled posts waiting to be written
        if cache_dir is None:
            return
        name = hashlib.sha1(f"{SCHEMA}:{site_root.resolve()}".encode()).hexdigest()[:16]
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(cache_dir / f"{name}.sqlite", timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            for table in _TABLES:
                self._db.execute(table)
        except (OSError, sqlite3.Error):
            self._db = None

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def _select(self, query: str, paths: list[str], *args: Any) -> Iterator[tuple[Any, ...]]:
        """Rows of ``query … AND path IN (…)`` for ``paths``, in chunks SQLite accepts."""
        assert self._db is not None
        for i in range(0, len(paths), 900):
            chunk = paths[i : i + 900]
            yield from self._db.execute(f"{query} AND path IN ({','.join('?' * len(chunk))})", (*args, *chunk))

    # -- the index: path → head row, valid for one prefix (settings + code) and one (mtime, size) -------------
    def heads(self, prefix: str, paths: list[str] | None = None) -> dict[str, HeadRow]:
        """Index rows made under ``prefix`` (all of them, or those of ``paths``): path → :data:`HeadRow`."""
        if self._db is None:
            return {}
        q = f"SELECT {_HEAD_COLUMNS} FROM heads WHERE prefix = ?"
        try:
            rows = self._db.execute(q, (prefix,)) if paths is None else self._select(q, paths, prefix)
            return {r[0]: r for r in rows}
        except sqlite3.Error:
            return {}

    def heads_dated(self, prefix: str, lo: int, hi: int, name_lo: int, name_hi: int) -> dict[str, HeadRow]:
        """Rows whose day is in [lo, hi], whose file-name day is in [name_lo, name_hi], or that are unreadable
        files without a file-name day (reported with every issue)."""
        if self._db is None:
            return {}
        q = f"SELECT {_HEAD_COLUMNS} FROM heads WHERE prefix = ? AND "
        try:
            out = {r[0]: r for r in self._db.execute(q + "day BETWEEN ? AND ?", (prefix, lo, hi))}
            out.update((r[0], r) for r in self._db.execute(q + "name_day BETWEEN ? AND ?", (prefix, name_lo, name_hi)))
            out.update((r[0], r) for r in self._db.execute(q + "name_day = -1", (prefix,)))
            return out
        except sqlite3.Error:
            return {}

    def head_stats(self, prefix: str, folder: str) -> dict[str, tuple[int, int]]:
        """path → (mtime_ns, size) of the rows under ``folder`` (its tree, sub-folders included)."""
        if self._db is None:
            return {}
        q = "SELECT path, mtime_ns, size FROM heads WHERE path >= ? AND path < ? AND prefix = ?"
        try:
            return {r[0]: (r[1], r[2]) for r in self._db.execute(q, (folder + "/", folder + "0", prefix))}
        except sqlite3.Error:
            return {}

    def newest_heads(self, prefix: str, n: int) -> list[HeadRow]:
        """Up to ``n`` rows of readable files, the newest days first."""
        if self._db is None:
            return []
        q = f"SELECT {_HEAD_COLUMNS} FROM heads WHERE prefix = ? AND error IS NULL ORDER BY day DESC LIMIT ?"
        try:
            return list(self._db.execute(q, (prefix, n)))
        except sqlite3.Error:
            return []

    def head_stats_all(self, prefix: str) -> dict[str, tuple[int, int]]:
        """path → (mtime_ns, size) of every row: what checking every file compares against."""
        if self._db is None:
            return {}
        try:
            q = "SELECT path, mtime_ns, size FROM heads WHERE +prefix = ?"
            return {r[0]: (r[1], r[2]) for r in self._db.execute(q, (prefix,))}
        except sqlite3.Error:
            return {}

    def head_counts(self, prefix: str, folder: str) -> list[tuple[int, str | None, str | None, int, int]]:
        """(day, categories, tags, published, posts) of the readable files under ``folder``: ``digest list``."""
        if self._db is None:
            return []
        q = ("SELECT day, cats, tags, published, count(*) FROM heads WHERE path >= ? AND path < ? AND prefix = ? "
             "AND error IS NULL GROUP BY day, cats, tags, published")
        try:
            return list(self._db.execute(q, (folder + "/", folder + "0", prefix)))
        except sqlite3.Error:
            return []

    def head_errors(self, prefix: str, folder: str) -> list[tuple[str, str]]:
        """(path, reason) of the unreadable files under ``folder``."""
        if self._db is None:
            return []
        q = "SELECT path, error FROM heads WHERE path >= ? AND path < ? AND prefix = ? AND error IS NOT NULL"
        try:
            return list(self._db.execute(q, (folder + "/", folder + "0", prefix)))
        except sqlite3.Error:
            return []

    def first_day(self, prefix: str) -> int | None:
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT min(day) FROM heads WHERE prefix = ?", (prefix,)).fetchone()
        except sqlite3.Error:
            return None
        return row[0] if row else None

    def put_head(self, prefix: str, row: HeadRow) -> None:
        if self._db is not None:
            self._writes["heads"].append((row[0], prefix, *row[1:]))

    def drop_heads(self, paths: Iterable[str]) -> None:
        if self._db is not None:
            self._writes["gone"].extend((p,) for p in paths)

    # -- the index's folders: a tree of posts → the state it was indexed in --------------------------------
    def tree(self, prefix: str, path: str) -> str | None:
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT state FROM trees WHERE path = ? AND prefix = ?", (path, prefix)).fetchone()
        except sqlite3.Error:
            return None
        return row[0] if row else None

    def put_tree(self, prefix: str, path: str, state: str) -> None:
        if self._db is not None:
            self._writes["trees"].append((path, prefix, state))

    # -- a full check's record of a tree (what its files were, what the index counted): valid while the index
    # is not written otherwise — a write of index rows forgets every record not written with it -------------
    def checked(self, prefix: str, path: str) -> str | None:
        return self.tree(prefix, _CHECKED + path)

    def put_checked(self, prefix: str, path: str, record: str) -> None:
        self.put_tree(prefix, _CHECKED + path, record)

    # -- parsed posts: path → value, valid for one prefix and one (mtime, size) ------------------------------
    def posts(self, prefix: str, entries: Iterable[Stat]) -> Iterator[tuple[str, Any]]:
        """(path, value) of each entry cached as it is now, one at a time (a huge day is never all loaded)."""
        if self._db is None:
            return
        wanted = {p: (m, s) for p, m, s in entries}
        try:
            q = "SELECT path, mtime_ns, size, data FROM posts WHERE prefix = ?"
            for path, mtime, size, data in self._select(q, list(wanted), prefix):
                if wanted.get(path) == (mtime, size):
                    yield path, pickle.loads(data)
        except _UNREADABLE:
            return

    def put_post(self, prefix: str, entry: Stat, data: bytes) -> None:
        """``data``: the value pickled by the caller (see :func:`pickled`)."""
        if self._db is not None:
            self._writes["posts"].append((entry[0], prefix, entry[1], entry[2], data))
            self._grew(len(data))

    # -- rendered posts: path → value, valid for one full key -------------------------------------------------
    def rendered(self, keys: dict[str, str]) -> Iterator[tuple[str, Any]]:
        """(path, value) of each path cached under its key, one at a time."""
        if self._db is None or not keys:
            return
        try:
            for path, key, data in self._select("SELECT path, key, data FROM rendered WHERE 1", list(keys)):
                if keys.get(path) == key:
                    yield path, pickle.loads(data)
        except _UNREADABLE:
            return

    def put_rendered(self, path: str, key: str, data: bytes) -> None:
        """``data``: the value pickled by the caller (see :func:`pickled`)."""
        if self._db is not None:
            self._writes["rendered"].append((path, key, data))
            self._grew(len(data))

    def _grew(self, size: int) -> None:
        self._pending += size
        if self._pending > FLUSH_BYTES:
            self._flush()

    # -- made-once outputs: key → bytes, the most recently used kept -------------------------------------------
    def blob(self, key: str) -> bytes | None:
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT data FROM blobs WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        if row is None:
            return None
        self._touched.append((time.time(), key))  # marks it used, so pruning keeps it
        return bytes(row[0])

    def put_blob(self, key: str, data: bytes) -> None:
        if self._db is not None:
            self._writes["blobs"].append((key, time.time(), data))

    def _flush(self) -> None:
        """Write the pending rows in one transaction (the connection stays open)."""
        if self._db is None:
            return
        w = self._writes
        try:
            if any(w.values()) or self._touched:
                with self._db:
                    self._db.executemany("DELETE FROM heads WHERE path = ?", w["gone"])
                    self._db.executemany("INSERT OR REPLACE INTO heads VALUES (?,?,?,?,?,?,?,?,?,?,?)", w["heads"])
                    if w["heads"] or w["gone"]:
                        forget = "DELETE FROM trees WHERE path >= ? AND path < ?"  # "0": the character after "/"
                        self._db.execute(forget, (_CHECKED, "0"))
                    self._db.executemany("INSERT OR REPLACE INTO trees VALUES (?,?,?)", w["trees"])
                    self._db.executemany("INSERT OR REPLACE INTO posts VALUES (?,?,?,?,?)", w["posts"])
                    self._db.executemany("INSERT OR REPLACE INTO rendered VALUES (?,?,?)", w["rendered"])
                    self._db.executemany("UPDATE blobs SET used = ? WHERE key = ?", self._touched)
                    if w["blobs"]:
                        self._db.executemany("INSERT OR REPLACE INTO blobs VALUES (?,?,?)", w["blobs"])
                        self._db.execute("DELETE FROM blobs WHERE key NOT IN "
                                         "(SELECT key FROM blobs ORDER BY used DESC LIMIT ?)", (BLOBS_KEPT,))
        except sqlite3.Error:
            pass
        for rows in w.values():
            rows.clear()
        self._touched.clear()
        self._pending = 0

    def commit(self) -> None:
        """Write what is pending now (what is read next sees it); the store stays open."""
        self._flush()

    def close(self) -> None:
        if self._db is None:
            return
        self._flush()
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self._db = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pickled(value: Any) -> bytes:
    """A value as the cache keeps it. Made where the value is made (a worker), and loaded once where it is
    used: pickling a string stores its UTF-8 form inside it, so a record pickled where it is kept takes up
    to twice its memory (Chinese text: a day of 100,000 posts, about 100 MB)."""
    return pickle.dumps(value, protocol=5)
