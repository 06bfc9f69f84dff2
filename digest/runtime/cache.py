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
    "day INTEGER, ts REAL, cats TEXT, tags TEXT, published INTEGER, error TEXT)",
    "CREATE TABLE IF NOT EXISTS posts (path TEXT PRIMARY KEY, prefix TEXT, mtime_ns INTEGER, size INTEGER, data BLOB)",
    "CREATE TABLE IF NOT EXISTS rendered (path TEXT PRIMARY KEY, key TEXT, data BLOB)",
    "CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, used REAL, data BLOB)",
)
SCHEMA = "6"  # the layout of the tables above (the keys inside them are derived, never bumped)
BLOBS_KEPT = 64  # made-once outputs kept, the most recently used
FLUSH_BYTES = 8 << 20  # pending pickled posts written out past this: a month of posts is not held twice
Stat = tuple[str, int, int]  # relative posix path, mtime_ns, size: a file's stand-in for its bytes
HeadRow = tuple[str, int, int, int | None, float | None, str | None, str | None, int | None, str | None]
_UNREADABLE = (sqlite3.Error, pickle.UnpicklingError, EOFError, AttributeError, TypeError, ImportError, ValueError)


class Store:
    """One site's cache, open for one stage of a build; writes are batched and committed by :meth:`close`."""

    def __init__(self, cache_dir: Path | None, site_root: Path):
        self._db: sqlite3.Connection | None = None
        self._writes: dict[str, list[tuple[Any, ...]]] = {"heads": [], "posts": [], "rendered": [], "blobs": []}
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
        """Index rows made under ``prefix``: path → (path, mtime_ns, size, day, ts, cats, tags, published, error)."""
        if self._db is None:
            return {}
        q = "SELECT path, mtime_ns, size, day, ts, cats, tags, published, error FROM heads WHERE prefix = ?"
        try:
            rows = self._db.execute(q, (prefix,)) if paths is None else self._select(q, paths, prefix)
            return {r[0]: r for r in rows}
        except sqlite3.Error:
            return {}

    def put_head(self, prefix: str, row: HeadRow) -> None:
        if self._db is not None:
            self._writes["heads"].append((row[0], prefix, *row[1:]))

    # -- parsed posts: path → value, valid for one prefix and one (mtime, size) ------------------------------
    def posts(self, prefix: str, entries: Iterable[Stat]) -> dict[str, Any]:
        if self._db is None:
            return {}
        wanted = {p: (m, s) for p, m, s in entries}
        out: dict[str, Any] = {}
        try:
            q = "SELECT path, mtime_ns, size, data FROM posts WHERE prefix = ?"
            for path, mtime, size, data in self._select(q, list(wanted), prefix):
                if wanted.get(path) == (mtime, size):
                    out[path] = pickle.loads(data)
        except _UNREADABLE:
            return out
        return out

    def put_post(self, prefix: str, entry: Stat, value: Any) -> None:
        if self._db is not None:
            data = pickle.dumps(value, protocol=5)
            self._writes["posts"].append((entry[0], prefix, entry[1], entry[2], data))
            self._grew(len(data))

    # -- rendered posts: path → value, valid for one full key -------------------------------------------------
    def rendered(self, keys: dict[str, str]) -> dict[str, Any]:
        if self._db is None or not keys:
            return {}
        out: dict[str, Any] = {}
        try:
            for path, key, data in self._select("SELECT path, key, data FROM rendered WHERE 1", list(keys)):
                if keys.get(path) == key:
                    out[path] = pickle.loads(data)
        except _UNREADABLE:
            return out
        return out

    def put_rendered(self, path: str, key: str, value: Any) -> None:
        if self._db is not None:
            data = pickle.dumps(value, protocol=5)
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
                    self._db.executemany("INSERT OR REPLACE INTO heads VALUES (?,?,?,?,?,?,?,?,?,?)", w["heads"])
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
