"""One build at a time per output folder: an OS file lock on ``OUT/.digest.lock``.

The lock is held by the kernel (``flock``), so a build that is killed releases it at once; the lock
file itself is left in place (it is empty and harmless). A second build waits up to ``timeout``
seconds, then raises :class:`BusyError` (exit status 5).
"""
from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from digest.errors import BusyError
from digest.runtime.files import is_storage_error, storage_error

LOCK_NAME = ".digest.lock"
# runtime.files.atomic_path's temporary names: ".<name>.<8 random chars>.tmp"; and pikepdf's own, left by a
# build that crashed inside pikepdf's save (".pikepdf.<our temporary name><random>")
_TEMP = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$|^\.pikepdf\..*\.tmp[A-Za-z0-9_]*$")


@contextmanager
def output_lock(out_dir: Path, timeout: float = 600.0,
                on_wait: Callable[[], None] | None = None) -> Iterator[Path]:
    """Hold the output folder's lock; call ``on_wait`` once if another build holds it."""
    created = not out_dir.exists()
    path = out_dir / LOCK_NAME
    lock = FileLock(str(path), thread_local=False, is_singleton=False)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=0)
    except OSError as e:
        if is_storage_error(e):
            raise storage_error(e, out_dir) from None
        raise
    except Timeout:
        if on_wait:
            on_wait()
        try:
            lock.acquire(timeout=max(timeout, 0))
        except Timeout:
            raise BusyError(f"another digest build is writing to this folder (waited {timeout:g} s); "
                            "try again later, or raise --wait", out_dir) from None
    try:
        remove_stale_temp_files(out_dir)
        yield path
    finally:
        lock.release()
        if created:
            _remove_if_unused(out_dir, path)


def _remove_if_unused(out_dir: Path, lock_path: Path) -> None:
    """A build that failed before writing anything leaves no new folder behind."""
    try:
        if [p.name for p in out_dir.iterdir()] == [lock_path.name]:
            lock_path.unlink()
            out_dir.rmdir()
    except OSError:
        pass


def remove_stale_temp_files(out_dir: Path) -> list[Path]:
    """Temporary files and folders (the PDF's chunks) left by a killed build (only call while holding the
    lock)."""
    removed = []
    for p in list(out_dir.rglob(".*.tmp*")):
        if not _TEMP.match(p.name) or p.is_symlink():
            continue
        try:
            if p.is_dir():
                shutil.rmtree(p)
            elif p.is_file():
                p.unlink()
            else:
                continue
            removed.append(p)
        except OSError:
            pass
    return removed
