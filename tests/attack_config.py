"""Config fields under attack: every string and URL setting of ``_config.yml``, ``digest.toml`` and a theme's
``theme.toml`` options, each given every vector of the corpus.

A setting holds one value per build, so vectors are batched: a text setting gets a chunk of vectors joined into
one value, each after its marker ``zq0123x07`` (vector 123, setting 7); a URL or address setting gets each vector
of the url and header classes as its whole value (a scheme only matters at the start) and the other classes in
chunks. One build carries one item (a chunk or a whole value) for every setting at once, so about a hundred small
builds cover everything.

A build can answer three ways. Exit 0: the outputs are scanned. Exit 2 with one line naming settings (or
quoting their values — that is reported too, the line should name the setting): those values were refused,
which is right; a refused batch of a setting that accepts text is split down to 5 vectors, so one refused
vector does not hide its neighbours. Anything else (a traceback, another exit code, exit 2 without naming a
setting, a build still running after 150 s): the build's items are split in two groups built alone, down to the
setting that breaks it; that setting's failure is reported, and its remaining values are listed as not checked
(a build that does not finish has nothing to scan).
"""
from __future__ import annotations

import re
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from queue import Queue

from attack_harness import (
    Driver,
    EpubQueue,
    Hit,
    Run,
    Vector,
    matches,
    toml_str,
    yaml_str,
)


@dataclass(frozen=True)
class Setting:
    name: str  # "email.web_url"; a theme option is "theme.accent"
    home: str  # "jekyll" (_config.yml or digest.toml, by turns), "toml", "theme"
    kind: str  # "text", "url", "address"

    @property
    def key(self) -> str:
        """The word an error message names."""
        return self.name.rsplit(".", 1)[-1] if not self.name.startswith("attribution.hosts") else "hosts"


SETTINGS = (
    Setting("title", "jekyll", "text"), Setting("description", "jekyll", "text"),
    Setting("author", "jekyll", "text"), Setting("lang", "jekyll", "text"),
    Setting("publisher", "toml", "text"), Setting("email.subject", "toml", "text"),
    Setting("sections.news", "toml", "text"), Setting("attribution.hosts", "toml", "text"),
    *(Setting(f"theme.{k}", "theme", "text") for k in ("accent", "ink", "paper", "muted", "rule", "font_serif",
                                                       "font_sans", "motto", "pdf.pdf_font")),
    Setting("url", "jekyll", "url"), Setting("baseurl", "jekyll", "url"), Setting("permalink", "jekyll", "url"),
    Setting("email.web_url", "toml", "url"), Setting("email.unsubscribe", "toml", "url"),
    Setting("archive.base_url", "toml", "url"),
    Setting("email.from_addr", "toml", "address"), Setting("email.reply_to", "toml", "address"),
    Setting("email.to", "toml", "address"),
)
WHOLE = {"text": (), "url": ("url", "header"), "address": ("header", "url")}
CHUNK = 40
DEFAULTS = {
    "title": "Attack config", "description": "A site under attack", "author": "Ann Author", "lang": "en",
    "publisher": "Attack Press", "email.subject": "{site_title} {date}", "sections.news": "News",
    "attribution.hosts": "H outlet", "url": "https://example.org", "baseurl": "", "permalink": "date",
    "email.web_url": "https://example.org/digest/{year}/{slug}.html",
    "email.unsubscribe": "https://example.org/unsubscribe", "archive.base_url": "https://example.org/digest/",
    "email.from_addr": "digest@example.org", "email.reply_to": "editor@example.org", "email.to": "reader@example.org",
}


@dataclass(frozen=True)
class Item:
    setting: int  # index in SETTINGS
    vectors: tuple[Vector, ...]
    whole: bool  # the value is the one vector itself, without a marker

    def value(self) -> str:
        if self.whole:
            return self.vectors[0].vector
        return " ".join(f"{v.mark(self.setting)} {v.vector}" for v in self.vectors)

    def halves(self) -> list[Item]:
        n = len(self.vectors) // 2
        return [Item(self.setting, self.vectors[:n], False), Item(self.setting, self.vectors[n:], False)]


# Settings that take any text (made one line): in the default run every vector goes through them, in chunks.
# (Not theme.motto: every theme option must be fit for CSS templates; not email.subject: a template whose
# braces are placeholders. Most chunks are refused there, on one line.)
OPEN_TEXT = ("title", "description", "author", "publisher", "sections.news", "attribution.hosts")
ROUNDS = 2  # builds that carry the whole corpus through OPEN_TEXT in the default run


