"""Worker processes, started the cheapest safe way.

``fork`` is instant and the workers inherit every module already imported, but forking a process that
runs other threads (a progress spinner) could copy a lock mid-use; then a fork server with the needed
modules preloaded is used, else ``spawn``. Work that is only worth it when the start is instant asks
for ``fork_only``.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import Executor
from typing import Iterable


def context(preload: Iterable[str] = (), *, fork_only: bool = False):
    """A multiprocessing context, or ``None`` when ``fork_only`` and forking is not safe here."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if fork_only:
        return None
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(preload))
        return ctx
    return multiprocessing.get_context("spawn")


def pool(workers: int, preload: Iterable[str] = (), *, fork_only: bool = False) -> Executor | None:
    """A process pool of ``workers`` (``None``: none asked for, or no safe way to start them)."""
    if workers < 1:
        return None
    ctx = context(preload, fork_only=fork_only)
    if ctx is None:
        return None
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def spare_cores() -> int:
    """Cores this process may use for helpers: none inside a worker (its parent already spreads the work)."""
    if multiprocessing.parent_process() is not None:
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
