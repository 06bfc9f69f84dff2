"""The standard checkers, run on real files: the Nu HTML Checker (vnu), Ace by DAISY and axe-core.

They come from Debian (Java, Chromium, Node.js: scripts/system-deps.sh) and npm (pinned in
scripts/validators/package-lock.json: scripts/validators/install.sh); scripts/setup.sh and scripts/test.sh run both.
A checker that is missing fails the test that needs it, naming the command that installs it: a skipped check
would pass on exactly the machines where nobody looked.

Each call runs one process for many files (a JVM or a Chromium costs more to start than a page costs to check):
`vnu(paths)`, `ace_many(epubs, workdir)`, `axe_many(jobs)`.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse
from xml.etree import ElementTree

import pytest

ROOT = Path(__file__).resolve().parent.parent
VALIDATORS = ROOT / "scripts" / "validators"
SYSTEM_INSTALL = "bash scripts/system-deps.sh (as root)"
NPM_INSTALL = "bash scripts/validators/install.sh"
PHONE, DESKTOP = 375, 1280
TIMEOUT = 1800  # seconds for one checker process (Ace on a 300-post EPUB: 4 to 13 minutes on a busy machine)
# vnu has no EPUB vocabulary: it reports every epub:type attribute (which EPUBCheck does validate)
_EPUB_TYPE = re.compile(r"Attribute “type” not allowed on element “[^”]+” at this point\.")
_OPS_PREFIX = re.compile(rb'xmlns:([\w.-]+)\s*=\s*["\']http://www\.idpf\.org/2007/ops["\']')


@dataclass(frozen=True)
class Tools:
    """Where each checker is: found once, in one place, so that a missing one names its install command."""

    java: str
    node: str
    chromium: str
    chromium_launcher: Path  # scripts/validators/chromium: the system Chromium with the flags this machine needs
    vnu_jar: Path
    ace: Path
    axe_runner: Path


def find_tools(node_modules: Path = VALIDATORS / "node_modules", path: str | None = None) -> Tools:
    """The checkers, or a test failure naming what installs the missing ones (`path` is a PATH to search)."""
    missing: list[str] = []

    def command(name: str) -> str:
        found = shutil.which(name, path=path)
        if found is None:
            missing.append(f"{name} (not on PATH): run {SYSTEM_INSTALL}")
        return found or name

    def installed(rel: str) -> Path:
        file = node_modules / rel
        if not file.is_file():
            missing.append(f"{file} (missing): run {NPM_INSTALL}")
        return file

    found = Tools(java=command("java"), node=command("node"), chromium=command("chromium"),
                  chromium_launcher=VALIDATORS / "chromium", vnu_jar=installed("vnu-jar/build/dist/vnu.jar"),
                  ace=installed("@daisy/ace-cli/bin/ace.js"), axe_runner=VALIDATORS / "axe-run.mjs")
    installed("axe-core/axe.min.js")
    installed("puppeteer-core/package.json")
    if missing:
        pytest.fail("validators not installed (bash scripts/setup.sh installs them all):\n  " + "\n  ".join(missing),
                    pytrace=False)
    return found


def _run(args: Sequence[str | Path], what: str, env: dict[str, str] | None = None) -> str:
    """Run a checker; its crash is a test failure with the checker's own words, not a JSON error later."""
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=TIMEOUT, env=env,
                          check=False)
    if proc.returncode != 0:
        pytest.fail(f"{what} exited {proc.returncode}:\n{proc.stderr[-3000:]}{proc.stdout[-2000:]}", pytrace=False)
    return proc.stdout


# -- Nu HTML Checker -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """One message of the Nu HTML Checker."""

    file: Path
    line: int | None
    column: int | None
    severity: str  # "error" | "warning" | "info"
    message: str
    extract: str  # the source around the problem
    source: str  # the part of `extract` the message is about (a start tag, say)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class VnuReport:
    findings: tuple[Finding, ...]
    # set aside, not dropped: epub:type attributes in EPUB documents, which vnu's HTML schema does not know
    epub_type: tuple[Finding, ...]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def of(self, file: Path) -> list[Finding]:
        return [f for f in self.findings if f.file == file]


def vnu(paths: Iterable[Path], *, langdetect: bool = True) -> VnuReport:
    """Check HTML (*.html), XHTML (*.xhtml, XML parser), SVG and CSS files: one JVM for the markup, one for CSS.

    (CSS apart: with --also-check-css, vnu 26.9 reports every line of a markup document one too low.)
    langdetect (vnu's check that `lang` matches the text) costs about 2 s of the JVM's start."""
    files = [Path(p) for p in paths]
    tools = find_tools()
    # -Xss: vnu's schema needs a deep stack; C1 only and the serial GC: a short run starts twice as fast
    java = [tools.java, "-Xss8m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(tools.vnu_jar),
            "--format", "json", "--stdout", "--exit-zero-always"]
    css = [p for p in files if p.suffix == ".css"]
    markup = [p for p in files if p.suffix != ".css"]
    runs = [([*java, "--also-check-svg", *([] if langdetect else ["--no-langdetect"]), *map(str, markup)], markup),
            ([*java, "--css", *map(str, css)], css)]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for args, group in runs if group]
    messages: list[dict[str, object]] = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=TIMEOUT)
            if proc.returncode != 0:
                pytest.fail(f"vnu exited {proc.returncode}:\n{err[-3000:]}{out[-2000:]}", pytrace=False)
            messages += json.loads(out)["messages"]
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                proc.wait()
    by_name = {p.resolve(): p for p in files}
    findings = [_finding(m, by_name) for m in messages]
    prefixes = {p: _ops_prefix(p) for p in markup}
    epub_type = [_is_epub_type(f, prefixes.get(f.file)) for f in findings]
    return VnuReport(tuple(f for f, aside in zip(findings, epub_type, strict=True) if not aside),
                     tuple(f for f, aside in zip(findings, epub_type, strict=True) if aside))


