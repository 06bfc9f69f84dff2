"""Benchmark of the email edition on the 300-post day (make_site.py, 2022-04-19).

Rows:
* in-process: the build of the email edition (collect → assemble → fit the size budget → write
  HTML, text and .eml), timed inside one process after its imports, cold parsed-post cache. Target ≤ 0.5 s.
  A second row gives the exporter's share (the digest already assembled).
* CLI: ``digest build --format email --no-cache`` as a user runs it (start-up included), against
  pandoc turning the same posts (one Markdown file) into one standalone HTML page.

Run alone: ``python -m benchmarks.bench_email [WORKDIR]``.
"""
from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from .common import PYTHON, digest_cmd, make_site, markdown_of, measure, median_run

DAY = "2022-04-19"
TARGET_S = 0.5

# Runs in a child process: imports first (start-up), then the timed build.
_CHILD = r"""
import json, sys, time, tempfile, os
from datetime import date
from pathlib import Path
from digest.build import make_digest, write_issue
from digest.editions import load_settings
from digest.runtime.env import Environment
from digest.theming.loader import load_theme
import digest.editions.email.render  # the edition's own imports (css-inline) belong to start-up
site, out = Path(sys.argv[1]), Path(sys.argv[2])
times, export = [], []
for i in range(int(sys.argv[3])):
    env = Environment(Path(tempfile.mkdtemp()))  # cold cache: every post parsed
    t0 = time.perf_counter()
    settings = load_settings(site)
    digest = make_digest(settings, date(2022, 4, 19), date(2022, 4, 19), env=env)
    t1 = time.perf_counter()
    files = write_issue(digest, ["email"], out / str(i), theme=load_theme(settings), settings=settings, env=env)
    times.append(time.perf_counter() - t0)
    export.append(time.perf_counter() - t1)
html = [f for f in files if f.name.endswith(".email.html")][0]
print(json.dumps({"times": times, "export": export, "html_bytes": html.stat().st_size, "posts": digest.count}))
"""


def in_process(site: Path, out: Path, repeat: int = 5) -> tuple[float, float, dict]:
    """Median in-process build time, the child's peak RSS, and what it reported."""
    script = out / "child.py"
    script.write_text(_CHILD, encoding="utf-8")
    proc = subprocess.run([PYTHON, str(script), str(site), str(out), str(repeat)], check=True,
                          capture_output=True, text=True)
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    peak = measure([PYTHON, str(script), str(site), str(out / "m"), "1"]).peak_mb
    return statistics.median(info["times"]), peak, info


def run(workdir: Path) -> list[dict]:
    workdir.mkdir(parents=True, exist_ok=True)
    site = make_site(workdir / "site300", 300)
    out = Path(tempfile.mkdtemp(prefix="bench-email-", dir=workdir))
    try:
        seconds, peak, info = in_process(site, out)
        rows = [{
            "workload": f"300-post day ({info['posts']} posts), email HTML {info['html_bytes']:,} B",
            "edition": "email (in-process, after start-up)",
            "digest_s": round(seconds, 3), "digest_mb": round(peak, 1),
            "peer": None, "peer_s": None, "peer_mb": None,
            "ratio": None, "note": f"target ≤ {TARGET_S} s; cold parsed-post cache; median of 5",
        }, {
            "workload": "300-post day, digest already assembled",
            "edition": "email exporter only (fit budget, write 3 files)",
            "digest_s": round(statistics.median(info["export"]), 3), "digest_mb": round(peak, 1),
            "peer": None, "peer_s": None, "peer_mb": None, "ratio": None,
            "note": "the rest of the first row is collect + assemble",
        }]
        cli = median_run(digest_cmd("build", str(site), "--date", DAY, "--format", "email", "--no-cache",
                                    "--quiet", "--out", str(out / "cli")), env={"DIGEST_CACHE_DIR": str(out / "cache")})
        peer = None
        if shutil.which("pandoc"):
            md = markdown_of(site, DAY, out / "day.md")
            peer = median_run(["pandoc", "-s", "--metadata", "title=digest", str(md), "-o", str(out / "day.html")])
        rows.append({
            "workload": "300-post day",
            "edition": "email (CLI, start-up included)",
            "digest_s": round(cli.seconds, 3), "digest_mb": round(cli.peak_mb, 1),
            "peer": "pandoc -s (md → html)" if peer else None,
            "peer_s": round(peer.seconds, 3) if peer else None,
            "peer_mb": round(peer.peak_mb, 1) if peer else None,
            "ratio": round(peer.seconds / cli.seconds, 2) if peer else None,  # × faster, as the others
        })
        return rows
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    workdir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.gettempdir()) / "digest-bench"
    rows = run(workdir)
    cols = ["workload", "edition", "digest_s", "digest_mb", "peer", "peer_s", "peer_mb", "ratio"]
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join("" if r[c] is None else str(r[c]) for c in cols))
    ok = rows[0]["digest_s"] <= TARGET_S
    print(f"target: email edition of the 300-post day in ≤ {TARGET_S} s after start-up: "
          f"{rows[0]['digest_s']} s {'OK' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
