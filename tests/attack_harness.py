"""The attack corpus (tests/data/attacks/vectors.jsonl) and the machinery test_attack_corpus.py drives it with.

Everything goes through the ``digest`` command line and the files it writes: builds run as ``python -m digest``
processes (or, for the many small config builds, through tests/attack_driver.py), and every output is parsed
and checked by tests/active_content.py.

Attribution. A survivor must name its vector. Posts are written as ``2022-01-05-zq0123.md`` (article id
``a-zq0123``) with the marker ``zq0123`` in their body and links; config values that hold several vectors put
``zq0123x07`` (vector 123, field 7) before each one. Walking each output in document order, a finding belongs to
the last marker seen before it. Findings no marker reaches (a mail header, a PDF attachment) are matched against
the vectors the build was given.
"""
from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from active_content import (
    _RAW_TAG,
    SAFE_MEMBER,
    SAFE_SCHEMES,
    XML_PARSER,
    bad_url,
    check_element,
    check_headers,
    check_opf,
    feed_content,
    parse_feed,
    parse_html,
    pdf_objects,
)

HERE = Path(__file__).parent
VECTORS_FILE = HERE / "data" / "attacks" / "vectors.jsonl"
XSS_FILE = HERE / "data" / "xss" / "vectors.txt"
DAY = "2022-01-05"
FULL_ENV = "DIGEST_ATTACKS"  # DIGEST_ATTACKS=all: the exhaustive matrix (every vector × every field and setting)
MARK = re.compile(r"zq(\d{4})(?:x(\d{2}))?")


@dataclass(frozen=True)
class Vector:
    id: str  # "a123"
    vector: str
    source: str
    licence: str
    cls: str

    @property
    def num(self) -> int:
        return int(self.id[1:])

    def mark(self, field: int | None = None) -> str:
        return f"zq{self.num:04d}" + (f"x{field:02d}" if field is not None else "")


def exhaustive() -> bool:
    """Whether this run is the long soak (``DIGEST_ATTACKS=all``) rather than the default run, which checks
    every vector in a few builds (docs/safety.md)."""
    return os.environ.get(FULL_ENV, "").strip().lower() == "all"


def load_vectors() -> list[Vector]:
    out = []
    for line in VECTORS_FILE.read_text(encoding="utf-8").split("\n"):
        if not line:
            continue
        r = json.loads(line)
        out.append(Vector(r["id"], r["vector"], r["source"], r["licence"], r["class"]))
    return out


def norm(v: str) -> str:
    """How the corpus was de-duplicated: white space collapsed, case folded."""
    return re.sub(r"\s+", " ", v.strip()).lower()


def xss_vectors() -> list[str]:
    lines = XSS_FILE.read_text(encoding="utf-8").splitlines()
    return [ln.replace("⏎", "\n") for ln in lines if ln.strip() and not ln.startswith("#")]


# -- writing values into YAML and TOML -------------------------------------------------------------

_YAML_UNPRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def yaml_str(s: str) -> str:
    """A YAML double-quoted scalar holding exactly ``s`` (YAML refuses raw non-printable characters)."""
    q = json.dumps(s, ensure_ascii=False)
    return _YAML_UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", q)


def toml_str(s: str) -> str:
    """A TOML basic string holding exactly ``s``."""
    q = json.dumps(s, ensure_ascii=False)
    return re.sub("[\x7f\ud800-\udfff]", lambda m: f"\\u{ord(m.group(0)):04x}", q)


def front_matter(values: dict[str, Any]) -> str:
    lines = []
    for k, v in values.items():
        if isinstance(v, list):
            lines.append(f"{k}: [{', '.join(yaml_str(x) for x in v)}]")
        else:
            lines.append(f"{k}: {yaml_str(v)}")
    return "\n".join(lines) + "\n"


# -- running digest ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    argv: tuple[str, ...]
    code: int
    stdout: str
    stderr: str


def cli_env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["DIGEST_CACHE_DIR"] = str(cache)
    return env


def run_cli(argv: list[str], cache: Path, timeout: float = 600) -> Run:
    """``python -m digest ARGS`` in its own process."""
    try:
        p = subprocess.run([sys.executable, "-m", "digest", *argv], capture_output=True, text=True,
                           env=cli_env(cache), timeout=timeout, errors="replace", check=False)
    except subprocess.TimeoutExpired:
        return Run(tuple(argv), -9, "", f"timeout: still running after {timeout:.0f} s\n")
    return Run(tuple(argv), p.returncode, p.stdout, p.stderr)


