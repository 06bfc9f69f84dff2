"""Who may write to an output folder: an OS file lock on ``OUT/.digest.lock``, exclusive or shared.

The lock is held by the kernel (``flock``), so a build that is killed releases it at once; the lock file
itself is left in place (it is empty and harmless). A build of the whole folder holds it **exclusive**: a
second build waits up to ``timeout`` seconds, then raises :class:`BusyError` (exit status 5).

Shards (``digest build --shard K/N``) hold it **shared**: they write disjoint issues (each issue's files are
renamed into place, then its record), so any number of them run side by side — on one host or on several
sharing the folder (NFSv4 and most cluster file systems carry ``flock`` across hosts as POSIX locks) —
while a whole-folder build, or ``digest archive``, waits for all of them and they wait for it. Files a
killed build left half-written are removed only under the exclusive lock, when no shard can be writing.
"""
from __future__ import annotations

import errno
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from digest.errors import BusyError

LOCK_NAME = ".digest.lock"
POLL = 0.05  # seconds between attempts while waiting (flock has no timeout of its own)
# fsutil.atomic_path's temporary names: ".<name>.<8 random chars>.tmp"
_TEMP = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")


def _try_lock(fd: int, shared: bool) -> bool:
    import fcntl

    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise
    return True


def _acquire(fd: int, shared: bool, timeout: float, on_wait: Callable[[], None] | None) -> bool:
    if _try_lock(fd, shared):
        return True
    if on_wait:
        on_wait()
    deadline = time.monotonic() + max(timeout, 0)
    while time.monotonic() < deadline:
        time.sleep(min(POLL, max(0.0, deadline - time.monotonic())))
        if _try_lock(fd, shared):
            return True
    return False


@contextmanager
def output_lock(out_dir: Path, timeout: float = 600.0, on_wait: Callable[[], None] | None = None, *,
                shared: bool = False) -> Iterator[Path]:
    """Hold the output folder's lock (``shared``: as one of several shards); call ``on_wait`` once if
    another build holds it."""
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _acquire(fd, shared, timeout, on_wait):
            raise BusyError(f"another digest build is writing to this folder (waited {timeout:g} s); "
                            "try again later, or raise --wait", out_dir)
        if not shared:
            remove_stale_temp_files(out_dir)
        yield path
    finally:
        os.close(fd)  # releases the lock
        if created and not shared:
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
    """Temporary files left by a killed build (only call while holding the lock exclusive)."""
    removed = []
    for p in out_dir.rglob(".*.tmp"):
        if p.is_file() and _TEMP.match(p.name):
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed
