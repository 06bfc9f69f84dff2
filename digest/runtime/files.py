"""Crash-safe file writing: write to a temporary name in the same folder, then rename into place.

A write that fails because of the disk (full, read-only, over a quota or a size limit, no permission) raises
:class:`~digest.errors.OutputError` naming the folder, one line; the temporary file is removed and the file
being replaced stays as it was.
"""
from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from digest.errors import OutputError, quoted_path

# What the disk, not the program, says when a write fails.
STORAGE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EACCES, errno.EPERM,
                            errno.EIO, errno.ENOTDIR})
TEMP_PREFIX = "."
TEMP_SUFFIX = ".tmp"


def storage_error(err: OSError, folder: Path) -> OutputError:
    """One line for a write that failed: the folder, and what the system said."""
    reason = err.strerror or type(err).__name__
    return OutputError(f"cannot write here: {reason} ({errno.errorcode.get(err.errno or 0, 'error')})",
                       quoted_path(folder))


def is_storage_error(err: BaseException) -> bool:
    return isinstance(err, OSError) and err.errno in STORAGE_ERRORS


def failed_folder(err: OSError, default: Path) -> Path:
    """The folder a failed write was in (its file's, when the error names one), else ``default``."""
    name = err.filename if isinstance(err.filename, str) else None
    return Path(name).parent if name else default


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically. The caller writes
    it (a file it opens itself, never one a library renames into place: see the PDF's merge)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
        os.close(fd)
    except OSError as e:
        raise storage_error(e, path.parent) from None
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except OSError as e:
        if is_storage_error(e):
            raise storage_error(e, path.parent) from None
        raise
    finally:
        with suppress(OSError):
            tmp_path.unlink(missing_ok=True)


def atomic_write(path: Path, data: bytes | str) -> Path:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(path) as tmp:
        tmp.write_bytes(raw)
    return path


class KeptErrors:
    """A binary file for a C++ library to write into (pikepdf): an error of the file (a full disk) is kept and
    raised by :meth:`check` once the library is done, never thrown through it — qpdf, meeting one in its
    writer, ends the process (``terminate``, exit -6) instead of raising."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.error: OSError | None = None

    def write(self, data: bytes) -> int:
        if self.error is None:
            try:
                self.stream.write(data)
            except OSError as e:
                self.error = e
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        try:
            return self.stream.seek(offset, whence)
        except OSError as e:
            self.error = self.error or e
            return 0

    def tell(self) -> int:
        return self.stream.tell()

    def flush(self) -> None:
        if self.error is None:
            try:
                self.stream.flush()
            except OSError as e:
                self.error = e

    def check(self) -> None:
        """Raise the first error the file met, if any."""
        if self.error is not None:
            raise self.error
