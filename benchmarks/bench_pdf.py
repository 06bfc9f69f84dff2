"""Benchmark of the PDF edition against pandoc → WeasyPrint on the same posts.

Workloads: the make_site.py 300-post day (2022-04-19, half full-length articles) and a 300-post day of
full-length articles only. For each, in the same run:

* digest: ``digest build SITE --date DAY --format pdf`` as a user runs it (start-up included), with an empty
  cache (cold), and again after one new post was added (the in-day cron's rebuild: only that post's piece
  and the front matter are laid out; the first rebuild is checked byte for byte against a cold build of the
  same posts); runs alternate with pandoc's, medians of 3 for the first workload;
* peer: ``pandoc DAY.md --pdf-engine=weasyprint -o x.pdf`` on :func:`benchmarks.common.markdown_of` of the
  same posts (pandoc finds the venv's ``weasyprint`` first on ``PATH``).

Memory is the peak of the whole process tree (the sum of every process's PSS, sampled every 50 ms), so
digest's worker processes count in full; ``*_max_rss_mb`` is the largest single process (wait4).

Run alone: ``python -m benchmarks.bench_pdf [WORKDIR]``.
"""
from __future__ import annotations

import json
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .common import PYTHON, SUBREAPER, digest_cmd, make_site, markdown_of

