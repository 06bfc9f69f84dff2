"""The memory tests measure the build's own peak RSS, not the test process's. Linux keeps a process's peak
across exec and starts a child with its parent's, so a build started straight from a test process that has
grown reports that process's peak; started by :func:`conftest.from_small_parent`, it reports its own."""
from __future__ import annotations

import os
import resource
import subprocess
import sys

from conftest import children_peak_mb, from_small_parent

GROWN_MB = 300
SMALL_CHILD = [sys.executable, "-c", "x = bytearray(20 << 20)"]


def _own_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_small_parent_keeps_a_big_test_process_out_of_the_build_s_peak():
    grown = bytearray(GROWN_MB << 20)
    for i in range(0, len(grown), 4096):  # touched: resident
        grown[i] = 1
    assert _own_peak_mb() > GROWN_MB
    direct = subprocess.Popen(SMALL_CHILD)
    _, status, usage = os.wait4(direct.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert usage.ru_maxrss / 1024 > GROWN_MB  # the quirk: a 20 MB child reports this process's peak
    run = subprocess.run(from_small_parent(SMALL_CHILD), capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert 20 < children_peak_mb(run.stderr) < 80  # its own: 20 MB and Python
    self_report = subprocess.run(from_small_parent([
        sys.executable, "-c", "import resource; x = bytearray(20 << 20); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"]), capture_output=True, text=True, timeout=60)
    assert 20 < int(self_report.stdout) / 1024 < 80
    del grown
