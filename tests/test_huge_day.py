"""A huge day's memory is bounded by design: 100,000 posts in one day must build in at most 500 MB, so each post
may add at most (500 MB − a small day's peak) / 100,000 to the peak. Every body goes through a spill whose
memory budget is lowered here (1 MB instead of 16), with the other buffers a huge day fills and then keeps at
a fixed size, so that a day of a few thousand posts behaves as 100,000 do: the bodies go to disk, and what each
post still costs in memory is measured. Built in a subprocess at two sizes, cold (every post read and
rendered, the cache written) and warm (as the cron's next run), as the issue measured it: the web page and the
email; then the EPUB, the same way (docs/scale.md has the 100,000-post measurements)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import from_small_parent, make_big_site

BUDGET_MB = 500  # the target for 100,000 posts in one day
HUGE_DAY = 100_000
SIZES = (1_000, 4_000)  # both many rounds of posts past every bounded buffer below
# What a huge day fills and then keeps at a fixed size is made small, so that both sizes are past it: the
# spill's memory (1 MB), the cache's pending writes (1 MB), the posts rendered in one round (128) and the
# front-matter lines kept for reuse (4,096 → 64: unique titles and dates fill it by ~700 posts).
LOWERED = ("import digest.runtime.spill as s; s.KEEP_BYTES = 1 << 20; s.TRIM_EVERY = 4 << 20; "
           "import digest.runtime.cache as c; c.FLUSH_BYTES = 1 << 20; "
           "import dataclasses, digest.runtime.parallel as p; p.POST = dataclasses.replace(p.POST, round=128); "
           "import functools, digest.sources.simplefront as f; f._line = functools.lru_cache(64)(f._line.__wrapped__); ")


def _build(site: Path, out: Path, cache: Path, *extra: str, lowered: bool = True) -> subprocess.CompletedProcess[str]:
    code = ((LOWERED if lowered else "") + "import resource, atexit, sys; "
            "atexit.register(lambda: print('peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
            "file=sys.stderr)); sys.argv[0] = 'digest'; from digest.cli.app import main; main()")
    cmd = [sys.executable, "-c", code, "build", str(site), "--date", "2022-04-19", "-o", str(out), "-q",
           *(extra if "-f" in extra else ("-f", "html,email,epub", *extra))]
    proc = subprocess.run(from_small_parent(cmd), env={**os.environ, "DIGEST_CACHE_DIR": str(cache), "SOURCE_DATE_EPOCH": "1650326400"},
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc


def peak_mb(site: Path, out: Path, cache: Path, *extra: str) -> float:
    """Peak RSS of the build's own process (the forked readers and renderers are not its memory)."""
    proc = _build(site, out, cache, "-f", "html,email", *extra)
    found = re.search(r"^peak (\d+)$", proc.stderr, re.M)
    assert found, proc.stderr
    return int(found.group(1)) / 1024


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    out = {}
    for posts in SIZES:
        root = tmp_path_factory.mktemp(f"day-{posts}")
        site = make_big_site(root / "site", posts)
        cold = peak_mb(site, root / "out", root / "cache")
        warm = peak_mb(site, root / "out", root / "cache", "--force")
        out[posts] = (cold, warm, root)
    large = max(SIZES)
    _build(out[large][2] / "site", out[large][2] / "out", out[large][2] / "cache", "-f", "epub")
    return out


def _allowance(base_mb: float, small: int, large: int) -> float:
    """MB the larger day may add: the budget left after the small day, shared over a huge day's posts."""
    return (BUDGET_MB - base_mb) / (HUGE_DAY - small) * (large - small)


def test_a_huge_day_costs_little_memory_per_post_when_its_posts_are_cached(measured):
    """The cron's next run of the day (or any build after the first): posts from the cache, bodies on disk."""
    (small, (_, warm_s, _)), (large, (_, warm_l, _)) = sorted(measured.items())
    assert warm_l - warm_s <= _allowance(warm_s, small, large), (warm_s, warm_l)


def test_a_huge_day_costs_little_memory_per_post_on_its_first_build(measured):
    """Every post read and rendered: the raw posts wait with their front matter and body on disk, the
    rendered ones arrive pickled as the cache keeps them (never re-pickled here, which would double every
    Chinese string), and only forked workers render (this process keeps results, not the renderer's waste)."""
    (small, (cold_s, _, _)), (large, (cold_l, _, _)) = sorted(measured.items())
    assert cold_l - cold_s <= _allowance(cold_s, small, large), (cold_s, cold_l)


def test_bodies_kept_on_disk_give_the_same_editions(measured):
    """What went to disk and came back is the whole day: the editions are byte-identical to a build that kept
    every body in memory (the default budget holds a 3,000-post day), and each holds every article."""
    large = max(measured)
    root = measured[large][2]
    _build(root / "site", root / "in-memory", root / "cache", lowered=False)
    names = ("2022-04-19.html", "2022-04-19.email.html", "2022-04-19.email.txt", "2022-04-19.epub")
    for name in names:
        spilled, kept = (root / "out" / "2022" / name).read_bytes(), (root / "in-memory" / "2022" / name).read_bytes()
        assert spilled == kept, name
    page = (root / "out" / "2022" / names[0]).read_text(encoding="utf-8")
    assert page.count('class="article"') == large and page.rstrip().endswith("</html>")
    with zipfile.ZipFile(root / "out" / "2022" / names[3]) as z:
        assert sum(n.endswith(".xhtml") for n in z.namelist()) > large  # one document per article, and more
    assert len((root / "out" / "2022" / names[1]).read_bytes()) <= 90_000
