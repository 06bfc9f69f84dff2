"""A month edition's memory is bounded by its posts, not by its editions: the web page and the EPUB are written
as they are made. Built in a subprocess at two sizes, its peak RSS grows by less per post than the 500 MB
budget allows a 9,000-post month (the budget scaled to the posts added)."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import children_peak_mb, from_small_parent, make_big_site

BUDGET_MB = 500  # a month of W2 (~9,000 posts), HTML and EPUB
MONTH_POSTS = 9_000
DAYS = 4
SIZES = (25, 200)  # posts per day: 100 and 800 posts in the month


def peak_mb(site: Path, out: Path, cache: Path, *extra: str) -> float:
    """Peak RSS of ``digest build --period month`` in its own process (and any it waited for)."""
    cmd = [sys.executable, "-m", "digest", "build", str(site), "--period", "month", "--from", "2022-04-01",
           "--to", "2022-04-30", "-f", "html,epub", "-o", str(out), "-q", *extra]
    proc = subprocess.run(from_small_parent(cmd), env={**os.environ, "DIGEST_CACHE_DIR": str(cache),
                                                       "SOURCE_DATE_EPOCH": "1651363200"},
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return children_peak_mb(proc.stderr)


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    out = {}
    for per_day in SIZES:
        root = tmp_path_factory.mktemp(f"month-{per_day}")
        site = make_big_site(root / "site", per_day, days=DAYS, start="2022-04-01")
        cold = peak_mb(site, root / "out", root / "cache")  # posts read and rendered, the cache written
        warm = peak_mb(site, root / "out", root / "cache", "--force")  # as after the daily builds
        out[per_day * DAYS] = (cold, warm, root / "out")
    return out


def _allowance(base_mb: float, small: int, large: int) -> float:
    """MB the larger month may add: the budget left after the small one, shared over a full month's posts."""
    return (BUDGET_MB - base_mb) / (MONTH_POSTS - small) * (large - small)


def test_month_editions_stream(measured):
    (small, (cold_s, warm_s, _)), (large, (cold_l, warm_l, out)) = sorted(measured.items())
    # the editions (a warm build: posts from the cache, then the web page and the EPUB)
    assert warm_l - warm_s <= _allowance(warm_s, small, large), (warm_s, warm_l)
    # reading and rendering every post too
    assert cold_l - cold_s <= _allowance(cold_s, small, large), (cold_s, cold_l)
    epub = out / "2022" / "2022-04.epub"
    with zipfile.ZipFile(epub) as z:
        names = z.namelist()
        assert names[0] == "mimetype" and "EPUB/content.opf" in names
        opf = z.read("EPUB/content.opf").decode()
    assert opf.count('media-type="application/xhtml+xml"') >= large // 10  # every section and its articles
    page = (out / "2022" / "2022-04.html").read_text(encoding="utf-8")
    assert page.count('class="article"') == large and page.rstrip().endswith("</html>")
