"""Benchmark of the PDF edition against pandoc → WeasyPrint on the same posts.

Workloads: the make_site.py 300-post day (2022-04-19, half full-length articles) and a 300-post day of
full-length articles only. For each, in the same run:

* digest: ``digest build SITE --date DAY --format pdf --no-cache`` as a user runs it (start-up included);
* peer: ``pandoc DAY.md --pdf-engine=weasyprint -o x.pdf`` on :func:`benchmarks.common.markdown_of` of the
  same posts (pandoc finds the venv's ``weasyprint`` first on ``PATH``).

Memory is the peak of the whole process tree (the sum of every process's PSS, sampled every 50 ms), so
digest's worker processes count in full; ``*_max_rss_mb`` is the largest single process (wait4).

Run alone: ``python -m benchmarks.bench_pdf [WORKDIR]``.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .common import PYTHON, digest_cmd, make_site, markdown_of

DAY = "2022-04-19"
WORKLOADS = [("300 posts, make_site.py day", 0.5), ("300 full-length articles", 1.0)]


@dataclass
class TreeRun:
    seconds: float
    tree_mb: float  # peak of the summed PSS of the process and all its descendants
    max_rss_mb: float  # peak RSS of the largest single process (wait4)
    returncode: int
    cpu_s: float = 0.0  # user + system time of the process and its children


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out.extend(int(x) for x in f.read().split())
    except OSError:
        pass
    return out


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure_tree(cmd: list[str], *, env: dict | None = None, interval: float = 0.05) -> TreeRun:
    """Wall time and peak memory of ``cmd`` with every process it starts."""
    peak = [0]
    done = threading.Event()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def sample() -> None:
        while not done.is_set():
            pids, stack = [], [proc.pid]
            while stack:
                pid = stack.pop()
                pids.append(pid)
                stack.extend(_children(pid))
            peak[0] = max(peak[0], sum(_pss_kb(p) for p in pids))
            done.wait(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    done.set()
    thread.join()
    return TreeRun(seconds, peak[0] / 1024, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status),
                   usage.ru_utime + usage.ru_stime)


def pdf_pages(path: Path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    return next((int(line.split()[-1]) for line in out.splitlines() if line.startswith("Pages:")), 0)


def run(workdir: Path) -> list[dict]:
    workdir.mkdir(parents=True, exist_ok=True)
    venv_bin = str(Path(PYTHON).parent)
    env = {"PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
           "DIGEST_CACHE_DIR": str(workdir / "cache")}
    if not shutil.which("pandoc"):
        raise SystemExit("pandoc not found")
    rows = []
    for name, long in WORKLOADS:
        site = make_site(workdir / f"site-{int(long * 100)}", 300, long=long)
        out = workdir / f"out-{int(long * 100)}"
        shutil.rmtree(out, ignore_errors=True)
        load = os.getloadavg()[0]
        ours = measure_tree(digest_cmd("build", str(site), "--date", DAY, "--format", "pdf", "--no-cache",
                                       "--out", str(out)), env=env)
        pdf = out / DAY[:4] / f"{DAY}.pdf"
        md = markdown_of(site, DAY, workdir / f"day-{int(long * 100)}.md")
        peer_pdf = workdir / f"peer-{int(long * 100)}.pdf"
        peer = measure_tree(["pandoc", str(md), "--metadata", f"title={DAY}", "--pdf-engine=weasyprint",
                             "-o", str(peer_pdf)], env=env)
        if ours.returncode or peer.returncode:
            raise SystemExit(f"{name}: digest exit {ours.returncode}, pandoc exit {peer.returncode}")
        rows.append({
            "workload": name, "edition": "pdf",
            "digest_s": round(ours.seconds, 2), "digest_mb": round(ours.tree_mb),
            "digest_max_rss_mb": round(ours.max_rss_mb), "digest_cpu_s": round(ours.cpu_s, 1),
            "peer": "pandoc --pdf-engine=weasyprint",
            "peer_s": round(peer.seconds, 2), "peer_mb": round(peer.tree_mb),
            "peer_max_rss_mb": round(peer.max_rss_mb), "peer_cpu_s": round(peer.cpu_s, 1),
            "ratio": round(peer.seconds / ours.seconds, 2),
            "pages": pdf_pages(pdf), "peer_pages": pdf_pages(peer_pdf),
            "mb_file": round(pdf.stat().st_size / 1e6, 1), "peer_mb_file": round(peer_pdf.stat().st_size / 1e6, 1),
        })
        r = rows[-1]
        r["note"] = (f"pages {r['pages']} vs {r['peer_pages']}; CPU {r['digest_cpu_s']} s vs {r['peer_cpu_s']} s; "
                     f"MB = process tree PSS; load avg {load:.1f} on {os.cpu_count()} cores")
    return rows


def main() -> None:
    workdir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    load = os.getloadavg()[0]
    rows = run(workdir)
    print(f"load average before the run: {load:.1f} on {os.cpu_count()} cores")
    print(f"{'workload':30} {'digest s':>8} {'cpu s':>6} {'MB':>5} {'pages':>5} | "
          f"{'pandoc s':>8} {'cpu s':>6} {'MB':>5} {'pages':>5} | ratio")
    for r in rows:
        print(f"{r['workload']:30} {r['digest_s']:8.1f} {r['digest_cpu_s']:6.1f} {r['digest_mb']:5} {r['pages']:5} | "
              f"{r['peer_s']:8.1f} {r['peer_cpu_s']:6.1f} {r['peer_mb']:5} {r['peer_pages']:5} | {r['ratio']:.2f}x")
    print(json.dumps(rows, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
