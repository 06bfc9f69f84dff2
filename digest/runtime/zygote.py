"""The process heavy workers are forked from: started early, it imports what they need on another core.

A PDF's layouts need WeasyPrint, whose import is ~0.2 s (cffi parsing its C declarations). Imported by the
build's own process just before the layouts are forked, it was on the path of every PDF build: in the
rebuild after one new article, an eighth of the time. A build that will write such an edition starts this
process as soon as it knows an issue must be written (``Edition.forks``); it imports the modules while the
build collects the issue, and the workers — the front matter's child, the new article's, a cold build's
pool — are forked from it, ready. The build's own process then never imports them.

It is Python's fork server (``multiprocessing.forkserver``: its server loop, its protocol, the pool and
processes made from its context). Started the usual way, it is a new interpreter that must import Python,
digest's own modules (~0.15 s: the settings' pydantic models, which a job's records live beside) and then
WeasyPrint — ready ~0.4 s after it starts, no sooner than this process would have imported WeasyPrint
itself — and Python 3.11's does not get the main script's path, so each worker runs that script again.
Where this process may fork (no other thread), the server is therefore a fork of this process, which
already holds everything but the preload: it imports WeasyPrint alone, and its workers find ``__main__``
in place. That needs three of the fork server's private attributes (:func:`_forkable` checks them and the
server's signature; elsewhere, or with a spinner thread running, it is started the usual way).
Its workers watch the process that asked for them and die with it (:func:`.parallel.worker_start`).
"""
from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING

from digest.runtime.parallel import _die_with_parent, can_fork, spare_cores

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

_SERVER = ("_forkserver_address", "_forkserver_alive_fd", "_forkserver_pid")  # what a started server sets


def start(preload: Sequence[str]) -> BaseContext | None:
    """The context of a fork server that imports ``preload`` in its own process, started now (once: later
    calls find it running, whatever it preloaded), or ``None`` without a spare core or a fork server here."""
    if spare_cores() < 2:
        return None
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    from multiprocessing import forkserver, resource_tracker

    ctx = multiprocessing.get_context("forkserver")
    # (``__main__`` too, as by default: where Python gives the server the main script's path — 3.11 does not —
    # its workers do not each run that script again; the preload is found on the inherited PYTHONPATH)
    modules = ["__main__", *preload]
    ctx.set_forkserver_preload(modules)
    resource_tracker.ensure_running()  # (first: starting it unblocks Ctrl-C, ours would be undone)
    with _ctrl_c_blocked():
        if getattr(forkserver._forkserver, "_forkserver_pid", 0) is None and can_fork() and _forkable(forkserver):
            _fork_server(forkserver, modules)
        else:
            forkserver.ensure_running()
    return ctx


@contextmanager
def _ctrl_c_blocked() -> Iterator[None]:
    """Ctrl-C blocked while the server starts: it inherits that, and ignores Ctrl-C once its imports are done
    (an import interrupted would print a traceback); here a Ctrl-C meanwhile comes a moment later."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _forkable(forkserver: ModuleType) -> bool:
    """Whether this Python's fork server can be started as a fork: its server loop takes the listening socket,
    the "alive" pipe and the preload (no authentication key), and its client keeps them where we set them."""
    import inspect

    server = getattr(forkserver, "_forkserver", None)
    params = list(inspect.signature(forkserver.main).parameters)
    return (server is not None and all(hasattr(server, name) for name in _SERVER)
            and params[:3] == ["listener_fd", "alive_r", "preload"]
            and not any("auth" in name for name in [*params, *vars(server)]))


def _fork_server(forkserver: ModuleType, preload: list[str]) -> None:
    """What ``forkserver.ensure_running`` does, with a fork of this process for the server instead of a new
    interpreter: a listening socket the clients connect to, an "alive" pipe whose end tells it to stop."""
    from multiprocessing import connection

    # (a file in multiprocessing's temporary folder, as the fork server's own)
    address = connection.arbitrary_address("AF_UNIX")  # type: ignore[attr-defined]
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(address)
        os.chmod(address, 0o600)
        listener.listen()
        alive_r, alive_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the server: it ends with os._exit)
            _serve(forkserver, listener.fileno(), alive_r, alive_w, preload)
        os.close(alive_r)
    server = forkserver._forkserver
    server._forkserver_address, server._forkserver_alive_fd, server._forkserver_pid = address, alive_w, pid


def _serve(forkserver: ModuleType, listener: int, alive_r: int, alive_w: int, preload: list[str]) -> None:
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # (blocked until now: see _ctrl_c_blocked)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # (not the build's handler: it would act as the build)
        _die_with_parent()
        os.close(alive_w)
        forkserver.main(listener, alive_r, preload)
    except SystemExit:  # the build ended: the "alive" pipe closed
        code = 0
    except BaseException:  # (nothing to print: the build's workers report their own errors, it its own)
        pass
    finally:
        os._exit(code)


def preloading() -> None:
    """Called in the fork server by the first module it preloads: the server ends with the process that
    started it, even killed by ``kill -9``, and its workers with it (each dies with its parent, the server),
    instead of importing on until it would see that."""
    _die_with_parent()
