"""Measuring helpers shared by the benchmark modules: wall time and peak memory of a child process."""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAKE_SITE = ROOT / "benchmarks" / "make_site.py"  # a copy of ../shared/tools/make_site.py
SOURCE = ROOT / "examples" / "finews"  # the real posts it grows sites from
PYTHON = sys.executable


@dataclass
class Run:
    seconds: float
    peak_mb: float
    returncode: int


@dataclass
class Child:
    """What one measured child did: wall time, CPU (its own and its waited-for workers'), peak RSS."""

    seconds: float
    cpu: float
    peak_mb: float
    returncode: int
    stopped: bool = False  # killed at its time limit, unfinished


# Linux keeps a process's peak RSS across exec, and a child starts with its parent's: a child of this process
# reports this process's own peak whenever it is the larger (the month's rows left it at ~200 MB, and every row
# after it read 196 MB). So children are started by a small launcher, exec'ed once with nothing loaded.
_LAUNCHER = r"""
import json, os, subprocess, sys, threading, time
for line in sys.stdin:
    job = json.loads(line)
    t0 = time.perf_counter()  # (a loud child's output goes to stderr: stdout is this launcher's answer)
    proc = subprocess.Popen(job["cmd"], cwd=job["cwd"], env=job["env"],
                            stdout=sys.stderr if job["loud"] else subprocess.DEVNULL,
                            stderr=None if job["loud"] else subprocess.DEVNULL)
    timer = threading.Timer(job["limit"], proc.kill) if job["limit"] else None
    if timer:
        timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    stopped = timer is not None and not timer.is_alive() and os.waitstatus_to_exitcode(status) == -9
    if timer:
        timer.cancel()
    print(json.dumps([seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
                      os.waitstatus_to_exitcode(status), stopped]), flush=True)
"""
_launcher: list[subprocess.Popen] = []


# A command whose processes may outlive their parent (digest's PDF layouts are forked from a zygote, which the
# build's process never waits for: wait4 on the build would miss their CPU) runs under this wrapper: a child
# subreaper, so every descendant is reparented to it and reaped by it, and the CPU wait4 reports for the wrapper
# is the whole tree's. It ends when the last of them has ended, with the command's exit status.
SUBREAPER = [PYTHON, "-S", "-c", r"""
import ctypes, os, signal, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status = os.waitpid(pid, 0)
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""]


def run_child(cmd: list[str], *, cwd: Path | None = None, env: dict | None = None, limit: float | None = None,
              quiet: bool = True) -> Child:
    """Run ``cmd`` from the launcher: its wall time, CPU and its own peak RSS (wait4), stopped after ``limit``."""
    if not _launcher or _launcher[0].poll() is not None:
        _launcher[:] = [subprocess.Popen([PYTHON, "-S", "-c", _LAUNCHER], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True)]
    proc = _launcher[0]
    assert proc.stdin is not None and proc.stdout is not None
    job = {"cmd": [str(c) for c in cmd], "cwd": str(cwd) if cwd else None, "env": {**os.environ, **(env or {})},
           "limit": limit, "loud": not quiet}
    proc.stdin.write(json.dumps(job) + "\n")
    proc.stdin.flush()
    seconds, cpu, peak, code, stopped = json.loads(proc.stdout.readline())
    return Child(seconds, cpu, peak, code, stopped)


def measure(cmd: list[str], *, cwd: Path | None = None, env: dict | None = None, quiet: bool = True) -> Run:
    """Run ``cmd``; its wall time and its own peak RSS (from wait4, so only that child counts)."""
    r = run_child(cmd, cwd=cwd, env=env, quiet=quiet)
    return Run(r.seconds, r.peak_mb, r.returncode)


def median_run(cmd: list[str], repeat: int = 3, **kw) -> Run:
    runs = [measure(cmd, **kw) for _ in range(repeat)]
    return Run(statistics.median(r.seconds for r in runs), max(r.peak_mb for r in runs),
               max(r.returncode for r in runs))


def make_site(out: Path, posts: int, days: int = 1, long: float = 0.5, start: str = "2022-04-19") -> Path:
    """Make (once) a site with make_site.py from the example site's posts."""
    if (out / "_posts").is_dir():
        return out
    subprocess.run([PYTHON, str(MAKE_SITE), str(out), "--posts", str(posts), "--days", str(days),
                    "--long", str(long), "--start", start, "--source", str(SOURCE)], check=True,
                   stdout=subprocess.DEVNULL)
    return out


def digest_cmd(*args: str) -> list[str]:
    exe = shutil.which("digest", path=str(Path(PYTHON).parent)) or "digest"
    return [exe, *args]


def markdown_of(site: Path, day: str, out: Path) -> Path:
    """The day's posts as one Markdown file (the peers' input): front matter dropped, titles as headings."""
    import frontmatter

    parts = []
    for p in sorted((site / "_posts").glob(f"{day}-*.md")):
        fm, body = frontmatter.parse(p.read_text(encoding="utf-8"))
        parts.append(f"# {fm.get('title', p.stem)}\n\n{body}\n")
    out.write_text("\n".join(parts), encoding="utf-8")
    return out
