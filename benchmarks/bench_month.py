"""Month editions and a year's back-fill on W2 (365 days × 300 posts, make_site.py), against pandoc.

* **Month**: ``digest build W2 --period month --from 2022-03-01 --to 2022-03-31 -f html,epub`` (9,300
  posts) with an empty cache (cold) and with the days' posts already rendered (warm: the usual order, the
  month built after its days by cron), against ``pandoc month.md -o x.epub --toc`` on the same posts (one
  Markdown file, :func:`benchmarks.common.markdown_of`). digest's runs alternate, medians of ``REPEAT``;
  pandoc runs once and is stopped at ``PEER_CAP`` times digest's cold time (it took over 7 minutes and
  2.5 GB when let run): stopped unfinished, it shows the ratio is at least that, the target's bound. Memory is
  the peak RSS of digest's main process (wait4; the readers and renderers forked for a cold build are
  short-lived children with their own share).
* **Year**: ``digest build W2 --from 2021-04-20 --to 2022-04-19 -f html,epub --jobs 2`` into an empty
  folder with an empty cache: posts per second, and the ratio to running pandoc once per day (its median
  over ``PEER_DAYS`` days × 365: running it 365 times would take a quarter of an hour).

Run alone: ``python -m benchmarks.bench_month [WORKDIR]``.
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .common import digest_cmd, make_site, markdown_of, run_child

MONTH = ("2022-03-01", "2022-03-31")
YEAR = ("2021-04-20", "2022-04-19")
REPEAT = 3
PEER_CAP = 8.5  # pandoc stopped past this many times digest's cold time: the ratio is then "> 8.5×"
PEER_DAYS = ["2021-06-01", "2021-09-15", "2021-12-08", "2022-02-14", "2022-04-19"]


@dataclass
class Timed:
    seconds: float
    cpu: float
    peak_mb: float
    returncode: int
    stopped: bool = False  # killed at its time limit, unfinished


def timed(cmd: list[str], env: dict | None = None, cwd: Path | None = None, limit: float | None = None) -> Timed:
    r = run_child(cmd, cwd=cwd, env=env, limit=limit)
    return Timed(r.seconds, r.cpu, r.peak_mb, 0 if r.stopped else r.returncode, r.stopped)


def median(runs: list[Timed], what: str) -> Timed:
    bad = [r.returncode for r in runs if r.returncode]
    if bad:
        raise SystemExit(f"{what} failed with exit status {bad[0]}")
    return Timed(statistics.median(r.seconds for r in runs), statistics.median(r.cpu for r in runs),
                 max(r.peak_mb for r in runs), 0)


def _month(w2: Path, workdir: Path) -> list[dict]:
    posts = sum(1 for _ in (w2 / "_posts").glob("2022-03-*.md"))
    md = markdown_of(w2, "2022-03", workdir / "month.md")
    out = workdir / "out-month"
    build = digest_cmd("build", str(w2), "--period", "month", "--from", MONTH[0], "--to", MONTH[1],
                       "-f", "html,epub", "-o", str(out), "-q", "--force")
    warm_cache = Path(tempfile.mkdtemp(dir=workdir))
    timed(build, env={"DIGEST_CACHE_DIR": str(warm_cache)})  # the days' posts rendered, as after daily builds
    colds, warms = [], []
    for _ in range(REPEAT):
        cold_cache = Path(tempfile.mkdtemp(dir=workdir))
        colds.append(timed(build, env={"DIGEST_CACHE_DIR": str(cold_cache)}))
        shutil.rmtree(cold_cache, ignore_errors=True)
        warms.append(timed(build, env={"DIGEST_CACHE_DIR": str(warm_cache)}))
    shutil.rmtree(warm_cache, ignore_errors=True)
    cold, warm = median(colds, "digest"), median(warms, "digest")
    peer = timed(["pandoc", str(md), "-o", str(workdir / "month.epub"), "--toc"], cwd=workdir,
                 limit=PEER_CAP * cold.seconds)
    if peer.returncode:
        raise SystemExit(f"pandoc failed with exit status {peer.returncode}")
    more = "> " if peer.stopped else ""
    size = sum(f.stat().st_size for f in out.rglob("2022-03.*")) / 1e6
    rows = []
    for label, r in (("month html+epub (cold: empty cache)", cold), ("month html+epub (warm: days built)", warm)):
        ratio = peer.seconds / r.seconds
        rows.append(dict(
            workload=f"W2 March 2022 ({posts:,} posts)", edition=label, digest_s=r.seconds, digest_mb=r.peak_mb,
            peer="pandoc --toc (one EPUB)", peer_s=f"{more}{peer.seconds:.0f}", peer_mb=f"{more}{peer.peak_mb:.0f}",
            ratio=f"{more}{ratio:.1f}",
            note=(f"targets ≥ 8× faster, ≤ 500 MB: {more}{ratio:.1f}×, {r.peak_mb:.0f} MB; CPU {r.cpu:.1f} s vs "
                  f"{more}{peer.cpu:.1f} s; html+epub {size:.0f} MB; digest: median of {REPEAT}; pandoc: one run"
                  + (f", stopped unfinished at {PEER_CAP}× digest's cold time" if peer.stopped else ""))))
    return rows


def _year(w2: Path, workdir: Path) -> list[dict]:
    posts = sum(1 for p in (w2 / "_posts").glob("*.md") if YEAR[0] <= p.name[:10] <= YEAR[1])
    out = workdir / "out-year"
    shutil.rmtree(out, ignore_errors=True)
    cache = Path(tempfile.mkdtemp(dir=workdir))
    ours = timed(digest_cmd("build", str(w2), "--from", YEAR[0], "--to", YEAR[1], "-f", "html,epub", "-o", str(out),
                            "-q", "--jobs", "2"), env={"DIGEST_CACHE_DIR": str(cache)})
    shutil.rmtree(cache, ignore_errors=True)
    if ours.returncode:
        raise SystemExit(f"year back-fill failed with exit status {ours.returncode}")
    days = []
    for day in PEER_DAYS:
        md = markdown_of(w2, day, workdir / f"peer-{day}.md")
        days.append(timed(["pandoc", str(md), "-o", str(workdir / "peer-day.epub"), "--toc"], cwd=workdir))
    per_day = median(days, "pandoc")
    pandoc_year = per_day.seconds * 365
    return [dict(
        workload=f"W2 year ({posts:,} posts, 365 issues)", edition="back-fill html,epub --jobs 2 (cold cache)",
        digest_s=ours.seconds, digest_mb=ours.peak_mb, peer="pandoc --toc, once per day (×365)",
        peer_s=pandoc_year, ratio=pandoc_year / ours.seconds,
        note=(f"{posts / ours.seconds:,.0f} posts/s; CPU {ours.cpu:.0f} s; pandoc: median of {len(PEER_DAYS)} days "
              f"({per_day.seconds:.2f} s) × 365 (html not counted for pandoc); load avg {os.getloadavg()[0]:.1f}"))]


def run(workdir: Path) -> list[dict]:
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if not shutil.which("pandoc"):
        raise SystemExit("pandoc not found")
    w2 = make_site(workdir / "w2", 300, 365, start="2021-04-20")  # shared with bench_scale
    return _month(w2, workdir) + _year(w2, workdir)


if __name__ == "__main__":
    from .run import print_rows

    print_rows(run(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("benchmarks/work")))
