"""WeasyPrint is imported once per build, by the process that forks the layouts (the front matter's child and
the workers inherit it: each importing it was ~0.5 s of CPU), and not at all when every piece is cached."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from conftest import EXAMPLE, LATE_DAY


def _imports_of_weasyprint(site, out, cache) -> tuple[int, str]:
    """How many processes of the build imported WeasyPrint (``-X importtime`` is inherited by forks)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "digest", "build", str(site), "--date",
                           LATE_DAY.isoformat(), "-f", "pdf", "--out", str(out), "--force"],
                          env={**os.environ, "DIGEST_CACHE_DIR": str(cache), "SOURCE_DATE_EPOCH": "1650412800"},
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return len(re.findall(r"^import time:.*\|\s*weasyprint$", proc.stderr, flags=re.M)), proc.stderr


def test_weasyprint_imported_once_before_the_layouts_are_forked(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(EXAMPLE, site)
    with open(site / "digest.toml", "a", encoding="utf-8") as f:
        f.write("\n[pdf]\nworkers = 2\n")  # (two cores: a child for the front matter, then two workers)
    cold, _ = _imports_of_weasyprint(site, tmp_path / "out", tmp_path / "cache")
    assert cold == 1
    warm, _ = _imports_of_weasyprint(site, tmp_path / "out", tmp_path / "cache")  # every piece in the cache
    assert warm == 0
    assert list((tmp_path / "out").rglob("*.pdf"))
