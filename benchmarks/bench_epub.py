"""EPUB benchmark (issue 3): the EPUB of the make_site.py 300-post day against pandoc on the same posts.

digest: ``digest build SITE --date 2022-04-19 -f epub --force`` end to end (a fresh process: start-up,
reading and parsing the posts, the cover, packaging), with a cold parsed-post cache and with a warm one.
pandoc: ``pandoc digest.md -o x.epub --toc`` where digest.md is the day's posts as one Markdown file
(benchmarks.common.markdown_of). Runs are interleaved (pandoc, digest cold, digest warm, digest web
edition) so that all see the same machine load; medians of 5. Peak memory is the child's max RSS. CPU
seconds (user + system) are reported too: on a shared machine they vary much less than wall time.

Run alone: ``python -m benchmarks.bench_epub [WORKDIR]``.
"""
from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .common import digest_cmd, make_site, markdown_of, run_child

DAY = "2022-04-19"
FLOOR = """
import typer, jinja2, frontmatter
from lxml import etree  # digest writes the EPUB package with lxml (ebooklib only reads books back in the tests)
app = typer.Typer(add_completion=False)
@app.callback()
def main() -> None: pass
@app.command()
def build(site: str, date_: str = typer.Option(None, "--date"), formats: str = typer.Option(None, "-f"),
          out: str = typer.Option(None, "-o"), quiet: bool = typer.Option(False, "-q"),
          force: bool = typer.Option(False, "--force")) -> None: pass
app()
"""
REPEAT = 5


@dataclass
class Timed:
    seconds: float
    cpu: float
    peak_mb: float
    returncode: int


def _measure(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> Timed:
    r = run_child(cmd, cwd=cwd, env=env)
    return Timed(r.seconds, r.cpu, r.peak_mb, r.returncode)


def _median(runs: list[Timed], what: str) -> Timed:
    bad = [r.returncode for r in runs if r.returncode]
    if bad:
        raise SystemExit(f"{what} failed with exit status {bad[0]}")
    return Timed(statistics.median(r.seconds for r in runs), statistics.median(r.cpu for r in runs),
                 max(r.peak_mb for r in runs), 0)


def run(workdir: Path) -> list[dict]:
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    site = make_site(workdir / "w1", 300, 1, start=DAY)
    out = workdir / "out-epub"
    # --force: an issue whose inputs did not change is otherwise skipped as up to date
    build = digest_cmd("build", str(site), "--date", DAY, "-f", "epub", "-o", str(out), "-q", "--force")
    web = [a if a != "epub" else "html" for a in build]
    pandoc = shutil.which("pandoc")
    md = markdown_of(site, DAY, workdir / "digest.md")
    peer_cmd = [pandoc, str(md), "-o", str(workdir / "x.epub"), "--toc"] if pandoc else None
    warm_cache = Path(tempfile.mkdtemp(dir=workdir))
    _measure(build, env={"DIGEST_CACHE_DIR": str(warm_cache)})  # fills the warm cache
    # The floor for any Python tool on this stack: start-up, importing the libraries the product must use
    # for an EPUB build (typer — which imports pydantic —, jinja2, python-frontmatter, lxml)
    # and parsing the same options with typer; nothing is read or built.
    floor_cmd = [sys.executable, "-c", FLOOR, *build[1:]]
    peers, colds, warms, webs, floors = [], [], [], [], []
    for _ in range(REPEAT):
        floors.append(_measure(floor_cmd))
        if peer_cmd:
            peers.append(_measure(peer_cmd, cwd=workdir))
        cache = Path(tempfile.mkdtemp(dir=workdir))
        colds.append(_measure(build, env={"DIGEST_CACHE_DIR": str(cache)}))
        shutil.rmtree(cache, ignore_errors=True)
        warms.append(_measure(build, env={"DIGEST_CACHE_DIR": str(warm_cache)}))
        webs.append(_measure(web, env={"DIGEST_CACHE_DIR": str(warm_cache)}))
    peer = _median(peers, "pandoc") if peers else None
    cold, warm, html = _median(colds, "digest build"), _median(warms, "digest build"), _median(webs, "digest html")
    floor = _median(floors, "start-up floor")
    size_kb = next(out.rglob(f"{DAY}.epub")).stat().st_size / 1024
    fonts = _measure([*build, "--embed-fonts"], env={"DIGEST_CACHE_DIR": str(warm_cache)})
    shutil.rmtree(warm_cache, ignore_errors=True)

    rows: list[dict] = []
    for label, r in (("epub (cold cache)", cold), ("epub (warm cache)", warm)):
        note = f"{size_kb:,.0f} KB; CPU {r.cpu:.2f} s"
        row = dict(workload="W1 300-post day", edition=label, digest_s=r.seconds, digest_mb=r.peak_mb)
        if peer:
            row.update(peer="pandoc --toc", peer_s=peer.seconds, peer_mb=peer.peak_mb, ratio=peer.seconds / r.seconds)
            note += f" vs {peer.cpu:.2f} s ({peer.cpu / r.cpu:.1f}×)"
        row["note"] = note + "; target ≥ 8× faster, less memory"
        rows.append(row)
    rows.append(dict(workload="W1 300-post day", edition="html (warm cache), for reference", digest_s=html.seconds,
                     digest_mb=html.peak_mb, note=f"CPU {html.cpu:.2f} s: the EPUB exporter adds "
                     f"{warm.cpu - html.cpu:+.2f} s CPU, {warm.seconds - html.seconds:+.2f} s wall"))
    row = dict(workload="-", edition="start-up floor: required libraries imported, options parsed, nothing built",
               digest_s=floor.seconds, digest_mb=floor.peak_mb, note=f"CPU {floor.cpu:.2f} s")
    if peer:
        row.update(peer="pandoc --toc", peer_s=peer.seconds, peer_mb=peer.peak_mb, ratio=peer.seconds / floor.seconds)
        row["note"] += (f"; the most any build on this stack could reach is {peer.seconds / floor.seconds:.1f}×; "
                        f"8× leaves {peer.seconds / 8 - floor.seconds:+.2f} s for the work itself")
    rows.append(row)
    if fonts.returncode == 0:
        rows.append(dict(workload="W1 300-post day", edition="epub --embed-fonts", digest_s=fonts.seconds,
                         digest_mb=fonts.peak_mb, note=f"{next(out.rglob(f'{DAY}.epub')).stat().st_size / 1024:,.0f} KB"
                         f" with a CJK font subset; CPU {fonts.cpu:.2f} s"))
    return rows


if __name__ == "__main__":
    from .run import print_rows

    print_rows(run(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("benchmarks/work")))