def _finding(message: dict[str, object], by_name: dict[Path, Path]) -> Finding:
    url = str(message.get("url", ""))
    file = Path(unquote(urlparse(url).path)).resolve() if url else Path("?")
    kind, sub = message.get("type"), message.get("subType")
    severity = "error" if kind in ("error", "non-document-error") else "warning" if sub == "warning" else "info"
    line = message.get("firstLine", message.get("lastLine"))
    column = message.get("firstColumn", message.get("lastColumn"))
    extract, start, length = str(message.get("extract", "")), message.get("hiliteStart"), message.get("hiliteLength")
    source = extract[start:start + length] if isinstance(start, int) and isinstance(length, int) else ""
    return Finding(file=by_name.get(file, file), line=line if isinstance(line, int) else None,
                   column=column if isinstance(column, int) else None, severity=severity,
                   message=str(message.get("message", "")), extract=extract, source=source)


def _ops_prefix(file: Path) -> str | None:
    """The prefix an XHTML document binds to the EPUB namespace (epub:, as a rule), if it binds one."""
    if file.suffix != ".xhtml" or not file.is_file():
        return None
    with file.open("rb") as f:
        found = _OPS_PREFIX.search(f.read(8192))
    return found.group(1).decode() if found else None


def _is_epub_type(f: Finding, prefix: str | None) -> bool:
    """An error about `type` on a start tag that really has {prefix}:type, the EPUB structural semantics."""
    return (prefix is not None and f.severity == "error" and _EPUB_TYPE.fullmatch(f.message) is not None
            and re.search(rf"\s{re.escape(prefix)}:type\s*=", f.source) is not None)


def epub_documents(epub: Path, workdir: Path) -> list[Path]:
    """The XHTML documents, style sheets and SVG images of an EPUB's manifest, unpacked for vnu (as *.xhtml,
    so that vnu parses them as XML, which is what they are)."""
    kinds = {"application/xhtml+xml": ".xhtml", "text/css": ".css", "image/svg+xml": ".svg"}
    out = workdir / epub.stem
    files = []
    with zipfile.ZipFile(epub) as book:
        container = ElementTree.fromstring(book.read("META-INF/container.xml"))
        rootfile = container.find(".//{*}rootfile")
        if rootfile is None:
            pytest.fail(f"{epub}: META-INF/container.xml names no package document", pytrace=False)
        opf_path = PurePosixPath(rootfile.get("full-path", ""))
        opf = ElementTree.fromstring(book.read(str(opf_path)))
        for item in opf.iterfind("{*}manifest/{*}item"):
            suffix = kinds.get(item.get("media-type", ""))
            if suffix is None:
                continue
            name = opf_path.parent / unquote(item.get("href", ""))
            dst = out / (str(name) if name.suffix == suffix else f"{name}{suffix}")
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(book.read(str(name)))
            files.append(dst)
    return files


# -- Ace by DAISY -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AceViolation:
    rule: str
    impact: str  # "minor" | "moderate" | "serious" | "critical"
    document: str  # the document or package file in the EPUB
    message: str
    targets: tuple[str, ...]  # CSS selectors, when Ace gives them


@dataclass(frozen=True)
class AceReport:
    epub: Path
    outcome: str  # "pass" | "fail"
    violations: tuple[AceViolation, ...]
    missing_metadata: tuple[str, ...]  # accessibility metadata the package does not declare
    report: Path  # Ace's report.json (report.html beside it)

    def by_impact(self) -> dict[str, list[AceViolation]]:
        grouped: dict[str, list[AceViolation]] = {}
        for v in self.violations:
            grouped.setdefault(v.impact, []).append(v)
        return grouped

    def rules(self) -> Counter[str]:
        return Counter(v.rule for v in self.violations)


def ace(epub: Path, workdir: Path) -> AceReport:
    [report] = ace_many([epub], workdir)
    return report


