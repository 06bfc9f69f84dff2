"""Killed builds (issue 16, item 6 and the soak): ``kill -9`` and SIGTERM of a ``--format all`` build and of a
``--jobs 2`` build, at random moments.

After each kill: every output file that exists is the previous good one (byte for byte: builds are
deterministic), no process of the build is alive 5 s later (PDF and issue workers die with their parent:
``PR_SET_PDEATHSIG``), and after SIGTERM no temporary file is left (it stops as cleanly as Ctrl-C: exit 143,
one line). After ``kill -9`` the temporary files can only go at the next build, which removes them under the
folder's lock. Before: two PDF workers (430 MB) were still alive 90 s after the kill.
"""
from __future__ import annotations

import hashlib
import os
import pty
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

DAY = "2022-01-05"


def _site(root: Path) -> Path:
    site = root / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: Soak\nurl: https://example.org\n")
    for d in ("04", "05"):
        for i in range(8):
            (site / "_posts" / f"2022-01-{d}-p{i}.md").write_text(
                f"---\ntitle: Post {d}-{i}\ndate: 2022-01-{d} 1{i}:00:00\ncategories: [c{i % 3}]\n---\n\n"
                + ("A paragraph of text for the soak. " * 60 + "\n\n") * 6)
    return site


def _args(site: Path, out: Path, jobs: bool) -> list[str]:
    dates = ["--from", "2022-01-04", "--to", DAY, "--jobs", "2"] if jobs else ["--date", DAY]
    return [sys.executable, "-m", "digest", "build", str(site), *dates, "-f", "all", "-o", str(out), "--force",
            "--allow-missing-fonts"]


def _outputs(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*"))
            if p.is_file() and not p.name.startswith(".") and ".digest" not in p.parts}


def _temp(out: Path) -> list[str]:
    return [str(p) for p in out.rglob(".*") if ".tmp" in p.name or p.name.startswith(".pikepdf")]


def _group(pgid: int) -> list[str]:
    ps = subprocess.run(["ps", "-eo", "pid=,pgid=,stat=,args="], capture_output=True, text=True).stdout
    return [line for line in ps.splitlines() if line.split()[1] == str(pgid) and not line.split()[2].startswith("Z")]


def _start(cmd: list[str], tty: bool) -> subprocess.Popen[bytes]:
    if not tty:
        return subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    primary, secondary = pty.openpty()  # stderr a terminal: the spinner thread, so workers come from a fork server
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=secondary, stderr=secondary)
    os.close(secondary)
    proc.pty = primary  # type: ignore[attr-defined]
    return proc


def _finish(proc: subprocess.Popen[bytes]) -> str:
    if getattr(proc, "pty", None) is None:
        _out, err = proc.communicate(timeout=120)
        return err.decode(errors="replace")
    chunks = []
    deadline = time.monotonic() + 120  # an orphan holding the terminal would keep it open: the group check says
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.pty], [], [], 1.0)  # type: ignore[attr-defined]
        if not ready:
            if proc.poll() is not None and not _group(proc.pid):
                break
            continue
        try:
            data = os.read(proc.pty, 65536)  # type: ignore[attr-defined]
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(proc.pty)  # type: ignore[attr-defined]
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
def test_random_kills_and_terms_leave_good_outputs_no_temp_files_and_no_process(tmp_path: Path) -> None:
    site = _site(tmp_path)
    out = tmp_path / "out"
    first = subprocess.run(_args(site, out, jobs=True), capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    reference = _outputs(out)
    assert any(k.endswith(".pdf") for k in reference) and any(k.endswith(".epub") for k in reference)
    rng = random.Random(16)
    plan = [(signal.SIGKILL, False, False), (signal.SIGTERM, False, False), (signal.SIGKILL, True, False),
            (signal.SIGTERM, True, False), (signal.SIGTERM, True, True), (signal.SIGKILL, True, True)]
    plan += [(rng.choice([signal.SIGKILL, signal.SIGTERM]), rng.random() < 0.5, False) for _ in range(4)]
    for sig, jobs, tty in plan:
        proc = _start(_args(site, out, jobs), tty)
        time.sleep(rng.uniform(0.5, 4.0))
        os.kill(proc.pid, sig)
        err = _finish(proc)
        deadline = time.monotonic() + 5
        while _group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _group(proc.pid) == [], (sig, jobs, tty, _group(proc.pid))
        now = _outputs(out)
        assert all(reference.get(k) == v for k, v in now.items()), (sig, jobs, tty)
        if sig == signal.SIGTERM:
            # 0: it finished before the signal came; -15: it came before Python had started digest (nothing to
            # clean up yet); else the clean stop, as after Ctrl-C
            assert proc.returncode in (0, -signal.SIGTERM, 128 + signal.SIGTERM), (proc.returncode, err[-2000:])
            if proc.returncode == 128 + signal.SIGTERM:
                assert "digest: terminated" in err and "Traceback" not in err, err[-2000:]
            assert _temp(out) == [], (jobs, tty)
    last = subprocess.run(_args(site, out, jobs=True), capture_output=True, text=True, timeout=600)
    assert last.returncode == 0, last.stderr
    assert _outputs(out) == reference
    assert _temp(out) == []
