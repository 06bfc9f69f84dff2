"""One command for every benchmark: ``python -m benchmarks.run [--only scale,epub,…] [--workdir DIR]``.

Makes the workloads with benchmarks/make_site.py (a copy of ../shared/tools/make_site.py), runs each benchmark module
(digest and the peer
tools in the same run), prints one table with times, peak memory and ratios, and writes it to
benchmarks/RESULTS.md (the README quotes that file).
"""
from __future__ import annotations

import argparse
import compileall
import importlib
import platform
import time
from pathlib import Path

MODULES = ["scale", "email", "epub", "pdf", "month", "backfill"]
COLUMNS = [("workload", "workload"), ("edition", "what"), ("digest_s", "digest s"), ("digest_mb", "digest MB"),
           ("peer", "peer"), ("peer_s", "peer s"), ("peer_mb", "peer MB"), ("ratio", "ratio"), ("note", "note")]


def _fmt(key: str, value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        return f"{value:.2f}" if key != "digest_mb" and key != "peer_mb" else f"{value:.0f}"
    return str(value)


def table(rows: list[dict]) -> str:
    head = "| " + " | ".join(title for _, title in COLUMNS) + " |"
    sep = "|" + "|".join("---" for _ in COLUMNS) + "|"
    body = ["| " + " | ".join(_fmt(k, r.get(k)) for k, _ in COLUMNS) + " |" for r in rows]
    return "\n".join([head, sep, *body])


def print_rows(rows: list[dict]) -> None:
    print(table(rows), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", default=",".join(MODULES), help="comma-separated: " + ",".join(MODULES))
    ap.add_argument("--workdir", type=Path, default=Path("benchmarks/work"))
    ap.add_argument("--results", type=Path, default=Path(__file__).parent / "RESULTS.md")
    a = ap.parse_args()
    a.workdir.mkdir(parents=True, exist_ok=True)
    # The package byte-compiled, as a wheel install (or scripts/setup.sh) leaves it: where
    # PYTHONDONTWRITEBYTECODE is set, an editable install would otherwise compile it on every run.
    compileall.compile_dir(Path(__file__).resolve().parent.parent / "digest", quiet=1)
    rows: list[dict] = []
    t0 = time.perf_counter()
    for name in [m.strip() for m in a.only.split(",") if m.strip()]:
        try:
            mod = importlib.import_module(f"benchmarks.bench_{name}")
        except ModuleNotFoundError:
            print(f"(no benchmark module for {name})", flush=True)
            continue
        t = time.perf_counter()
        part = mod.run(a.workdir)
        print(f"\n## {name} ({time.perf_counter() - t:.0f} s)\n{table(part)}", flush=True)
        rows.extend(part)
    total = time.perf_counter() - t0
    text = (f"Machine: {platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}."
            f" Whole run: {total:.0f} s. Command: `.venv/bin/python -m benchmarks.run`\n\n{table(rows)}\n")
    a.results.write_text(text, encoding="utf-8")
    readme = Path(__file__).resolve().parent.parent / "README.md"
    if a.only == ",".join(MODULES) and update_readme(readme, text):
        print(f"README.md's table is this run's ({readme})")
    print(f"\n# all ({total:.0f} s)\n{table(rows)}\n\nwritten to {a.results}")


BEGIN, END = "<!-- benchmarks: begin (written by python -m benchmarks.run) -->", "<!-- benchmarks: end -->"


def update_readme(readme: Path, text: str) -> bool:
    """The README's benchmark table is the latest full run's (between the two markers), machine included."""
    try:
        old = readme.read_text(encoding="utf-8")
    except OSError:
        return False
    if BEGIN not in old or END not in old:
        return False
    head, rest = old.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{text}{END}{tail}", encoding="utf-8")
    return True


if __name__ == "__main__":
    main()