class Driver:
    """One tests/attack_driver.py process: commands run one after another, without a new start-up each.

    A command that runs past ``timeout`` seconds is a finding (the rules want bounded time): the process is
    ended and a new one started for the next command. The limit is wall time on a shared machine: a small
    config build takes seconds alone, but 30 s was passed by sound builds under a load of 15 on 2 cores."""

    def __init__(self, cache: Path, timeout: float = 150):
        self.cache, self.timeout = cache, timeout
        self.proc = self._start()

    def _start(self) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, str(HERE / "attack_driver.py")], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env=cli_env(self.cache), errors="replace")

    def run(self, argv: list[str]) -> Run:
        import select

        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None and stdout is not None
        stdin.write(json.dumps(argv) + "\n")
        stdin.flush()
        ready, _, _ = select.select([stdout], [], [], self.timeout)
        if not ready:
            self.proc.kill()
            self.proc.wait()
            self.proc = self._start()
            return Run(tuple(argv), -9, "", f"timeout: still running after {self.timeout:.0f} s\n")
        line = stdout.readline()
        if not line:
            self.proc = self._start()
            return Run(tuple(argv), -1, "", "Traceback: the driver process died\n")
        r = json.loads(line)
        return Run(tuple(argv), r["code"], r["stdout"], r["stderr"])

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def build_args(site: Path, out: Path, formats: str = "all") -> list[str]:
    return ["build", str(site), "--date", DAY, "--format", formats, "--out", str(out), "--no-cache",
            "--allow-missing-fonts"]


def archive_args(site: Path, out: Path) -> list[str]:
    return ["archive", str(site), "--out", str(out)]


def process_problems(run: Run, expect_articles: int | None = None) -> list[str]:
    """What a run did wrong as a process: a traceback, an undocumented exit code, a message over several lines,
    a lost post. (Exit 2 is judged by the caller: it is right only for a refused config value.)"""
    found = []
    if "Traceback" in run.stderr or "Traceback" in run.stdout:
        tail = [ln for ln in run.stderr.splitlines() if ln.strip()][-1:] or ["?"]
        found.append(f"traceback: {tail[0][:160]}")
    elif run.stderr.startswith("timeout:"):
        found.append(run.stderr.strip())
    elif run.code not in (0, 2):
        found.append(f"exit {run.code}: {run.stderr.strip()[:160]!r}")
    loose = [ln for ln in run.stderr.splitlines() if ln.strip() and not ln.startswith("digest: ")]
    if loose and "Traceback" not in run.stderr and not run.stderr.startswith("timeout:"):
        found.append(f"a message over several lines: {loose[0][:100]!r}")
    if expect_articles is not None and run.code == 0 and f"{expect_articles} articles" not in run.stdout:
        head = run.stdout.splitlines()[:1] or ["(nothing)"]
        found.append(f"posts lost: {head[0][:100]!r}, expected {expect_articles} articles")
    return found


