"""A small on-disk cache of parsed posts, keyed by path, size and modification time.

Repeated runs (cron every 30 minutes) skip YAML parsing of unchanged files. The cache is one SQLite
file per site under ``$DIGEST_CACHE_DIR`` (default ``$XDG_CACHE_HOME/digest``); it is safe to delete.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import sqlite3
import time
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Iterable, Iterator

_SCHEMA = "CREATE TABLE IF NOT EXISTS posts (path TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER, data BLOB)"
_META_SCHEMA = ("CREATE TABLE IF NOT EXISTS meta (path TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER, "
                "day INTEGER, ts REAL, cats TEXT, tags TEXT, published INTEGER, error TEXT)")
_RENDERED_SCHEMA = "CREATE TABLE IF NOT EXISTS rendered (path TEXT PRIMARY KEY, key TEXT, data BLOB)"
_BLOBS_SCHEMA = "CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, used REAL, data BLOB)"
_VERSION = "5"
BLOBS_KEPT = 64  # made-once outputs (drawn covers) kept, the most recently used

_CACHING: ContextVar[bool] = ContextVar("digest_caching", default=True)


def caching() -> bool:
    """Whether this build reads and writes the cache (``--no-cache`` turns it off)."""
    return _CACHING.get()


@contextmanager
def caching_set(enabled: bool) -> Iterator[None]:
    token = _CACHING.set(enabled)
    try:
        yield
    finally:
        _CACHING.reset(token)


def cache_dir() -> Path:
    env = os.environ.get("DIGEST_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "digest"


class PostCache:
    """Maps a post's relative path to what parsing it gave, valid while size and mtime match."""

    def __init__(self, site_root: Path, enabled: bool = True, *, variant: str = ""):
        """``variant`` names whatever else the cached values depend on (e.g. the time zone)."""
        self.enabled = enabled
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, int, int, bytes]] = []
        self._meta: list[tuple] = []
        self._rendered: list[tuple[str, str, bytes]] = []
        self._blobs: list[tuple[str, float, bytes]] = []
        self._touched: list[tuple[float, str]] = []
        if not enabled:
            return
        key = hashlib.sha1(f"{_VERSION}:{site_root.resolve()}:{variant}".encode()).hexdigest()[:16]
        try:
            d = cache_dir()
            d.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(d / f"{key}.sqlite", timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
            self._db.execute(_META_SCHEMA)
            self._db.execute(_RENDERED_SCHEMA)
            self._db.execute(_BLOBS_SCHEMA)
        except (OSError, sqlite3.Error):
            self._db = None  # a cache that cannot open is no cache, not an error

    def _select(self, query: str, paths: list[str]) -> Iterator[tuple]:
        """Rows of ``query … WHERE path IN (…)`` for ``paths``, in chunks SQLite accepts."""
        assert self._db is not None
        for i in range(0, len(paths), 900):
            chunk = paths[i : i + 900]
            yield from self._db.execute(f"{query} WHERE path IN ({','.join('?' * len(chunk))})", chunk)

    def get_many(self, entries: Iterable[tuple[str, int, int]]) -> dict[str, Any]:
        """Cached data for each (path, mtime_ns, size) still valid."""
        if self._db is None:
            return {}
        wanted = {p: (m, s) for p, m, s in entries}
        out: dict[str, Any] = {}
        try:
            for path, mtime, size, data in self._select("SELECT path, mtime_ns, size, data FROM posts", list(wanted)):
                if wanted.get(path) == (mtime, size):
                    out[path] = pickle.loads(data)
        except (sqlite3.Error, pickle.UnpicklingError, EOFError):
            return out
        return out

    def meta_rows(self, paths: list[str] | None = None) -> dict[str, tuple]:
        """Index rows: path → (path, mtime_ns, size, day, ts, cats, tags, published, error); all when no paths."""
        if self._db is None:
            return {}
        q = "SELECT path, mtime_ns, size, day, ts, cats, tags, published, error FROM meta"
        try:
            rows = self._db.execute(q) if paths is None else self._select(q, paths)
            return {r[0]: r for r in rows}
        except sqlite3.Error:
            return {}

    def rendered(self, keys: dict[str, str]) -> dict[str, Any]:
        """Rendered posts still valid: path → value, for each path whose stored key matches."""
        if self._db is None or not keys:
            return {}
        out: dict[str, Any] = {}
        try:
            for path, key, data in self._select("SELECT path, key, data FROM rendered", list(keys)):
                if keys.get(path) == key:
                    out[path] = pickle.loads(data)
        except (sqlite3.Error, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
            return out
        return out

    def put_rendered(self, path: str, key: str, value: Any) -> None:
        if self._db is not None:
            self._rendered.append((path, key, pickle.dumps(value, protocol=5)))

    def blob(self, key: str) -> bytes | None:
        """A made-once output stored under ``key`` (``None``: not there)."""
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT data FROM blobs WHERE key = ?", (key,)).fetchone()
            if row is not None:
                self._touched.append((time.time(), key))  # marks it used, so pruning keeps it
        except sqlite3.Error:
            return None
        return None if row is None else bytes(row[0])

    def put_blob(self, key: str, data: bytes) -> None:
        if self._db is not None:
            self._blobs.append((key, time.time(), data))

    def put_meta(self, row: tuple) -> None:
        if self._db is not None:
            self._meta.append(row)

    def put(self, path: str, mtime_ns: int, size: int, value: Any) -> None:
        if self._db is not None:
            self._pending.append((path, mtime_ns, size, pickle.dumps(value, protocol=5)))

    def close(self) -> None:
        if self._db is None:
            return
        try:
            if self._pending or self._meta or self._rendered or self._blobs or self._touched:
                with self._db:
                    self._db.executemany("INSERT OR REPLACE INTO posts VALUES (?, ?, ?, ?)", self._pending)
                    self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", self._meta)
                    self._db.executemany("INSERT OR REPLACE INTO rendered VALUES (?, ?, ?)", self._rendered)
                    self._db.executemany("UPDATE blobs SET used = ? WHERE key = ?", self._touched)
                    if self._blobs:
                        self._db.executemany("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?)", self._blobs)
                        self._db.execute("DELETE FROM blobs WHERE key NOT IN "
                                         "(SELECT key FROM blobs ORDER BY used DESC LIMIT ?)", (BLOBS_KEPT,))
            self._db.close()
        except sqlite3.Error:
            pass
        self._db = None
        self._pending.clear()
        self._meta.clear()
        self._rendered.clear()
        self._blobs.clear()
        self._touched.clear()

    def __enter__(self) -> PostCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
