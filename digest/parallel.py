"""Worker processes, started the cheapest safe way.

``fork`` is instant and the workers inherit every module already imported, but forking a process that
runs other threads (a progress spinner) could copy a lock mid-use; then a fork server with the needed
modules preloaded is used, else ``spawn``. Work that is only worth it when the start is instant asks
for ``fork_only``.
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
from concurrent.futures import Executor
from typing import Callable, Iterable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")


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

    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=ignore_interrupt)


def ignore_interrupt() -> None:
    """In a worker: Ctrl-C goes to the whole process group; only the parent acts on it (it says so on one
    line and stops). A worker stopped halfway through sending its result would leave the pool waiting
    for the rest forever, and would print a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def fork_map(fn: Callable[[T], R], jobs: Sequence[T]) -> list[R]:
    """``[fn(job) for job in jobs]``: this process runs the first job while forked children run the rest.

    For short CPU work whose start must be instant. Only when forking is safe (``context(fork_only=True)``
    is not None). A child's exception is raised here; if this process is interrupted or fails, the
    children are killed before the exception goes on, so nothing is left running or half-read."""
    ctx = multiprocessing.get_context("fork")
    children = []
    try:
        for job in jobs[1:]:
            recv, send = ctx.Pipe(duplex=False)
            child = ctx.Process(target=_child, args=(fn, job, send), daemon=True)
            child.start()
            send.close()
            children.append((child, recv))
        results = [fn(jobs[0])] if jobs else []
        for child, recv in children:
            try:
                ok, value = pickle.loads(recv.recv_bytes())
            except EOFError:
                raise RuntimeError(f"a worker process ended without a result (exit status {child.exitcode})") from None
            if not ok:
                raise value
            results.append(value)
        return results
    finally:
        for child, recv in children:
            if child.is_alive():
                child.kill()
            child.join()
            recv.close()


def _child(fn: Callable, job: object, send) -> None:
    ignore_interrupt()
    try:
        out = (True, fn(job))
    except Exception as e:  # noqa: BLE001  (handed to the parent, which raises it)
        out = (False, e)
    send.send_bytes(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))
    send.close()


def spare_cores() -> int:
    """Cores this process may use for helpers: none inside a worker (its parent already spreads the work)."""
    if multiprocessing.parent_process() is not None:
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