class EpubCheck:
    """tests/attack_epubcheck.py: EPUBCheck in one JVM, one book at a time, callable from any thread."""

    def __init__(self) -> None:
        import shutil
        import threading

        self.lock = threading.Lock()
        self.proc = None
        if shutil.which("java") is not None:
            self.proc = subprocess.Popen([sys.executable, str(HERE / "attack_epubcheck.py")], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def __call__(self, book: Path) -> list[str]:
        if self.proc is None or self.proc.stdin is None or self.proc.stdout is None:
            return []  # no Java: nothing to check with (as test_epub.py does)
        with self.lock:
            self.proc.stdin.write(f"{book}\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        return json.loads(line) if line else ["EPUBCheck stopped"]

    def close(self) -> None:
        if self.proc is not None and self.proc.stdin is not None:
            self.proc.stdin.close()
            self.proc.wait(timeout=120)


class EpubQueue:
    """Books go to EPUBCheck in the background while the builds go on; ``submit`` returns a future."""

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.check = EpubCheck()
        self.pool = ThreadPoolExecutor(1)

    def submit(self, book: Path) -> Any:
        return self.pool.submit(self.check, book)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.check.close()


# -- scanning outputs ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Hit:
    """One survivor (or EPUBCheck message) in one output file, with the markers that place it."""

    fmt: str  # html, epub, pdf, email, archive, epubcheck
    file: str
    what: str
    marks: tuple[str, ...]  # "zq0123" or "zq0123x07"; empty when no marker reaches it


def fmt_of(path: Path) -> str:
    name = path.name
    if name.endswith((".email.html", ".eml")):
        return "email"
    if name.endswith(".epub"):
        return "epub"
    if name.endswith(".pdf"):
        return "pdf"
    if path.parent.name.isdigit() and name.endswith(".html"):
        return "html"
    return "archive"


class _Walk:
    """Document-order walk of an element tree; each finding gets the last marker seen before it."""

    def __init__(self, where: str, fmt: str, file: str, mark: str | None = None):
        self.where, self.fmt, self.file, self.mark = where, fmt, file, mark
        self.hits: list[Hit] = []

    def see(self, text: str | None) -> None:
        for m in MARK.finditer(text or ""):
            self.mark = m.group(0)

    def visit(self, el: Any) -> None:
        if isinstance(el.tag, str):
            for value in el.attrib.values():
                self.see(value)
        self.see(el.text if isinstance(el.tag, str) else None)
        for what in check_element(el, self.where):
            self.hits.append(Hit(self.fmt, self.file, what, (self.mark,) if self.mark else ()))
        for child in el:
            self.visit(child)
            self.see(child.tail)


def walk(root: Any, where: str, fmt: str, file: str, mark: str | None = None) -> list[Hit]:
    w = _Walk(where, fmt, file, mark)
    w.visit(root)
    return w.hits


def _plain(found: Iterable[str], fmt: str, file: str) -> list[Hit]:
    return [Hit(fmt, file, what, tuple(m.group(0) for m in MARK.finditer(what))[-1:]) for what in found]


def marks_before(text: str, what: str) -> tuple[str, ...]:
    """For a parse error ``… line L, column C …``: the last marker in ``text`` before that place."""
    m = re.search(r"line (\d+), column (\d+)", what)
    if not m:
        return ()
    lines = text.split("\n")
    upto = "\n".join([*lines[:int(m.group(1)) - 1], lines[int(m.group(1)) - 1][:int(m.group(2))]]
                     if int(m.group(1)) <= len(lines) else lines)
    return tuple(x.group(0) for x in MARK.finditer(upto))[-1:]


def scan_epub(path: Path) -> list[Hit]:
    from lxml import etree

    hits: list[Hit] = []
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            name = info.filename
            where = f"{path.name}:{name}"
            first = MARK.search(name)
            if not SAFE_MEMBER.match(name) or ".." in name.split("/"):
                hits += _plain([f"{path.name}: unsafe member name {name!r}"], "epub", path.name)
            data = z.read(info)
            if name.endswith((".xhtml", ".html", ".htm", ".svg", ".ncx", ".xml", ".opf")):
                try:
                    root = etree.fromstring(data, XML_PARSER)
                except etree.XMLSyntaxError as e:
                    what = f"{where}: not well-formed XML ({e})"
                    hits.append(Hit("epub", path.name, what, marks_before(data.decode("utf-8", "replace"), what)))
                    continue
                raw = [f"{where}: raw {m.group(0)[:40]!r}" for m in _RAW_TAG.finditer(data)]
                hits += _plain(raw, "epub", path.name)
                hits += walk(root, where, "epub", path.name, first.group(0) if first else None)
                if name.endswith(".opf"):
                    extra = [f for f in check_opf(data, where) if "item" in f.split(":", 2)[-1][:8]]
                    hits += _plain(extra, "epub", path.name)
            elif name.endswith((".js", ".mjs")):
                hits += _plain([f"{where}: a script file"], "epub", path.name)
    return hits


def scan_pdf(path: Path) -> list[Hit]:
    """Link annotations page by page (markers from the links to each article), then every object."""
    import pikepdf

    hits: list[Hit] = []
    mark: str | None = None
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            for annot in page.obj.get("/Annots") or []:
                action = annot.get("/A")
                if action is None:
                    continue
                kind = str(action.get("/S", ""))
                uri = str(action.get("/URI", "")) if kind == "/URI" else ""
                for m in MARK.finditer(uri):
                    mark = m.group(0)
                bad = kind not in ("/URI", "/GoTo") or (kind == "/URI" and (
                    not uri.lower().startswith(SAFE_SCHEMES) or bad_url(uri, "href")))
                if bad:
                    hits.append(Hit("pdf", path.name, f"{path.name}: link {kind} {uri[:60]!r}", (mark,) if mark else ()))
    seen = {h.what.split("link ", 1)[-1] for h in hits}
    rest = [f for f in pdf_objects(path) if not any(s in f for s in seen)]
    return hits + _plain(rest, "pdf", path.name)


def scan_file(path: Path) -> list[Hit]:
    fmt = fmt_of(path)
    name = path.name
    if name.endswith(".epub"):
        return scan_epub(path)
    if name.endswith(".pdf"):
        return scan_pdf(path)
    if name.endswith(".eml"):
        import email
        from email import policy

        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        hits = _plain(check_headers(msg, name), fmt, name)
        for part in msg.walk():
            if part.get_content_type() == "text/html":
                hits += walk(parse_html(part.get_content()), f"{name}:html part", fmt, name)
        return hits
    if name.endswith((".html", ".htm")):
        return walk(parse_html(path.read_bytes()), name, fmt, name)
    if name.endswith((".atom", ".xml")):
        root, found = parse_feed(path)
        if root is None:
            text = path.read_text(encoding="utf-8", errors="replace")
            return [Hit(fmt, name, what, marks_before(text, what)) for what in found]
        return walk(root, name, fmt, name) + _plain(feed_content(root, name), fmt, name)
    return []


def scan_outputs(out: Path) -> list[Hit]:
    hits: list[Hit] = []
    for f in sorted(out.rglob("*")):
        if f.is_file() and not f.name.startswith(".") and ".epubcheck" not in f.name:
            hits += scan_file(f)
    return hits


def matches(vector: str, what: str) -> bool:
    """Whether a finding's text shows (part of) this vector: compared without case, entities or white space."""
    def squash(s: str) -> str:
        return re.sub(r"\s+", "", html.unescape(html.unescape(s))).lower()

    v, w = squash(vector), squash(what)
    if not v:
        return False
    probe = v[:24]
    return probe in w or (len(w) > 12 and any(w[i:i + 16] in v for i in range(0, max(1, len(w) - 16), 8)
                                             if len(w[i:i + 16]) == 16))
