"""Measuring helpers shared by the benchmark modules: wall time and peak memory of a child process."""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAKE_SITE = ROOT / "benchmarks" / "make_site.py"  # a copy of ../shared/tools/make_site.py
SOURCE = ROOT / "examples" / "finews"  # the real posts it grows sites from
PYTHON = sys.executable


@dataclass
class Run:
    seconds: float
    peak_mb: float
    returncode: int


def measure(cmd: list[str], *, cwd: Path | None = None, env: dict | None = None, quiet: bool = True) -> Run:
    """Run ``cmd``; its wall time and its own peak RSS (from wait4, so only that child counts)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL if quiet else None,
                            stderr=subprocess.DEVNULL if quiet else None)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode)


def median_run(cmd: list[str], repeat: int = 3, **kw) -> Run:
    runs = [measure(cmd, **kw) for _ in range(repeat)]
    return Run(statistics.median(r.seconds for r in runs), max(r.peak_mb for r in runs),
               max(r.returncode for r in runs))


def make_site(out: Path, posts: int, days: int = 1, long: float = 0.5, start: str = "2022-04-19") -> Path:
    """Make (once) a site with make_site.py from the example site's posts."""
    if (out / "_posts").is_dir():
        return out
    subprocess.run([PYTHON, str(MAKE_SITE), str(out), "--posts", str(posts), "--days", str(days),
                    "--long", str(long), "--start", start, "--source", str(SOURCE)], check=True,
                   stdout=subprocess.DEVNULL)
    return out


def digest_cmd(*args: str) -> list[str]:
    exe = shutil.which("digest", path=str(Path(PYTHON).parent)) or "digest"
    return [exe, *args]


def markdown_of(site: Path, day: str, out: Path) -> Path:
    """The day's posts as one Markdown file (the peers' input): front matter dropped, titles as headings."""
    import frontmatter

    parts = []
    for p in sorted((site / "_posts").glob(f"{day}-*.md")):
        fm, body = frontmatter.parse(p.read_text(encoding="utf-8"))
        parts.append(f"# {fm.get('title', p.stem)}\n\n{body}\n")
    out.write_text("\n".join(parts), encoding="utf-8")
    return out
