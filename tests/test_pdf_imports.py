"""WeasyPrint is imported once per build, by the process the layouts are forked from (the front matter's child
and the workers inherit it: each importing it was ~0.5 s of CPU): a process started as soon as the build knows
an issue must be written, which imports it on the other core while the build collects the issue. A build
whose pieces are all cached has then imported it for nothing, at most once, beside it (that process ends with
the build); a build that finds the issue unchanged starts no such process and imports nothing."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from conftest import EXAMPLE, LATE_DAY


def _imports_of_weasyprint(site, out, cache, *, force: bool = True) -> tuple[int, str]:
    """How many processes of the build imported WeasyPrint (``-X importtime`` is inherited by forks and by the
    fork server, a new interpreter started with the same options)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "digest", "build", str(site), "--date",
                           LATE_DAY.isoformat(), "-f", "pdf", "--out", str(out), *(["--force"] if force else [])],
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
    # at most by the zygote, beside the build — if it finished before the build did: it dies with it (that the
    # build's own process never imports it is test_pdf_zygote's)
    assert warm <= 1
    unchanged, err = _imports_of_weasyprint(site, tmp_path / "out", tmp_path / "cache", force=False)
    assert unchanged == 0 and "forkserver" not in err  # nothing to write: no zygote started
    assert list((tmp_path / "out").rglob("*.pdf"))
