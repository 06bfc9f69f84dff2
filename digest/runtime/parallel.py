"""The one place that decides whether and how work is shared out over processes.

Stages hand this module pure functions and the work; it decides from the amount of work, the free cores
and whether forking is safe here:

* :func:`share_out` — many small items (post files to index, posts to read or render): contiguous shares,
  this process takes the first and forked children the rest; results joined in order.
* :func:`run_jobs` / :func:`workers` — a few heavy independent jobs (issues of a back-fill, PDF chunks): a
  process pool. Results come back in the jobs' order, whatever order they finish in.
* :func:`alongside` — one task run in a forked child while this process goes on (drawing a cover).
* :func:`.zygote.start` — a process started early that imports what heavy workers need (WeasyPrint) while
  this one goes on; those workers are then forked from it (``ctx`` here), and this process never imports it.

``fork`` is instant and the children inherit every module already imported, but forking a process that
runs other threads (a progress spinner) could copy a lock mid-use; there a fork server with the needed
modules preloaded is used, else ``spawn``; work that only pays with an instant start then runs here.
Workers ignore Ctrl-C (the parent stops them) and die with their parent.
"""
from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:  # multiprocessing itself is imported only when work is shared out (a cached build never is)
    from concurrent.futures import Executor, Future
    from multiprocessing.connection import Connection
    from multiprocessing.context import BaseContext

T = TypeVar("T")
R = TypeVar("R")
MAX_SHARES = 8


@dataclass(frozen=True)
class Cost:
    """How much one item costs, as the thresholds at which sharing it out pays."""

    fork_from: int  # items before forked children (an instant start) pay
    pool_from: int | None = None  # items before a pool of any start method pays (None: never)
    round: int | None = None  # items shared out at once, at most (their results come back in bounded pieces)
    # whether this process takes a share too (False: every share in a forked child, so what the work leaves
    # behind, its caches and the holes of its garbage, never grows the process that keeps the results)
    here: bool = True


HEAD = Cost(fork_from=1024, pool_from=4000)  # reading the head of a post file (~50 µs: a fork pays past ~1,000)
POST = Cost(fork_from=64, round=512, here=False)  # reading, parsing or rendering a whole post: a month goes in rounds
# an issue's editions written side by side (one in a forked child) past this many posts: a day of a few
# hundred writes its web page in a tenth of a second, a month's takes 4 s beside its EPUB's 8
EDITIONS = Cost(fork_from=1000)


def spare_cores() -> int:
    """Cores this process may use: one inside a worker (its parent already spreads the work)."""
    mp = sys.modules.get("multiprocessing")  # not imported yet: this process started no workers, is none
    if mp is not None and mp.parent_process() is not None:
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _context(preload: Iterable[str] = (), *, fork_only: bool = False) -> BaseContext | None:
    """A multiprocessing context, or ``None`` when ``fork_only`` and forking is not safe here."""
    import multiprocessing

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


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def worker_start() -> None:
    """In a worker: Ctrl-C goes to the whole process group; only the parent acts on it (it says so on one
    line and stops the workers). A worker stopped halfway through sending its result would leave the pool
    waiting for the rest forever, and would print a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    _watch_parent()


def _watch_parent() -> None:
    """End this worker when the process that asked for it ends, whoever forked it.

    ``PR_SET_PDEATHSIG`` watches the process that forked the worker. From a fork server that is the server,
    and the server lives as long as any of its workers holds its "alive" pipe: after ``kill -9`` of the build,
    worker and server kept each other alive for ever (and the worker, holding both ends of its job queue,
    waited for ever). multiprocessing gives every worker a sentinel that the *asking* process holds open:
    a thread waits on it and ends the worker the moment it closes."""
    import multiprocessing

    parent = multiprocessing.parent_process()
    sentinel = getattr(parent, "sentinel", None) if parent is not None else None
    if sentinel is None:
        return

    def watch() -> None:
        from multiprocessing.connection import wait

        wait([sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="digest-parent-watch", daemon=True).start()


def _die_with_parent() -> None:
    """Linux: the kernel sends SIGKILL to this worker when its parent dies (even by ``kill -9``)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent died before the call above
        os._exit(1)


def workers(count: int, preload: Iterable[str] = (), ctx: BaseContext | None = None) -> Executor | None:
    """A process pool of ``count`` workers for heavy jobs (``None`` when fewer than two are worth it), forked
    from ``ctx`` (a :func:`.zygote.start`) when given."""
    if count < 2:
        return None
    ctx = ctx or _context(preload)
    assert ctx is not None  # not fork-only: some context always exists
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=count, mp_context=ctx, initializer=worker_start)


