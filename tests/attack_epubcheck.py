"""EPUBCheck for many books in one JVM, for tests/test_attack_corpus.py: one book path per line on stdin, one
JSON list of findings per line on stdout.

A fresh ``java -jar epubcheck.jar`` costs about 5 s of CPU before it reads anything; the corpus makes a
hundred small books. This process starts the JVM once through JPype (when installed) and calls EPUBCheck's
command-line class for each book, so each costs a fraction of a second. Without JPype each book gets its own
``java``. Run as its own process: a JVM inside the pytest process would keep it from exiting.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

OPTS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


def main() -> None:
    jar = Path(str(__import__("epubcheck").__file__)).parent / "epubcheck.jar"
    try:
        import jpype

        jpype.startJVM(*OPTS, classpath=[str(jar)], convertStrings=True)
        checker = jpype.JClass("com.adobe.epubcheck.tool.EpubChecker")
    except ImportError:
        checker = None
    for line in sys.stdin:
        book = Path(line.rstrip("\n"))
        report = book.with_suffix(".epubcheck.json")
        if checker is not None:
            checker().run([str(book), "--json", str(report), "-q"])
        else:
            subprocess.run(["java", *OPTS, "-jar", str(jar), str(book), "--json", str(report)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600, check=False)
        sys.stdout.write(json.dumps(messages(report)) + "\n")
        sys.stdout.flush()


def messages(report: Path) -> list[str]:
    """Fatal errors, errors and warnings, one line each, with the document and line they point at."""
    if not report.is_file():
        return ["EPUBCheck wrote no report"]
    data = json.loads(report.read_text(encoding="utf-8"))
    out = []
    for m in data["messages"]:
        if m["severity"] in ("FATAL", "ERROR", "WARNING"):
            for loc in (m.get("locations") or [{}])[:3]:
                out.append(f"{m['severity']} {m['ID']} @ {loc.get('path')}:{loc.get('line')}: {m['message'][:140]}")
    return out


if __name__ == "__main__":
    main()
