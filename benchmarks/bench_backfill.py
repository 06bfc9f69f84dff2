"""Back-fill benchmark (issue 5): 30 days × 100 posts built with ``--jobs 1`` and ``--jobs 2``.

The site is made by make_site.py (30 days ending 2022-04-19). Every timed run writes to a fresh output
folder with a warm parsed-post cache, so both runs do the same work (alternated, medians of 3); the
speed-up is jobs1 / jobs2.
Peak memory is the largest single process (workers are forked children). The speed-up needs two
idle cores: the row notes the load average, and CPU seconds show the work is the same either way.
Two more rows show the cron case: a second run with nothing changed, and a run after one post of one
day changed (only that day is rebuilt).

Run alone: ``python -m benchmarks.bench_backfill [WORKDIR]``.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .common import Run, digest_cmd, make_site, measure, run_child

START, END, DAYS, POSTS = "2022-03-21", "2022-04-19", 30, 100


def _formats() -> str:
    return "html,epub"


def _timed(cmd: list[str], env: dict) -> tuple[Run, float]:
    """``measure`` plus the CPU seconds of the process and the workers it waited for."""
    r = run_child(cmd, env=env)
    return Run(r.seconds, r.peak_mb, r.returncode), r.cpu


def _interleaved(cmds: dict[int, callable], workdir: Path, env: dict, repeat: int) -> dict[int, list]:
    """Run each command ``repeat`` times, alternating, each into a fresh folder (load drifts hit both)."""
    runs: dict[int, list] = {k: [] for k in cmds}
    for _ in range(repeat):
        for k, cmd_for in cmds.items():
            out = workdir / f"out-backfill-{k}"
            shutil.rmtree(out, ignore_errors=True)
            r, cpu = _timed(cmd_for(out), env)
            shutil.rmtree(out, ignore_errors=True)
            if r.returncode:
                raise SystemExit(f"digest failed: {cmd_for(out)}")
            runs[k].append((r, cpu))
    return runs


def run(workdir: Path, repeat: int = 3) -> list[dict]:
    workdir.mkdir(parents=True, exist_ok=True)
    site = make_site(workdir / "backfill", POSTS, DAYS, start=START)
    fmts = _formats()
    env = {"DIGEST_CACHE_DIR": str(workdir / "cache-backfill"), "SOURCE_DATE_EPOCH": "1650326400"}

    def cmd(out: Path, jobs: int, *extra: str) -> list[str]:
        return digest_cmd("build", str(site), "--from", START, "--to", END, "-f", fmts, "-o", str(out),
                          "-q", "--jobs", str(jobs), *extra)

    warm = workdir / "out-backfill-warm"
    shutil.rmtree(warm, ignore_errors=True)
    measure(cmd(warm, 2), env=env)  # fills the parsed-post cache; this folder serves the cron rows below
    runs = _interleaved({1: lambda out: cmd(out, 1), 2: lambda out: cmd(out, 2)}, workdir, env, repeat)
    t1, t2 = (statistics.median(r.seconds for r, _ in runs[k]) for k in (1, 2))
    c1, c2 = (statistics.median(c for _, c in runs[k]) for k in (1, 2))
    mb1, mb2 = (max(r.peak_mb for r, _ in runs[k]) for k in (1, 2))
    load = os.getloadavg()[0]
    speedup = t1 / t2
    workload = f"{DAYS} days × {POSTS} posts"
    rows = [
        dict(workload=workload, edition=f"back-fill {fmts} --jobs 1", digest_s=t1, digest_mb=mb1, peer=None,
             jobs1_s=t1, jobs2_s=None, speedup=None, cpu_s=c1, note=f"baseline; CPU {c1:.1f} s"),
        dict(workload=workload, edition=f"back-fill {fmts} --jobs 2", digest_s=t2, digest_mb=mb2, peer=None,
             jobs1_s=t1, jobs2_s=t2, speedup=speedup, ratio=speedup,
             cpu_s=c2, note=f"speed-up {speedup:.2f}× (target ≈ 2×); CPU {c2:.1f} s; "
                             f"load average {load:.1f} on {os.cpu_count()} cores"),
    ]
    rows.append(_shards(site, fmts, workdir, env, t2, repeat))
    noop = [measure(cmd(warm, 1), env=env) for _ in range(repeat)]
    t_noop = statistics.median(r.seconds for r in noop)
    rows.append(dict(workload=workload, edition="second run, nothing changed", digest_s=t_noop,
                     digest_mb=max(r.peak_mb for r in noop), peer=None, note="30 issues checked, none rebuilt"))
    post = sorted((site / "_posts").glob("2022-04-10-*.md"))[0]
    original = post.read_bytes()
    try:
        post.write_bytes(original + "\n（更新）\n".encode())
        changed = measure(cmd(warm, 1), env=env)
    finally:
        post.write_bytes(original)
        measure(cmd(warm, 1), env=env)  # leave the folder matching the site
    rows.append(dict(workload=workload, edition="one post changed", digest_s=changed.seconds,
                     digest_mb=changed.peak_mb, peer=None, note="rebuilds only 2022-04-10"))
    return rows


def _shards(site: Path, fmts: str, workdir: Path, env: dict, jobs2: float, repeat: int) -> dict:
    """The same back-fill as 2 shards at once on one folder (xargs -P 2), as docs/scale.md runs them."""
    runs = []
    for _ in range(repeat):
        out = workdir / "out-backfill-shards"
        shutil.rmtree(out, ignore_errors=True)
        cmd = " ".join(digest_cmd("build", str(site), "--from", START, "--to", END, "-f", fmts, "-o", str(out),
                                  "-q", "--shard", "{}/2"))
        t0 = time.perf_counter()
        proc = subprocess.run(["xargs", "-P", "2", "-I{}", "sh", "-c", cmd], input="0\n1\n",
                              env={**os.environ, **env}, capture_output=True, text=True)
        runs.append(time.perf_counter() - t0)
        if proc.returncode:
            raise SystemExit(f"sharded back-fill failed: {proc.stderr[-500:]}")
    t = statistics.median(runs)
    return dict(workload=f"{DAYS} days × {POSTS} posts", edition=f"back-fill {fmts}, 2 shards at once (xargs -P 2)",
                digest_s=t, peer=None, ratio=jobs2 / t,
                note=f"vs --jobs 2 in one process: {jobs2 / t:.2f}×; the same files (tests/test_shards.py)")


if __name__ == "__main__":
    from .run import print_rows

    print_rows(run(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("benchmarks/work")))
