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
from typing import TYPE_CHECKING, Callable, Iterable, Sequence, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Executor

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


class Forked:
    """``fn(arg)`` running in a forked child from now on; :meth:`result` waits for it (a child's exception
    is raised here), :meth:`cancel` kills it. Only where forking is safe (``context(fork_only=True)``)."""

    def __init__(self, fn: Callable[[T], R], arg: T):
        ctx = multiprocessing.get_context("fork")
        self._recv, send = ctx.Pipe(duplex=False)
        self._child = ctx.Process(target=_child, args=(fn, arg, send), daemon=True)
        self._child.start()
        send.close()  # the child holds the only writing end: its end, even a crash, reads as EOF here

    def result(self) -> R:
        try:
            try:
                ok, value = pickle.loads(self._recv.recv_bytes())
            except EOFError:
                self._child.join()
                raise RuntimeError(f"a worker process ended without a result (exit status {self._child.exitcode})"
                                   ) from None
            if not ok:
                raise value
            return value
        finally:
            self.cancel()

    def cancel(self) -> None:
        """Stop the child (if still running) and release it; idempotent."""
        if self._child.is_alive():
            self._child.kill()
        self._child.join()
        self._recv.close()


def fork_map(fn: Callable[[T], R], jobs: Sequence[T]) -> list[R]:
    """``[fn(job) for job in jobs]``: this process runs the first job while forked children run the rest.

    For short CPU work whose start must be instant. Only when forking is safe (``context(fork_only=True)``
    is not None). A child's exception is raised here; if this process is interrupted or fails, the
    children are killed before the exception goes on, so nothing is left running or half-read."""
    children: list[Forked] = []
    try:
        children.extend(Forked(fn, job) for job in jobs[1:])
        results = [fn(jobs[0])] if jobs else []
        return results + [child.result() for child in children]
    finally:
        for child in children:
            child.cancel()


def map_shares(fn: Callable[[list[T]], list[R]], items: list[T], *, at_least: int) -> list[R]:
    """``fn(items)``, or when there are ``at_least`` items, free cores and forking is safe, ``fn`` over one
    contiguous share per core (this process takes the first, forked children the rest), joined in order."""
    shares = min(spare_cores(), 8, len(items) // max(1, at_least // 2))
    if len(items) < at_least or shares < 2 or context(fork_only=True) is None:
        return fn(items)
    size = -(-len(items) // shares)
    return [got for share in fork_map(fn, [items[i : i + size] for i in range(0, len(items), size)]) for got in share]


def _child(fn: Callable, arg: object, send) -> None:
    ignore_interrupt()  # the parent stops this process when it is interrupted
    try:
        out = (True, fn(arg))
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