DAY = "2022-04-19"
PROFILES = Path(__file__).resolve().parent / "profiles"
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
    """Wall time, CPU and peak memory of ``cmd`` with every process it starts (run under
    :data:`~benchmarks.common.SUBREAPER`: the processes it does not wait for count too)."""
    peak = [0]
    done = threading.Event()
    t0 = time.perf_counter()
    proc = subprocess.Popen([*SUBREAPER, *cmd], env={**os.environ, **(env or {})},
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


PEER = ["pandoc", "--pdf-engine=weasyprint"]
REPEAT = 3


def add_post(site: Path) -> Path:
    """One new article late in the day (a copy of one of the site's, with its own title and source)."""
    src = sorted((site / "_posts").glob(f"{DAY}-*.md"))[7]
    text = src.read_text(encoding="utf-8")
    text = re.sub(r"^date:.*$", f"date: {DAY} 23:59:30 +0800", text, count=1, flags=re.M)
    text = re.sub(r'^title:\s*"?(.*?)"?\s*$', r'title: "\1 — 晚间更新"', text, count=1, flags=re.M)
    text = re.sub(r"^<(https?://[^>\s]+)>\s*$", r"<\1-late>", text, flags=re.M)
    new = site / "_posts" / f"{DAY}-209999999999.md"
    new.write_text(text, encoding="utf-8")
    return new


def _median(runs: list[TreeRun]) -> TreeRun:
    bad = [r.returncode for r in runs if r.returncode]
    if bad:
        raise SystemExit(f"a PDF build failed with exit status {bad[0]}")
    return TreeRun(statistics.median(r.seconds for r in runs), max(r.tree_mb for r in runs),
                   max(r.max_rss_mb for r in runs), 0, statistics.median(r.cpu_s for r in runs))


def _paired(site: Path, out: Path, md: Path, peer_pdf: Path, env: dict, workdir: Path,
            incremental: bool, repeat: int) -> tuple[TreeRun, TreeRun, TreeRun | None]:
    """Alternating runs (pandoc, digest cold with an empty cache, digest after one new post), medians."""
    build = digest_cmd("build", str(site), "--date", DAY, "--format", "pdf", "--out", str(out), "-q", "--force")
    colds, peers, warms = [], [], []
    for _ in range(repeat):
        peers.append(measure_tree(["pandoc", str(md), "--metadata", f"title={DAY}", "--pdf-engine=weasyprint",
                                   "-o", str(peer_pdf)], env=env))
        cache = Path(tempfile.mkdtemp(dir=workdir))
        colds.append(measure_tree(build, env={**env, "DIGEST_CACHE_DIR": str(cache)}))
        if incremental:
            new = add_post(site)
            try:
                warms.append(measure_tree(build, env={**env, "DIGEST_CACHE_DIR": str(cache)}))
                if len(warms) == 1:
                    _same_as_cold(site, out, env, workdir)
            finally:
                new.unlink()
        shutil.rmtree(cache, ignore_errors=True)
    return _median(colds), _median(peers), _median(warms) if warms else None


def _same_as_cold(site: Path, out: Path, env: dict[str, str], workdir: Path) -> None:
    """The rebuilt PDF (``out``, the new post in) is checked byte for byte against a cold build of the same
    posts (an empty cache, another folder): a rebuild that differs stops the benchmark."""
    check, cache = Path(tempfile.mkdtemp(dir=workdir)), Path(tempfile.mkdtemp(dir=workdir))
    try:
        subprocess.run(digest_cmd("build", str(site), "--date", DAY, "--format", "pdf", "--out", str(check), "-q"),
                       env={**os.environ, **env, "DIGEST_CACHE_DIR": str(cache)}, check=True)
        name = Path(DAY[:4]) / f"{DAY}.pdf"
        if (out / name).read_bytes() != (check / name).read_bytes():
            raise SystemExit(f"the PDF rebuilt after one new post differs from a cold build ({out / name})")
    finally:
        shutil.rmtree(check, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)


def _profile(site: Path, out: Path, env: dict, workdir: Path) -> str:
    """Where a rebuild after one new post spends its time: the edition's own timings (--debug) and a
    cProfile of the main process (written next to RESULTS.md)."""
    cache = Path(tempfile.mkdtemp(dir=workdir))
    base = ["build", str(site), "--date", DAY, "--format", "pdf", "--out", str(out), "--force"]
    env = {**env, "DIGEST_CACHE_DIR": str(cache)}
    subprocess.run(digest_cmd(*base, "-q"), env={**os.environ, **env}, check=True, capture_output=True)
    new = add_post(site)
    prof = workdir / "pdf-incremental.prof"
    try:
        proc = subprocess.run([PYTHON, "-m", "cProfile", "-o", str(prof), "-m", "digest", "--debug", *base],
                              env={**os.environ, **env}, capture_output=True, text=True, check=True)
    finally:
        new.unlink()
        shutil.rmtree(cache, ignore_errors=True)
    line = next((x for x in proc.stderr.splitlines() if "pieces laid out" in x), "")
    PROFILES.mkdir(exist_ok=True)
    with open(PROFILES / "pdf-incremental.txt", "w", encoding="utf-8") as f:
        f.write(f"# digest build --date {DAY} -f pdf after one new post (cache warm): main process\n# {line}\n")
        pstats.Stats(str(prof), stream=f).sort_stats("cumulative").print_stats(40)
    return line.split(": ", 2)[-1] if line else ""


LAYOUT_PROFILE = """
import cProfile, pstats, sys
from datetime import date
from pathlib import Path
from digest import load_settings
from digest.build import make_digest
from digest.editions.base import WriteContext
from digest.editions.pdf import render
from digest.editions.pdf.layout import Doc, Job, lay_out
from digest.editions.pdf.plan import plan_pieces
from digest.runtime.env import Environment
from digest.theming.loader import load_theme
site, tmp, out = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
settings = load_settings(site)
env = Environment(tmp / "cache", 1650412800)
digest = make_digest(settings, date.fromisoformat(sys.argv[4]), date.fromisoformat(sys.argv[4]), env=env)
r = render.Renderer(digest, WriteContext(tmp, load_theme(settings), settings, env))
docs = [Doc(f"p{i}", *r.page("body", parts=[p])) for i, p in enumerate(plan_pieces(digest)[:6])]
job = Job("profile", docs, tmp, str(site.resolve().as_uri()) + "/", tmp / "fonts", rules=r.rules)
lay_out(Job("warm", docs[:1], tmp, job.base_url, tmp / "fonts", rules=r.rules))
with open(out, "w", encoding="utf-8") as f:
    f.write("# one layout job of 6 body pieces of the 300-post day (what a worker does), cProfile\\n")
    prof = cProfile.Profile()
    prof.runcall(lay_out, job)
    pstats.Stats(prof, stream=f).sort_stats("cumulative").print_stats(45)
"""


def _layout_profile(site: Path, workdir: Path) -> None:
    """Where a layout worker's time goes (the cold build's CPU): profiles/pdf-layout.txt."""
    tmp = Path(tempfile.mkdtemp(dir=workdir))
    PROFILES.mkdir(exist_ok=True)
    subprocess.run([PYTHON, "-c", LAYOUT_PROFILE, str(site), str(tmp), str(PROFILES / "pdf-layout.txt"), DAY],
                   check=True, capture_output=True)
    shutil.rmtree(tmp, ignore_errors=True)


def run(workdir: Path) -> list[dict]:
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    venv_bin = str(Path(PYTHON).parent)
    env = {"PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""), "SOURCE_DATE_EPOCH": "1650412800"}
    if not shutil.which("pandoc"):
        raise SystemExit("pandoc not found")
    rows = []
    for name, long in WORKLOADS:
        site = make_site(workdir / f"site-{int(long * 100)}", 300, long=long)
        out = workdir / f"out-{int(long * 100)}"
        shutil.rmtree(out, ignore_errors=True)
        load = os.getloadavg()[0]
        md = markdown_of(site, DAY, workdir / f"day-{int(long * 100)}.md")
        peer_pdf = workdir / f"peer-{int(long * 100)}.pdf"
        first = long == WORKLOADS[0][1]
        ours, peer, warm = _paired(site, out, md, peer_pdf, env, workdir, True, REPEAT if first else 1)
        pdf = out / DAY[:4] / f"{DAY}.pdf"
        row = {
            "workload": name, "edition": "pdf (cold: empty cache)",
            "digest_s": round(ours.seconds, 2), "digest_mb": round(ours.tree_mb),
            "digest_max_rss_mb": round(ours.max_rss_mb), "digest_cpu_s": round(ours.cpu_s, 1),
            "peer": "pandoc --pdf-engine=weasyprint",
            "peer_s": round(peer.seconds, 2), "peer_mb": round(peer.tree_mb),
            "peer_max_rss_mb": round(peer.max_rss_mb), "peer_cpu_s": round(peer.cpu_s, 1),
            "ratio": round(peer.seconds / ours.seconds, 2),
            "pages": pdf_pages(pdf), "peer_pages": pdf_pages(peer_pdf),
            "mb_file": round(pdf.stat().st_size / 1e6, 1), "peer_mb_file": round(peer_pdf.stat().st_size / 1e6, 1),
        }
        row["note"] = (f"targets ≥ 2.5× wall, ≥ 1.5× less CPU (profile: benchmarks/profiles/pdf-layout.txt): "
                       f"CPU {row['digest_cpu_s']} s vs {row['peer_cpu_s']} s "
                       f"({peer.cpu_s / max(ours.cpu_s, 1e-9):.2f}×); pages {row['pages']} vs {row['peer_pages']}; "
                       f"{row['mb_file']} vs {row['peer_mb_file']} MB; MB = process tree PSS; "
                       f"{f'median of {REPEAT} paired runs; ' if first else ''}"
                       f"load avg {load:.1f} on {os.cpu_count()} cores")
        rows.append(row)
        if warm is not None:
            split = ""
            if first:  # the profiles: of the first workload only
                split = _profile(site, out, env, workdir) + "; profile: benchmarks/profiles/pdf-incremental.txt"
                _layout_profile(site, workdir)
            rows.append({
                "workload": name, "edition": "pdf rebuilt after one new post (cache warm)",
                "digest_s": round(warm.seconds, 2), "digest_mb": round(warm.tree_mb),
                "digest_cpu_s": round(warm.cpu_s, 1), "ratio": round(warm.seconds / ours.seconds, 3),
                "note": (f"target ≤ 15 % of the cold build: {100 * warm.seconds / ours.seconds:.0f} % of the wall, "
                         f"{100 * warm.cpu_s / max(ours.cpu_s, 1e-9):.0f} % of the CPU ({warm.cpu_s:.1f} s); "
                         f"byte-identical to a cold build (checked){'; ' + split if split else ''}"),
            })
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
