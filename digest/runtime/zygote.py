"""The process heavy workers are forked from: started early, it imports what they need on another core.

A PDF's layouts need WeasyPrint, whose import is ~0.2–0.4 s (cffi parsing its C declarations). Imported by
the build's own process just before the layouts are forked, it was on the path of every PDF build: in the
rebuild after one new article, a sixth of the time. A build that will write such an edition starts this
process as soon as it knows an issue must be written (``Edition.forks``); it imports the modules while the
build collects the issue, and the workers — the front matter's child, the new article's, a cold build's
pool — are forked from it, ready. The build's own process then never imports them.

It is Python's fork server (``multiprocessing.forkserver``, with its preload): the maintained mechanism,
the one :mod:`.parallel` already falls back on where forking this process is unsafe (a spinner thread).
Its workers watch the process that asked for them and die with it (:func:`.parallel.worker_start`).
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from digest.runtime.parallel import _die_with_parent, spare_cores

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext


def start(preload: Sequence[str]) -> BaseContext | None:
    """The context of a fork server that imports ``preload`` in its own process, started now (once: later
    calls find it running, whatever it preloaded), or ``None`` without a spare core or a fork server here.

    Ctrl-C is blocked while it starts: it inherits that, and ignores Ctrl-C once its imports are done (an
    import interrupted would print a traceback); here a Ctrl-C meanwhile comes a moment later."""
    if spare_cores() < 2:
        return None
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    from multiprocessing import forkserver, resource_tracker

    ctx = multiprocessing.get_context("forkserver")
    # (``__main__`` too, as by default: where Python gives the server the main script's path — 3.11 does not —
    # its workers do not each run that script again; the preload is found on the inherited PYTHONPATH)
    ctx.set_forkserver_preload(["__main__", *preload])
    resource_tracker.ensure_running()  # (first: starting it unblocks Ctrl-C, ours would be undone)
    blocked = threading.current_thread() is threading.main_thread()
    if blocked:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        forkserver.ensure_running()
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    return ctx


def preloading() -> None:
    """Called in the fork server by the first module it preloads: the server ends with the process that
    started it, even killed by ``kill -9``, and its workers with it (each dies with its parent, the server),
    instead of importing on until it would see that. (Ctrl-C: blocked since it started, see :func:`start`.)"""
    _die_with_parent()