def plan(vectors: list[Vector], full: bool = True) -> list[deque[Item]]:
    """Each setting's queue: the exhaustive matrix (``full``) or the default run's few builds."""
    return full_plan(vectors) if full else quick_plan(vectors)


def quick_plan(vectors: list[Vector]) -> list[deque[Item]]:
    """The default run: every vector, in chunks, through one of the settings that take any text (``ROUNDS``
    builds carry the whole corpus); every url and header vector as the whole value of a URL or address setting
    (by turns; refused at load, so cheap); each other setting one chunk (a language tag or a theme colour
    refuses it on one line)."""
    index = {s.name: i for i, s in enumerate(SETTINGS)}
    queues: list[deque[Item]] = [deque() for _ in SETTINGS]
    open_text = [index[n] for n in OPEN_TEXT]
    size = -(-len(vectors) // (ROUNDS * len(open_text)))
    chunks = [tuple(vectors[k:k + size]) for k in range(0, len(vectors), size)]
    for c, chunk in enumerate(chunks):
        i = open_text[c % len(open_text)]
        queues[i].append(Item(i, chunk, False))
    closed = [i for i, s in enumerate(SETTINGS) if s.kind == "text" and i not in open_text]
    for n, i in enumerate(closed):
        queues[i].append(Item(i, chunks[(3 * n) % len(chunks)], False))
    urls = [i for i, s in enumerate(SETTINGS) if s.kind != "text"]
    whole = [v for v in vectors if v.cls in ("url", "header")]
    for n, v in enumerate(whole):
        i = urls[n % len(urls)]
        queues[i].append(Item(i, (v,), True))
    return queues


def full_plan(vectors: list[Vector]) -> list[deque[Item]]:
    """Each setting's queue: whole values first (where the kind wants them), then chunks of the rest."""
    queues = []
    for i, s in enumerate(SETTINGS):
        whole = [v for v in vectors if v.cls in WHOLE[s.kind]]
        turn = (7 * i) % len(whole) if whole else 0  # settings take the vectors in different orders
        whole = whole[turn:] + whole[:turn]
        rest = [v for v in vectors if v.cls not in WHOLE[s.kind]]
        q = deque(Item(i, (v,), True) for v in whole)
        q.extend(Item(i, tuple(rest[k:k + CHUNK]), False) for k in range(0, len(rest), CHUNK))
        queues.append(q)
    return queues


def write_site(root: Path, items: dict[int, Item], jekyll_in_yaml: bool, single_pdf: bool) -> Path:
    """A two-post site whose settings are the defaults, except the ones ``items`` attack. ``single_pdf`` lays the
    PDF out as one document (no section page breaks) instead of chunks joined by pikepdf: the two paths keep
    different parts of what WeasyPrint writes (attachments survive only the first), so builds take turns."""
    values = dict(DEFAULTS)
    theme: dict[str, str] = {}
    for i, item in items.items():
        name = SETTINGS[i].name
        if name.startswith("theme."):
            theme[name[6:]] = item.value()
        else:
            values[name] = item.value()
    posts = root / "_posts"
    posts.mkdir(parents=True)
    (posts / "2022-01-05-zq9990.md").write_text(
        "---\ntitle: First story\ndate: 2022-01-05 09:00:00 +0800\ncategories: [news]\n"
        "original_url: https://h.example/story/1\n---\n\nThe first story.\n", encoding="utf-8")
    (posts / "2022-01-05-zq9991.md").write_text(
        "---\ntitle: Second story\ndate: 2022-01-05 10:00:00 +0800\ncategories: [news]\nsource: Wire\n---\n\n"
        "The second story, [with a link](https://example.org/ok/zq9991).\n", encoding="utf-8")
    jekyll = ("title", "description", "author", "lang", "url", "baseurl", "permalink")
    yml = ["timezone: Asia/Shanghai"]
    top = ["dedupe = false", 'theme = "attack-theme"', f"publisher = {toml_str(values['publisher'])}"]
    for k in jekyll:
        if jekyll_in_yaml:
            yml.append(f"{k}: {yaml_str(values[k])}")
        else:
            top.append(f"{k} = {toml_str(values[k])}")
    email = [f"{k} = {toml_str(values['email.' + k])}" for k in ("subject", "from_addr", "reply_to", "unsubscribe",
                                                                   "web_url")]
    email.append(f"to = [{toml_str(values['email.to'])}]")
    pdf = ["workers = 1", f"section_page_break = {'false' if single_pdf else 'true'}"]
    toml = [*top, "", "[pdf]", *pdf, "", "[email]", *email, "", "[archive]",
            f"base_url = {toml_str(values['archive.base_url'])}", "", "[sections]",
            f"news = {toml_str(values['sections.news'])}", "", "[attribution.hosts]",
            f'"h.example" = {toml_str(values["attribution.hosts"])}', ""]
    (root / "_config.yml").write_text("\n".join(yml) + "\n", encoding="utf-8")
    (root / "digest.toml").write_text("\n".join(toml), encoding="utf-8")
    opts = [f"{k} = {toml_str(v)}" for k, v in theme.items() if "." not in k]
    pdf_opts = [f"{k[4:]} = {toml_str(v)}" for k, v in theme.items() if k.startswith("pdf.")]
    (root / "attack-theme").mkdir()
    (root / "attack-theme" / "theme.toml").write_text(
        "\n".join(['name = "attack-theme"', 'extends = "newspaper"', "", "[options]", *opts, "", "[options.pdf]",
                   *pdf_opts, ""]), encoding="utf-8")
    return root


@dataclass(frozen=True)
class Finding:
    vectors: str  # "a123", or "a123|a456…" when the finding could come from several
    setting: str
    fmt: str
    what: str

    def line(self) -> str:
        return f"{self.vectors} | {self.setting} | {self.fmt} | {self.what}"


def _shows(vector: str, what: str) -> bool:
    """Whether a finding shows this whole value: contained as written, as repr() writes it, or once entities
    and white space are gone (a parser decoded them)."""
    import html

    def squash(s: str) -> str:
        return re.sub(r"\s+", "", html.unescape(s)).lower()

    v = vector.strip()
    return bool(v) and (v in what or repr(v)[1:-1] in what or (len(squash(v)) >= 6 and squash(v) in squash(what)))


def attribute(hit: Hit, items: dict[int, Item], by_num: dict[int, Vector]) -> Finding:
    """The vector and setting of a survivor: a whole value it shows, else its marker, else values like it."""
    whole = [(i, item.vectors[0]) for i, item in items.items() if item.whole and _shows(item.vectors[0].vector, hit.what)]
    if whole:
        longest = max(len(v.vector) for _, v in whole)
        whole = [(i, v) for i, v in whole if len(v.vector) == longest]
        return Finding("|".join(sorted({v.id for _, v in whole})), "|".join(SETTINGS[i].name for i, _ in whole),
                       hit.fmt, hit.what)
    for mark in reversed(hit.marks):
        m = re.fullmatch(r"zq(\d{4})x(\d{2})", mark)
        if m and int(m.group(2)) in items and int(m.group(1)) in by_num:
            return Finding(by_num[int(m.group(1))].id, SETTINGS[int(m.group(2))].name, hit.fmt, hit.what)
    found = [(i, v) for i, item in items.items() for v in item.vectors if matches(v.vector, hit.what)]
    if not found:
        return Finding("?", "|".join(SETTINGS[i].name for i in list(items)[:4]) + ("|…" if len(items) > 4 else ""),
                       hit.fmt, hit.what)
    names = sorted({SETTINGS[i].name for i, _ in found})
    ids = sorted({v.id for _, v in found}, key=lambda s: int(s[1:]))
    label = "|".join(ids[:6]) + ("|…" if len(ids) > 6 else "")
    return Finding(label, "|".join(names[:4]) + ("|…" if len(names) > 4 else ""), hit.fmt, hit.what)


def named_settings(items: dict[int, Item], line: str) -> tuple[list[int], bool]:
    """The settings of this build a one-line error is about, and whether it names them (else it only quotes
    their values)."""
    by_key = [i for i in items if re.search(rf"(?<!\w){re.escape(SETTINGS[i].key)}(?!\w)", line)]
    if by_key:
        return by_key, True
    marked = {int(m.group(1)) for m in re.finditer(r"zq\d{4}x(\d{2})", line)} & set(items)
    quoted = [(len(item.vectors[0].vector), i) for i, item in items.items()
              if item.whole and _shows(item.vectors[0].vector, line)]
    longest = [i for n, i in quoted if n == max(quoted)[0]] if quoted else []
    return sorted(marked | set(longest)), False


@dataclass
class Outcome:
    findings: list[Finding] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (setting, vector id)
    builds: int = 0
    refusals: int = 0
    isolation_builds: int = 0
    scanned: set[str] = field(default_factory=set)  # vectors in a build that exited 0 and whose outputs were scanned


class ConfigRun:
    """Works through every setting's queue, two builds at a time (one per driver process).

    A build that breaks is split: its items in two groups, each built alone, down to the one setting that
    breaks it. Such a setting is then built alone (so it breaks nothing else); after ``BREAKS`` broken builds of
    its own its remaining items are reported as not checked: nothing can be scanned in a build that does not
    finish, and the failure itself is reported."""

    BREAKS = 3  # broken builds of its own before a setting is given up; a build past the time limit counts them all

    def __init__(self, vectors: list[Vector], tmp: Path, drivers: list[Driver], epub_pool: EpubQueue,
                 full: bool = True):
        self.queues = plan(vectors, full)
        self.groups: deque[dict[int, Item]] = deque()  # parts of a broken build, to be built alone
        self.broken: dict[int, int] = {}  # setting → its broken builds so far
        self.accepting: set[int] = set()  # settings that built with a batch of several vectors
        self.by_num = {v.num: v for v in vectors}
        self.tmp, self.drivers, self.epub_pool = tmp, drivers, epub_pool
        self.out = Outcome()
        self.checks: list[tuple[Future[list[str]], dict[int, Item], Path]] = []  # EPUBCheck lines to come
        self.n = 0

    def next_build(self) -> dict[int, Item] | None:
        if self.groups:
            return self.groups.popleft()
        for i in list(self.broken):  # a setting known to break builds goes alone
            if self.queues[i]:
                if self.broken[i] >= self.BREAKS:
                    left = [v.id for item in self.queues[i] for v in item.vectors]
                    self.out.findings.append(Finding(
                        f"{len(left)} vectors ({left[0]}…{left[-1]})", SETTINGS[i].name, "process",
                        f"not checked: the setting broke {self.BREAKS} builds, so its other values were not built"))
                    self.queues[i].clear()
                    continue
                return {i: self.queues[i].popleft()}
        items = {i: q.popleft() for i, q in enumerate(self.queues) if q and i not in self.broken}
        return items or None

    def run(self) -> Outcome:
        from concurrent.futures import ThreadPoolExecutor

        free: Queue[Driver] = Queue()
        for d in self.drivers:
            free.put(d)
        with ThreadPoolExecutor(len(self.drivers)) as pool:
            while True:
                batch: list[dict[int, Item]] = []
                while len(batch) < len(self.drivers) and (items := self.next_build()) is not None:
                    batch.append(items)
                if not batch:
                    break
                jobs = []
                for items in batch:
                    self.n += 1
                    turns = (self.n % 2 == 0, self.n // 2 % 2 == 0)  # Jekyll keys in YAML or TOML; PDF whole or chunked
                    jobs.append(pool.submit(self._build, items, self.tmp / f"b{self.n:03d}", turns, free))
                for items, job in zip(batch, jobs, strict=True):
                    self._judge(items, *job.result())
        for future, items, book in self.checks:
            for line in future.result():
                self.out.findings.append(self._epubcheck_finding(line, items, book))
        return self.out

    @staticmethod
    def _build(items: dict[int, Item], root: Path, turns: tuple[bool, bool],
               free: Queue[Driver]) -> tuple[Run, Run | None, Path]:
        from attack_harness import archive_args, build_args

        site = write_site(root / "site", items, *turns)
        out = root / "out"
        driver = free.get()
        try:
            # The email edition first, on its own: it is where address and unsubscribe settings are judged, and
            # a value refused there should not cost a PDF first. Only a build it lets through is built whole.
            probe = driver.run(build_args(site, root / "probe", "email"))
            if probe.code != 0 or "Traceback" in probe.stderr:
                return probe, None, out
            run = driver.run(build_args(site, out))
            archive = driver.run(archive_args(site, out)) if run.code == 0 else None
        finally:
            free.put(driver)
        return run, archive, out

    def _judge(self, items: dict[int, Item], run: Run, archive: Run | None, out: Path) -> None:
        from attack_harness import process_problems, scan_outputs

        self.out.builds += 1
        problems = process_problems(run)
        errors = [ln for ln in run.stderr.splitlines() if ln.startswith("digest: error:")]
        if run.code == 2 and not problems:
            named, by_key = named_settings(items, errors[0]) if len(errors) == 1 else ([], False)
            if named:
                if not by_key:
                    for i in named:
                        self.out.findings.append(Finding(self._all({i: items[i]}), SETTINGS[i].name, "process",
                                                         f"refused without naming the setting: {errors[0][:160]!r}"))
                self._refused(items, named)
                return
            problems.append(f"exit 2 without naming a setting: {(errors or run.stderr.splitlines() or ['?'])[0][:160]!r}")
        if problems:
            self._broken(items, problems, run.stderr)
            return
        self.accepting.update(i for i, item in items.items() if len(item.vectors) > 1)
        self.out.scanned.update(v.id for item in items.values() for v in item.vectors)
        if archive is not None:
            for p in process_problems(archive) + ([f"archive exit {archive.code}"] if archive.code else []):
                self.out.findings.append(Finding(self._all(items), self._names(items), "archive", f"digest archive: {p}"))
        for hit in scan_outputs(out):
            self.out.findings.append(attribute(hit, items, self.by_num))
        for book in out.rglob("*.epub"):
            self.checks.append((self.epub_pool.submit(book), items, book))

    def _refused(self, items: dict[int, Item], named: list[int]) -> None:
        """Refused values are right; the other settings' items are built next without them. A refused batch is split
        (down to 5 vectors) only for a setting that accepts text, so one refused vector does not hide its
        neighbours; a setting that refuses batches (an address, a URL) refuses their vectors one and all."""
        self.out.refusals += 1
        rest = {i: item for i, item in items.items() if i not in named}
        if rest:  # built next, the refused settings at their defaults (not back into the queues: no churn)
            self.groups.appendleft(rest)
        for i, item in items.items():
            if i not in named and rest:
                continue
            if i in self.accepting and len(item.vectors) > 5:
                self.queues[i].extendleft(reversed(item.halves()))
            else:
                self.out.refused += [(SETTINGS[i].name, v.id) for v in item.vectors]

    def _broken(self, items: dict[int, Item], problems: list[str], stderr: str) -> None:
        self.out.isolation_builds += 1
        if len(items) > 1:  # which setting? the ones whose markers the error shows alone, else halves
            shown = [i for i in items if f"x{i:02d}" in " ".join(re.findall(r"zq\d{4}x\d{2}", stderr))]
            keys = shown[:1] or list(items)[:len(items) // 2]
            self.groups.extend([{k: items[k] for k in keys}, {k: v for k, v in items.items() if k not in keys}])
            return
        [i] = items
        hung = any(p.startswith("timeout:") for p in problems)
        self.broken[i] = self.BREAKS if hung else self.broken.get(i, 0) + 1
        for p in problems:
            self.out.findings.append(Finding(self._all(items), SETTINGS[i].name, "process", p))

    def _all(self, items: dict[int, Item]) -> str:
        ids = [v.id for item in items.values() for v in item.vectors]
        return "|".join(ids[:6]) + ("|…" if len(ids) > 6 else "")

    def _names(self, items: dict[int, Item]) -> str:
        names = [SETTINGS[i].name for i in items]
        return "|".join(names[:4]) + ("|…" if len(names) > 4 else "")

    def _epubcheck_finding(self, line: str, items: dict[int, Item], book: Path) -> Finding:
        """An EPUBCheck message, placed by the marker on (or before) the line it points at."""
        return attribute(Hit("epubcheck", book.name, line, epub_line_marks(book, line)), items, self.by_num)


def epub_line_marks(book: Path, line: str) -> tuple[str, ...]:
    """The markers in the document an EPUBCheck message names, up to the line it names."""
    import zipfile

    from attack_harness import MARK

    m = re.search(r"@ ([^:]+):(-?\d+|None):", line)
    named = re.search(r'"(EPUB/[^"]+)"', line)
    if named and (not m or not m.group(1).startswith("EPUB/")):  # a message about a member, located at the book
        m = re.match(r"(.*)", named.group(1) + ":-1:")
        m = re.search(r"([^:]+):(-1):", m.group(1)) if m else None
    if not m or m.group(1) == "None":
        return ()
    try:
        with zipfile.ZipFile(book) as z:
            text = z.read(m.group(1)).decode("utf-8", "replace")
    except KeyError:
        return ()
    upto = int(m.group(2)) if m.group(2).lstrip("-").isdigit() and int(m.group(2)) > 0 else None
    lines = text.splitlines()[:upto] if upto else text.splitlines()
    marks = [x.group(0) for x in MARK.finditer("\n".join(lines))]
    return tuple(marks[-1:]) or tuple(x.group(0) for x in MARK.finditer(m.group(1)))
