"""EPUB benchmark (issue 3): the EPUB of the make_site.py 300-post day against pandoc on the same posts.

digest: ``digest build SITE --date 2022-04-19 -f epub`` end to end (a fresh process: start-up, reading
and parsing the posts, the cover, packaging), with a cold parsed-post cache and with a warm one.
pandoc: ``pandoc digest.md -o x.epub --toc`` where digest.md is the day's posts as one Markdown file
(benchmarks.common.markdown_of). Medians of 5 interleaved runs; peak memory is the child's max RSS.

Run alone: ``python -m benchmarks.bench_epub [WORKDIR]``.
"""
from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from .common import Run, digest_cmd, make_site, markdown_of, measure, median_run

DAY = "2022-04-19"
REPEAT = 5


def _median(runs: list[Run]) -> Run:
    return Run(statistics.median(r.seconds for r in runs), max(r.peak_mb for r in runs),
               max(r.returncode for r in runs))


def _check(run: Run, what: str) -> None:
    if run.returncode != 0:
        raise SystemExit(f"{what} failed with exit status {run.returncode}")


def run(workdir: Path) -> list[dict]:
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    site = make_site(workdir / "w1", 300, 1, start=DAY)
    out = workdir / "out-epub"
    build = digest_cmd("build", str(site), "--date", DAY, "-f", "epub", "-o", str(out), "-q", "--force")  # never "up to date"
    rows: list[dict] = []

    pandoc = shutil.which("pandoc")
    md = markdown_of(site, DAY, workdir / "digest.md")
    peer_cmd = [pandoc, str(md), "-o", str(workdir / "x.epub"), "--toc"] if pandoc else None
    warm_cache = Path(tempfile.mkdtemp(dir=workdir))
    measure(build, env={"DIGEST_CACHE_DIR": str(warm_cache)})  # fills the warm cache
    # Interleaved, so that both tools see the same machine load (it varies on a shared machine).
    peers, colds, warms = [], [], []
    for _ in range(REPEAT):
        if peer_cmd:
            peers.append(measure(peer_cmd, cwd=workdir))
        cache = Path(tempfile.mkdtemp(dir=workdir))
        colds.append(measure(build, env={"DIGEST_CACHE_DIR": str(cache)}))
        shutil.rmtree(cache, ignore_errors=True)
        warms.append(measure(build, env={"DIGEST_CACHE_DIR": str(warm_cache)}))
    peer = _median(peers) if peers else None
    cold, warm = _median(colds), _median(warms)
    if peer:
        _check(peer, "pandoc")
    _check(cold, "digest build")
    _check(warm, "digest build (warm)")
    size_kb = next(out.rglob(f"{DAY}.epub")).stat().st_size / 1024
    fonts = median_run(build + ["--embed-fonts"], 1, env={"DIGEST_CACHE_DIR": str(warm_cache)})
    shutil.rmtree(warm_cache, ignore_errors=True)

    for label, r in (("epub (cold cache)", cold), ("epub (warm cache)", warm)):
        row = dict(workload="W1 300-post day", edition=label, digest_s=r.seconds, digest_mb=r.peak_mb,
                   note=f"{size_kb:,.0f} KB; target ≥ 8× faster, less memory")
        if peer:
            row.update(peer="pandoc --toc", peer_s=peer.seconds, peer_mb=peer.peak_mb, ratio=peer.seconds / r.seconds)
        rows.append(row)
    if fonts.returncode == 0:
        rows.append(dict(workload="W1 300-post day", edition="epub --embed-fonts", digest_s=fonts.seconds,
                         digest_mb=fonts.peak_mb, note=f"{next(out.rglob(f'{DAY}.epub')).stat().st_size / 1024:,.0f} KB"
                         " with a CJK font subset"))
    return rows


if __name__ == "__main__":
    from .run import print_rows

    print_rows(run(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("benchmarks/work")))