def run_jobs(fn: Callable[[T], R], jobs: Sequence[T], count: int, preload: Iterable[str] = ()) -> Iterator[R]:
    """``fn`` over ``jobs`` on up to ``count`` workers (here, one by one, when one is enough), in order."""
    pool = workers(min(count, len(jobs)), preload)
    if pool is None:
        yield from map(fn, jobs)
        return
    with closing(pool):
        with held_signals():  # a worker half started by a fork server would print a traceback
            results = pool.map(fn, jobs)
        yield from results


def submit(pool: Executor, fn: Callable[[T], R], arg: T) -> Future[R]:
    """``pool.submit`` with Ctrl-C and SIGTERM held until it returns (it may start a worker)."""
    with held_signals():
        return pool.submit(fn, arg)


@contextmanager
def held_signals() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done, then act (main thread only; elsewhere a no-op).

    Starting a worker from a fork server is a hand-over: interrupted halfway, the new worker looks for the
    pool's semaphores after they are gone and prints a traceback. Held, the signal comes a moment later."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[signal.Signals] = []
    old = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in old:
        signal.signal(sig, lambda signum, _frame: held.append(signal.Signals(signum)))
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    for signum in held[:1]:
        handler = old[signum]
        if callable(handler):
            handler(signum, None)
        elif handler == signal.SIG_DFL:
            signal.raise_signal(signum)


@contextmanager
def closing(pool: Executor | None) -> Iterator[Executor | None]:
    """Shut ``pool`` down when done; if the block fails or is interrupted (Ctrl-C, SIGTERM), kill its workers
    first instead of waiting for the jobs they are on (a PDF chunk can take a minute)."""
    try:
        yield pool
    except BaseException:
        if pool is not None:
            stop_workers(pool)
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def stop_workers(pool: Executor) -> None:
    """Kill a process pool's workers now (the executor keeps them in ``_processes``; no public way in 3.11)."""
    procs = getattr(pool, "_processes", None) or {}
    for proc in list(procs.values()):
        with suppress(Exception):
            proc.kill()


class Background(Generic[R]):
    """``fn(arg)`` running in a forked child (of this process, or of ``ctx``, a :func:`.zygote.start`: ``fn``
    and ``arg`` then pickled); :meth:`result` waits for it (a child's exception is raised here), :meth:`cancel`
    kills it. Made by :func:`alongside` only where forking is safe."""

    def __init__(self, fn: Callable[[T], R], arg: T, ctx: BaseContext | None = None):
        import multiprocessing

        ctx = ctx or multiprocessing.get_context("fork")
        self._recv, send = ctx.Pipe(duplex=False)
        self._child = ctx.Process(target=_child, args=(fn, arg, send), daemon=True)  # type: ignore[attr-defined]
        with held_signals():  # (from a fork server, a hand-over: see held_signals)
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
            return value  # type: ignore[no-any-return]
        finally:
            self.cancel()

    def cancel(self) -> None:
        """Stop the child (if still running) and release it; idempotent."""
        if self._child.is_alive():
            self._child.kill()
        self._child.join()
        self._recv.close()


def alongside(fn: Callable[[T], R], arg: T, ctx: BaseContext | None = None) -> Background[R] | None:
    """``fn(arg)`` started in a child forked from ``ctx`` (a :func:`.zygote.start`) when given, else from this
    process when a spare core and a safe fork allow it, else ``None`` (the caller then runs it itself when it
    needs the result)."""
    if ctx is not None:
        return Background(fn, arg, ctx)
    if spare_cores() > 1 and can_fork():
        return Background(fn, arg)
    return None


def fork_map(fn: Callable[[T], R], jobs: Sequence[T], *, here: bool = True) -> list[R]:
    """``[fn(job) for job in jobs]``: this process runs the first job (unless not ``here``) while forked
    children run the rest. If this process is interrupted or fails, the children are killed before the
    exception goes on."""
    children: list[Background[R]] = []
    mine = 1 if here else 0
    try:
        children.extend(Background(fn, job) for job in jobs[mine:])
        results = [fn(job) for job in jobs[:mine]]
        return results + [child.result() for child in children]
    finally:
        for child in children:
            child.cancel()


