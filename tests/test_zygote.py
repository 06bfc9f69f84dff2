"""The zygote (``digest.runtime.zygote``): the process heavy workers are forked from, started early. Ctrl-C
while it is still importing prints nothing from it, and it ends with the process that started it — on
Ctrl-C or ``kill -9`` — at once, not when its imports are done; whether it is a fork of that process or,
with a spinner thread running, a new interpreter."""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one core: no zygote")

SLOW = """
from digest.runtime import zygote

zygote.preloading()
import time
from pathlib import Path

Path(__file__).with_suffix(".importing").touch()
time.sleep(30)  # an import that takes long (WeasyPrint's takes 0.2-0.4 s)
"""
MAIN = """
import sys, threading, time
from digest.runtime import zygote

if sys.argv[1] == "spinner":  # a thread running: forking is unsafe, the server is a new interpreter
    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()

assert zygote.start(["slow_preload"]) is not None
print("started", flush=True)
time.sleep(30)
"""


@pytest.fixture
def adopting():
    """Orphans come to this process (a subreaper) instead of init, and are killed here when left: an init
    that kills what it adopts would hide a zygote left running."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_child_subreaper = 36
    libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0)
    adopted: list[int] = []
    yield adopted
    libc.prctl(pr_set_child_subreaper, 0, 0, 0, 0)
    for pid in adopted:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _group(pgid: int) -> list[str]:
    ps = subprocess.run(["ps", "-ww", "-eo", "pid=,pgid=,stat=,args="], capture_output=True, text=True).stdout
    return [line for line in ps.splitlines() if line.split()[1] == str(pgid) and not line.split()[2].startswith("Z")]


def _started(tmp_path: Path, adopted: list[int], how: str) -> subprocess.Popen[str]:
    (tmp_path / "slow_preload.py").write_text(SLOW)
    # (the server finds its preload on the PYTHONPATH it inherits: Python 3.11's ignores this one's sys.path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", MAIN, how], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, text=True, env=env)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
    deadline = time.monotonic() + 20
    while not (tmp_path / "slow_preload.importing").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (tmp_path / "slow_preload.importing").exists()  # the server is importing
    assert len(_group(proc.pid)) == 3  # this process, the server, its resource tracker
    assert sum("multiprocessing.forkserver" in line for line in _group(proc.pid)) == (how == "spinner")
    adopted.extend(int(line.split()[0]) for line in _group(proc.pid) if int(line.split()[0]) != proc.pid)
    return proc


def _gone(pgid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _group(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _group(pgid)


@pytest.mark.parametrize("how", ["fork", "spinner"])
def test_ctrl_c_while_the_zygote_imports_prints_only_the_parents_interruption(tmp_path, adopting, how):
    proc = _started(tmp_path, adopting, how)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole process group
    _, err = proc.communicate(timeout=10)
    assert proc.returncode != 0 and err.count("Traceback") == 1 and "KeyboardInterrupt" in err  # the parent's own
    assert "slow_preload" not in err
    assert _gone(proc.pid, 3)  # its import would take 30 s


@pytest.mark.parametrize("how", ["fork", "spinner"])
def test_the_zygote_dies_with_its_parent_even_on_kill_9(tmp_path, adopting, how):
    proc = _started(tmp_path, adopting, how)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)
    assert _gone(proc.pid, 3)
