"""Long texts past a memory budget, kept on disk and read back when asked for.

A day of 100,000 posts holds about a gigabyte of Markdown and again as much rendered HTML and plain text:
more than a build may keep in memory. Every body goes through a :class:`Spill`: the first ``budget``
bytes stay in memory (a normal day never goes past it), the rest go to an unnamed temporary file
(nothing is left behind, even after ``kill -9``) and are read back, one body at a time, when an edition
writes it. A :class:`Stored` text pickles as the plain string, so caches, worker processes and anything
else that pickles a record get the text itself, never a handle to this process's file.
"""
from __future__ import annotations

import functools
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from digest.errors import OutputError

V = TypeVar("V")

KEEP_BYTES = 16 * 2**20  # memory the texts kept by one spill may take before they go to disk
TRIM_EVERY = 32 * 2**20  # bytes written to disk between two returns of freed memory to the system
SMALL = 160  # bytes as Python holds the text (``sys.getsizeof``): one this small is cheaper kept than stored
#               (its handle takes about 100 bytes; a day's short bodies are most of a huge day's memory)


class Spill:
    """One append-only store of texts (one per issue being assembled, one per edition's tidied bodies)."""

    def __init__(self, folder: Path | None = None, budget: int | None = None):
        self._folder = folder
        self._left = KEEP_BYTES if budget is None else budget
        self._fd: int | None = None
        self._file: Any = None
        self._end = 0

    def keep(self, text: str) -> str | Stored:
        """``text`` itself while the budget lasts (and for short texts), else a handle to it on disk."""
        size = sys.getsizeof(text)  # (one, two or four bytes a character, as Python holds it)
        if size <= SMALL or size <= self._left:
            self._left -= size
            return text
        return Stored(self, *self._put(text.encode("utf-8", "surrogatepass")))

    def keep_value(self, value: V) -> V | StoredValue[V]:
        """``value`` (a record's mapping: a post's front matter) itself while the budget lasts, else a handle
        to its pickle on disk."""
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        size = 2 * len(data)  # (about what the value takes in memory: its objects are larger than their pickle)
        if size <= SMALL or size <= self._left:
            self._left -= size
            return value
        return StoredValue(self, *self._put(data))

    def _put(self, data: bytes) -> tuple[int, int]:
        fd = self._open()
        try:
            written = os.pwrite(fd, data, self._end)
            while written < len(data):
                written += os.pwrite(fd, data[written:], self._end + written)
        except OSError as e:
            raise OutputError(f"cannot keep a post body in a temporary file in {self._where}: {e.strerror or e}"
                              ) from None
        offset = self._end
        self._end += len(data)
        if self._end // TRIM_EVERY != offset // TRIM_EVERY:
            give_back()  # the bodies that went to disk before this one were freed: their memory goes too
        return offset, len(data)

    def done(self) -> None:
        """Nothing more will be kept: when texts went to disk, what they had taken goes back to the system."""
        if self._end:
            give_back()

    def read(self, offset: int, size: int) -> bytes:
        assert self._fd is not None
        return os.pread(self._fd, size, offset)

    @property
    def _where(self) -> str:
        return str(self._folder or tempfile.gettempdir())

    def _open(self) -> int:
        if self._fd is None:
            try:
                if self._folder is not None:
                    self._folder.mkdir(parents=True, exist_ok=True)
                self._file = tempfile.TemporaryFile(dir=self._folder, prefix=".digest-spill-")  # noqa: SIM115 (kept open)
            except OSError as e:
                raise OutputError(f"cannot make a temporary file in {self._where}: {e.strerror or e}") from None
            self._fd = self._file.fileno()
        return self._fd


class Stored:
    """A text kept by a :class:`Spill`: :meth:`read` gives it back; pickled, it is the string itself."""

    __slots__ = ("_offset", "_size", "_spill")

    def __init__(self, spill: Spill, offset: int, size: int):
        self._spill, self._offset, self._size = spill, offset, size

    def read(self) -> str:
        return self._spill.read(self._offset, self._size).decode("utf-8", "surrogatepass")

    @property
    def size(self) -> int:
        """The text's length in UTF-8 bytes (known without reading it)."""
        return self._size

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        return (str, (self.read(),))

    def __repr__(self) -> str:
        return f"Stored({self._size} bytes at {self._offset})"


class StoredValue(Generic[V]):
    """A value kept by :meth:`Spill.keep_value`: :meth:`read` gives a copy back; pickled, it is the value."""

    __slots__ = ("_offset", "_size", "_spill")

    def __init__(self, spill: Spill, offset: int, size: int):
        self._spill, self._offset, self._size = spill, offset, size

    def read(self) -> V:
        value: V = pickle.loads(self._spill.read(self._offset, self._size))
        return value

    def __reduce__(self) -> tuple[Callable[[V], V], tuple[V]]:
        return (_same, (self.read(),))


def _same(value: V) -> V:
    return value


def value_of(value: V | StoredValue[V]) -> V:
    return value.read() if isinstance(value, StoredValue) else value


def give_back() -> None:
    """Return freed memory to the system. glibc keeps the holes that freed bodies leave between live objects
    (a day of 100,000 posts otherwise keeps twice its live memory resident); elsewhere, nothing to do."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.cache
def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def size_of(value: str | Stored) -> int:
    """A text's length in UTF-8 bytes; a stored one is not read for it."""
    return value.size if isinstance(value, Stored) else len(value.encode("utf-8", "surrogatepass"))


def text_of(value: str | Stored) -> str:
    return value if isinstance(value, str) else value.read()
