"""Scale benchmark (issue 7): a year of posts builds a day as fast as a lone day does.

W1: one 300-post day (make_site.py, 2022-04-19). W2: 365 such days ending on 2022-04-19 (~110,000 posts).
Rows: the web edition of 2022-04-19 on W1 and on W2, cold (W2's first run indexes every post's real date)
and warm (the target: W2 ≤ 1.3× W1), `digest list` over W2 cold and warm with peak memory, and
`digest --help` start-up. Medians of several runs where runs are short.

Run alone: ``python -m benchmarks.bench_scale [WORKDIR]``.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from .common import digest_cmd, make_site, measure, median_run

DAY = "2022-04-19"


def _cold(cmd: list[str], workdir: Path, repeat: int = 3):
    runs = []
    for _ in range(repeat):
        cache = Path(tempfile.mkdtemp(dir=workdir))
        runs.append(measure(cmd, env={"DIGEST_CACHE_DIR": str(cache)}))
        shutil.rmtree(cache, ignore_errors=True)
    runs.sort(key=lambda r: r.seconds)
    return runs[len(runs) // 2]


def run(workdir: Path) -> list[dict]:
    workdir.mkdir(parents=True, exist_ok=True)
    w1 = make_site(workdir / "w1", 300, 1, start=DAY)
    w2 = make_site(workdir / "w2", 300, 365, start="2021-04-20")
    # --force: an up-to-date issue is otherwise skipped (incremental builds); one output folder per site
    build = lambda site: digest_cmd("build", str(site), "--date", DAY, "-f", "html", "-o",  # noqa: E731
                                    str(workdir / f"out-scale-{site.name}"), "-q", "--force")
    rows = []
    w1_cold = _cold(build(w1), workdir)
    w2_cold = _cold(build(w2), workdir, repeat=1)  # the first run indexes every post's head: seconds
    caches = {site: Path(tempfile.mkdtemp(dir=workdir)) for site in ("w1", "w2")}
    for site, path in ((w1, caches["w1"]), (w2, caches["w2"])):
        measure(build(site), env={"DIGEST_CACHE_DIR": str(path)})
    w1_warm = median_run(build(w1), 5, env={"DIGEST_CACHE_DIR": str(caches["w1"])})
    w2_warm = median_run(build(w2), 5, env={"DIGEST_CACHE_DIR": str(caches["w2"])})
    warm_cache = caches["w2"]
    rows.append(dict(workload="W1 300-post day", edition="html (cold cache)", digest_s=w1_cold.seconds,
                     digest_mb=w1_cold.peak_mb, note="median of 3"))
    rows.append(dict(workload="W2 one day of 365", edition="html (cold cache)", digest_s=w2_cold.seconds,
                     digest_mb=w2_cold.peak_mb, ratio=w2_cold.seconds / w1_cold.seconds,
                     note="the first run: every post's real date indexed from its head"))
    rows.append(dict(workload="W1 300-post day", edition="html (warm cache)", digest_s=w1_warm.seconds,
                     digest_mb=w1_warm.peak_mb, note="baseline; median of 5"))
    rows.append(dict(workload="W2 one day of 365", edition="html (warm cache)", digest_s=w2_warm.seconds,
                     digest_mb=w2_warm.peak_mb, ratio=w2_warm.seconds / w1_warm.seconds,
                     note=f"W2/W1 warm = {w2_warm.seconds / w1_warm.seconds:.2f}× (target ≤ 1.3×); median of 5"))
    # cold = digest's own cache empty (median of 3, each with a new cache; the OS file cache is what it is)
    lcold = _cold(digest_cmd("list", str(w2)), workdir)
    list_cache = Path(tempfile.mkdtemp(dir=workdir))
    measure(digest_cmd("list", str(w2)), env={"DIGEST_CACHE_DIR": str(list_cache)})
    lwarm = median_run(digest_cmd("list", str(w2)), 3, env={"DIGEST_CACHE_DIR": str(list_cache)})
    rows.append(dict(workload="W2 (109,500 posts)", edition="digest list (cold)", digest_s=lcold.seconds,
                     digest_mb=lcold.peak_mb, note="target ≤ 5 s, < 500 MB; empty digest cache, median of 3"))
    rows.append(dict(workload="W2 (109,500 posts)", edition="digest list (warm)", digest_s=lwarm.seconds,
                     digest_mb=lwarm.peak_mb, note="target ≤ 1 s"))
    helprun = median_run(digest_cmd("--help"), 5)
    rows.append(dict(workload="-", edition="digest --help", digest_s=helprun.seconds, digest_mb=helprun.peak_mb,
                     note="target < 0.5 s"))
    for p in (warm_cache, caches["w1"], list_cache):
        shutil.rmtree(p, ignore_errors=True)
    return rows


if __name__ == "__main__":
    from .run import print_rows

    print_rows(run(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("benchmarks/work")))
