"""The PDF's layouts are forked from a process started early that imports WeasyPrint on the other core while
the build collects the issue (``runtime.zygote``): the build's own process never imports WeasyPrint — in the
rebuild after one new article it only joins the pieces — and the PDF is byte for byte the one a build without
it gives (this process importing WeasyPrint and forking the layouts, as before)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_big_site
from test_pdf_incremental import add_post, pieces_in

pytestmark = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one core: no zygote, no workers")

BUILD = """
import sys
from datetime import date
from pathlib import Path

from digest import load_settings
from digest.build.run import BuildOptions, build
from digest.runtime import zygote
from digest.runtime.env import Environment

site, out, cache, started = sys.argv[1:]
if started == "off":  # the build as it was: this process imports WeasyPrint and forks the layouts from itself
    zygote.start = lambda preload: None
settings = load_settings(Path(site), overrides={"pdf": {"workers": 2}})
day = date(2022, 4, 19)
result = build(settings, day, day, ["pdf"], Path(out), BuildOptions(force=True), env=Environment(Path(cache), 1650412800))
print(len(result.issues), "weasyprint" in sys.modules)
"""


def _build(site: Path, out: Path, cache: Path, zygote: str) -> tuple[Path, str]:
    """A whole build in a process of its own (the library's ``build``): its PDF, and what it says about itself."""
    proc = subprocess.run([sys.executable, "-c", BUILD, str(site), str(out), str(cache), zygote],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (pdf,) = out.rglob("*.pdf")
    return pdf, proc.stdout.strip()


def test_the_rebuilds_process_never_imports_weasyprint_and_writes_the_same_pdf(tmp_path):
    site = make_big_site(tmp_path / "site", 14)
    _, said = _build(site, tmp_path / "out-cold", tmp_path / "cache", "on")
    assert said == "1 False"  # a cold build too: every layout in a worker forked from the zygote
    (tmp_path / "cache-off").mkdir()
    subprocess.run(["cp", "-a", f"{tmp_path / 'cache'}/.", str(tmp_path / "cache-off")], check=True)
    before = pieces_in(tmp_path / "cache")
    add_post(site)
    warm, said = _build(site, tmp_path / "out-warm", tmp_path / "cache", "on")
    assert said == "1 False"
    assert len(pieces_in(tmp_path / "cache") - before) == 2  # the new article's piece and the front were laid out
    without, said = _build(site, tmp_path / "out-without", tmp_path / "cache-off", "off")
    assert said == "1 True"  # (without the zygote this process imports it: the check above can fail)
    assert warm.read_bytes() == without.read_bytes()