def share_out(fn: Callable[[list[T]], list[R]], items: list[T], cost: Cost,
              preload: Iterable[str] = ()) -> list[R]:
    """``fn(items)``, computed in contiguous shares on the free cores when there are enough items to pay
    for it; the same results, in the same order, either way."""
    return [got for part in rounds(fn, items, cost, preload) for got in part]


def rounds(fn: Callable[[list[T]], list[R]], items: list[T], cost: Cost,
           preload: Iterable[str] = ()) -> Iterator[list[R]]:
    """:func:`share_out` one round (``cost.round`` items) at a time: what the children return is never a month
    of posts at once, and the caller can put each round's results away (on disk) before the next is made.
    When every share of a round goes to a forked child (``cost.here`` False), the next round's children are
    started before this round is handed over: the caller puts it away while they work, not in between."""
    step = cost.round or max(1, len(items))
    return _ahead(fn, (items[i : i + step] for i in range(0, len(items), step)), cost, tuple(preload))


def drain(fn: Callable[[list[T]], list[R]], items: list[T], cost: Cost,
          preload: Iterable[str] = ()) -> Iterator[list[R]]:
    """:func:`rounds` that takes the items: each round's leave ``items`` before they are computed, so what they
    hold (a post's Markdown) is freed as soon as their round is done, not when the last one is."""
    step = cost.round or max(1, len(items))

    def taken() -> Iterator[list[T]]:
        while items:
            chunk = items[:step]
            del items[:step]
            yield chunk

    return _ahead(fn, taken(), cost, tuple(preload))


def _ahead(fn: Callable[[list[T]], list[R]], chunks: Iterator[list[T]], cost: Cost,
           preload: tuple[str, ...]) -> Iterator[list[R]]:
    """Each chunk's results in order, the next chunk's round started before one is handed over (at most two
    rounds under way: the memory of one more round's results)."""
    waiting: _Round[R] | None = None
    try:
        for chunk in chunks:
            done, waiting = waiting, _Round(fn, chunk, cost, preload)
            del chunk
            if done is not None:
                yield done.result()
        if waiting is not None:
            done, waiting = waiting, None
            yield done.result()
    finally:
        if waiting is not None:  # the caller stopped or failed: its children are not left running
            waiting.cancel()


class _Round(Generic[R]):
    """One round of :func:`rounds`: when every share goes to a forked child, its children start now; else it
    is computed (as :func:`share_out` would) when its result is asked for."""

    def __init__(self, fn: Callable[[list[T]], list[R]], items: list[T], cost: Cost, preload: tuple[str, ...]):
        parts = None if cost.here else _forked_parts(items, cost)
        self._later: Callable[[], list[R]] | None = None
        self._children: list[Background[list[R]]] = []
        if parts is None:
            self._later = partial(_share, fn, items, cost, preload)
            return
        try:
            self._children.extend(Background(fn, part) for part in parts)
        except BaseException:
            self.cancel()
            raise

    def result(self) -> list[R]:
        if self._later is not None:
            return self._later()
        try:
            return [got for child in self._children for got in child.result()]
        finally:
            self.cancel()

    def cancel(self) -> None:
        for child in self._children:
            child.cancel()


def _forked_parts(items: list[T], cost: Cost) -> list[list[T]] | None:
    """The shares of ``items`` for forked children, or None when forking does not pay or is not safe here."""
    cores = min(spare_cores(), MAX_SHARES)
    if cores < 2 or len(items) < cost.fork_from or not can_fork():
        return None
    shares = min(cores, len(items) // max(1, cost.fork_from // 2))
    size = -(-len(items) // shares)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _share(fn: Callable[[list[T]], list[R]], items: list[T], cost: Cost, preload: Iterable[str]) -> list[R]:
    cores = min(spare_cores(), MAX_SHARES)
    if cores < 2 or len(items) < cost.fork_from:
        return fn(items)
    parts = _forked_parts(items, cost)
    if parts is not None:
        return [got for part in fork_map(fn, parts, here=cost.here) for got in part]
    if cost.pool_from is None or len(items) < cost.pool_from:
        return fn(items)
    size = max(500, len(items) // (cores * 4))  # many small chunks, so the workers end together
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    return [got for part in run_jobs(fn, chunks, cores, preload) for got in part]


def _child(fn: Callable[[Any], Any], arg: object, send: Connection) -> None:
    worker_start()
    try:
        out = (True, fn(arg))
    except Exception as e:
        out = (False, e)
    send.send_bytes(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))
    send.close()
