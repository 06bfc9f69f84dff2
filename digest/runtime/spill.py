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
import sys
import tempfile
from pathlib import Path
from typing import Any

from digest.errors import OutputError

KEEP_BYTES = 16 * 2**20  # memory the texts kept by one spill may take before they go to disk
TRIM_EVERY = 32 * 2**20  # bytes written to disk between two returns of freed memory to the system
SMALL = 512  # characters: a text this short is cheaper kept than stored (its handle is about 100 bytes)


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
        if len(text) <= SMALL or size <= self._left:
            self._left -= size
            return text
        data = text.encode("utf-8", "surrogatepass")
        fd = self._open()
        try:
            written = os.pwrite(fd, data, self._end)
            while written < len(data):
                written += os.pwrite(fd, data[written:], self._end + written)
        except OSError as e:
            raise OutputError(f"cannot keep a post body in a temporary file in {self._where}: {e.strerror or e}"
                              ) from None
        stored = Stored(self, self._end, len(data))
        self._end += len(data)
        if self._end // TRIM_EVERY != (self._end - len(data)) // TRIM_EVERY:
            give_back()  # the bodies that went to disk before this one were freed: their memory goes too
        return stored

    def done(self) -> None:
        """Nothing more will be kept: when texts went to disk, what they had taken goes back to the system."""
        if self._end:
            give_back()

    def read(self, offset: int, size: int) -> str:
        assert self._fd is not None
        return os.pread(self._fd, size, offset).decode("utf-8", "surrogatepass")

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
        return self._spill.read(self._offset, self._size)

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        return (str, (self.read(),))

    def __repr__(self) -> str:
        return f"Stored({self._size} bytes at {self._offset})"


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


def text_of(value: str | Stored) -> str:
    return value if isinstance(value, str) else value.read()