def ace_many(epubs: Sequence[Path], workdir: Path, jobs: int = 2) -> list[AceReport]:
    """Ace each EPUB, `jobs` at a time (each Ace starts its own Chromium), in the given order."""
    tools = find_tools()
    homes = [workdir / f"ace-{i}-{epub.stem}" for i, epub in enumerate(epubs)]
    for home in homes:
        if home.exists():
            shutil.rmtree(home)
        home.mkdir(parents=True)
    # Chromium's singleton socket lives in TMPDIR and a socket's path is at most 107 bytes: a short one
    with tempfile.TemporaryDirectory(prefix="ace-") as tmp:
        pending = list(enumerate(zip(epubs, homes, strict=True)))
        active: list[tuple[subprocess.Popen[str], Path, Path]] = []
        try:
            while pending or active:
                while pending and len(active) < jobs:
                    i, (epub, home) = pending.pop(0)
                    (Path(tmp) / str(i)).mkdir()
                    active.append((_start_ace(tools, epub, home, Path(tmp) / str(i)), epub, home))
                proc, epub, home = active.pop(0)
                out, err = proc.communicate(timeout=TIMEOUT)
                if proc.returncode != 0:
                    log = "".join(p.read_text(errors="replace") for p in sorted(home.glob("xdg/*/*.log")))
                    pytest.fail(f"ace {epub} exited {proc.returncode}:\n{err[-2000:]}{out[-1000:]}{log[-3000:]}",
                                pytrace=False)
        finally:
            for proc, _, _ in active:
                proc.kill()
                proc.wait()
    return [_ace_report(epub, home / "out" / "report.json") for epub, home in zip(epubs, homes, strict=True)]


def _start_ace(tools: Tools, epub: Path, home: Path, tmp: Path) -> subprocess.Popen[str]:
    # Ace's puppeteer starts the launcher (which adds this machine's flags to the system Chromium);
    # its logs, config and caches stay in `home`, its Chromium profile in `tmp`
    env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": str(tools.chromium_launcher),
           "DIGEST_CHROMIUM": tools.chromium, "PUPPETEER_SKIP_DOWNLOAD": "1", "TMPDIR": str(tmp),
           **{k: str(home / "xdg") for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")}}
    return subprocess.Popen([tools.node, str(tools.ace), "--silent", "--force", "--outdir", str(home / "out"),
                             str(epub)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _ace_report(epub: Path, path: Path) -> AceReport:
    if not path.is_file():
        pytest.fail(f"ace {epub}: no report written ({path})", pytrace=False)
    data = json.loads(path.read_text(encoding="utf-8"))
    violations = []
    for subject in data.get("assertions", []):
        document = str(subject.get("earl:testSubject", {}).get("url", ""))
        for a in subject.get("assertions", []):
            if a.get("earl:result", {}).get("earl:outcome") != "fail":
                continue
            test, result = a.get("earl:test", {}), a["earl:result"]
            css = result.get("earl:pointer", {}).get("css", [])
            violations.append(AceViolation(rule=str(test.get("dct:title", "")), impact=str(test.get("earl:impact", "")),
                                           document=document, message=str(result.get("dct:description", "")),
                                           targets=tuple(dict.fromkeys(css))))
    missing = data.get("a11y-metadata", {}).get("missing", [])
    return AceReport(epub=epub, outcome=str(data.get("earl:result", {}).get("earl:outcome", "")),
                     violations=tuple(violations), missing_metadata=tuple(missing), report=path)


# -- axe-core in the system Chromium ------------------------------------------------------------------------
@dataclass(frozen=True)
class AxeJob:
    file: Path
    width: int  # the viewport's CSS width: PHONE or DESKTOP
    dark: bool  # prefers-color-scheme: dark


@dataclass(frozen=True)
class AxeViolation:
    rule: str
    impact: str
    target: str  # the element's CSS selector
    help: str
    summary: str  # axe's "Fix any of the following: …"

    def __str__(self) -> str:
        return f"{self.impact} {self.rule} at {self.target}: {self.summary.splitlines()[-1] if self.summary else ''}"


def axe(html_file: Path, *, width: int, dark: bool) -> list[AxeViolation]:
    job = AxeJob(Path(html_file), width, dark)
    return axe_many([job])[job]


def axe_many(jobs: Sequence[AxeJob], parallel: int = 2) -> dict[AxeJob, list[AxeViolation]]:
    """Run axe-core on every job's page in one Chromium, `parallel` pages at a time (pages reach nothing but
    local files). A file's jobs share one loaded page."""
    tools = find_tools()
    with tempfile.TemporaryDirectory(prefix="axe-") as tmp:
        spec = {"chromium": str(tools.chromium_launcher), "profile": str(Path(tmp) / "profile"), "parallel": parallel,
                "jobs": [{"file": str(j.file.resolve()), "width": j.width, "dark": j.dark} for j in jobs]}
        (Path(tmp) / "jobs.json").write_text(json.dumps(spec), encoding="utf-8")
        env = {**os.environ, "DIGEST_CHROMIUM": tools.chromium, "TMPDIR": tmp}
        out = _run([tools.node, tools.axe_runner, Path(tmp) / "jobs.json"], "axe (scripts/validators/axe-run.mjs)",
                   env=env)
    results = json.loads(out)["results"]
    return {job: [AxeViolation(rule=v["id"], impact=v["impact"] or "", target=t["target"], help=v["help"],
                               summary=t["summary"]) for v in r["violations"] for t in v["targets"]]
            for job, r in zip(jobs, results, strict=True)}
