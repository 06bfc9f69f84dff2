"""digest.parallel: worker processes that give the same results, pass errors on, and leave nothing behind."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from digest.runtime import parallel


def _square_or_fail(n: int) -> int:
    if n < 0:
        raise ValueError(f"negative: {n}")
    return n * n


def _pid(_: object) -> int:
    return os.getpid()


def test_fork_map_runs_the_first_job_here_and_the_rest_in_children():
    assert parallel.fork_map(_square_or_fail, [1, 2, 3, 4]) == [1, 4, 9, 16]
    pids = parallel.fork_map(_pid, range(3))
    assert pids[0] == os.getpid() and len(set(pids)) == 3


def test_fork_map_can_leave_every_job_to_children():
    """Posts are rendered only in children (parallel.POST): the process keeping a huge day's results does
    not also grow by what rendering leaves behind."""
    pids = parallel.fork_map(_pid, range(3), here=False)
    assert os.getpid() not in pids and len(set(pids)) == 3
    assert parallel.fork_map(_square_or_fail, [3, 4], here=False) == [9, 16]
    assert not parallel.POST.here


def test_fork_map_raises_a_childs_error_here():
    with pytest.raises(ValueError, match="negative: -2"):
        parallel.fork_map(_square_or_fail, [1, -2, 3])


def test_a_worker_inside_a_worker_has_no_spare_cores():
    assert parallel.fork_map(lambda _: parallel.spare_cores(), [None, None])[1] == 1


SLOW_BUILD = """
import sys, time
from digest.runtime import parallel
def slow(n):
    time.sleep(30 if n else 0.2)  # the children outlive the parent's own share
    return n
print("started", flush=True)
parallel.fork_map(slow, [0, 1, 2])
"""


def test_ctrl_c_stops_parent_and_children_at_once_without_tracebacks():
    proc = subprocess.Popen([sys.executable, "-c", SLOW_BUILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, text=True)
    assert proc.stdout.readline().strip() == "started"
    time.sleep(0.5)
    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert len(children) == 2
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole process group
    _, err = proc.communicate(timeout=10)
    assert proc.returncode != 0 and err.count("Traceback") == 1 and "KeyboardInterrupt" in err  # the parent's only
    for pid in children:
        assert not os.path.exists(f"/proc/{pid}") or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def _pids_of(items: list[int]) -> list[tuple[int, int]]:
    return [(n * n, os.getpid()) for n in items]


def test_rounds_start_the_next_round_before_handing_one_over(monkeypatch):
    """Every share in a forked child: round k+1's children work while the caller puts round k away."""
    started: list[int] = []

    class Forked(parallel.Background):
        def __init__(self, fn, arg):
            started.append(arg[0])
            super().__init__(fn, arg)

    monkeypatch.setattr(parallel, "Background", Forked)
    monkeypatch.setattr(parallel, "spare_cores", lambda: 2)
    cost = parallel.Cost(fork_from=4, round=10, here=False)
    items = list(range(35))
    seen = []
    for part in parallel.drain(_pids_of, items, cost):
        seen.append((len(started), part))
    assert not items  # taken
    assert [n for _, part in seen for n, _ in part] == [n * n for n in range(35)]  # in order
    assert all(pid != os.getpid() for _, part in seen for _, pid in part)  # every share in a child
    assert [count for count, _ in seen[:3]] == [4, 6, 8]  # round k+1's two children started before round k came
    assert [n for part in parallel.rounds(_pids_of, list(range(7)), cost) for n, _ in part] == [0, 1, 4, 9, 16, 25, 36]


def test_a_caller_that_stops_early_leaves_no_round_running(monkeypatch):
    made: list[parallel.Background] = []

    class Forked(parallel.Background):
        def __init__(self, fn, arg):
            super().__init__(fn, arg)
            made.append(self)

    monkeypatch.setattr(parallel, "Background", Forked)
    monkeypatch.setattr(parallel, "spare_cores", lambda: 2)
    got = parallel.rounds(_pids_of, list(range(40)), parallel.Cost(fork_from=4, round=10, here=False))
    next(got)
    got.close()
    assert len(made) == 4 and all(not child._child.is_alive() for child in made)
