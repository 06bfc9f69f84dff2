"""The PDF edition: WeasyPrint through the theme's print templates (``themes/default/pdf/``).

A busy day runs to 1,000+ pages, and WeasyPrint keeps every laid-out page in memory until it writes. So the
body is cut into chunks (a section, or a slice of a long section) that worker processes lay out side by
side; each reports its page count and where its anchors landed. Then the cover and contents are laid out
with the real page numbers, footer pages ``n / N`` are made for the body, and :mod:`digest.pdf_merge`
joins it all with pypdf: links, bookmarks (section → article) and metadata. Memory stays bounded by the
chunk size, not by the day.

A PDF/A or PDF/UA variant, or ``section_page_break = false`` (the body must flow across sections), is
laid out in one WeasyPrint pass instead: slower, but exactly WeasyPrint's own output.
"""
from __future__ import annotations

import logging
import math
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import Executor
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Iterable, Iterator

from digest.runtime import parallel
from digest.errors import ConfigError, MissingDependency
from digest.runtime.files import atomic_path
from digest.model import Digest, Post, Section
from digest.editions.pdf.merge import Mark, assemble_pdf, page_numbers
from digest.editions.pdf.layout import Job, Laid, lay_out
from digest.config.settings import Settings
from digest.theming.loader import Theme
from digest.editions.base import base_context, output_path

SUFFIX = ".pdf"
CHUNK_BYTES = 400_000  # at most this much body HTML per chunk (about 160 A4 pages): bounds a worker's memory
CHUNK_MIN_BYTES = 100_000  # below this, a chunk's fixed costs (and its own font subsets) outweigh the gain
STUB_PAGES = 120  # footer pages per stub job
TOP_HEADLINES = 8
log = logging.getLogger("digest.pdf")

INSTALL_HINT = ("install a CJK font, e.g. `sudo apt-get install fonts-noto-cjk` (Debian/Ubuntu), "
                "`sudo dnf install google-noto-sans-cjk-fonts google-noto-serif-cjk-fonts` (Fedora) "
                "or `brew install --cask font-noto-sans-cjk font-noto-serif-cjk` (macOS)")


@dataclass(frozen=True)
class Part:
    """A run of one section's articles; ``first`` when it opens the section (and carries its heading)."""

    section: Section
    posts: tuple[Post, ...]
    first: bool

    @property
    def weight(self) -> int:
        return sum(_weight(p) for p in self.posts)


# ---------------------------------------------------------------- fonts

def _has_cjk(digest: Digest) -> bool:
    if digest.lang.lower().startswith(("zh", "ja", "ko")):
        return True
    return any(any("\u3000" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" for ch in p.title + p.text[:200])
               for p in digest.posts)


def cjk_fonts() -> list[str]:
    """Families fontconfig knows for Chinese text (empty if none, or if fontconfig's fc-list is missing)."""
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        out = subprocess.run([exe, ":lang=zh", "family"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({line.split(",")[0].strip() for line in out.splitlines() if line.strip()})


def check_fonts(digest: Digest, settings: Settings) -> None:
    if not _has_cjk(digest) or cjk_fonts():
        return
    if settings.pdf.allow_missing_fonts:
        log.warning("digest: warning: no CJK font installed: Chinese text in the PDF will show as boxes; %s",
                    INSTALL_HINT)
        return
    raise MissingDependency(f"the PDF edition needs a CJK font and fontconfig finds none; {INSTALL_HINT} "
                            "(or build anyway with --allow-missing-fonts)")


def _report_missing(digest: Digest, codepoints: Iterable[int], limit: int = 5) -> None:
    """One warning per character drawn as a box (naming a post that has it), at most ``limit`` of them."""
    missing = sorted(set(codepoints))
    for cp in missing[:limit]:
        ch = chr(cp)
        where = next((str(p.path) for p in digest.posts if ch in p.title or ch in p.text), digest.title)
        log.warning("digest: warning: %s: character U+%04X (%s) has no glyph in the installed fonts; "
                    "the PDF shows a box for it", where, cp, ch)
    if len(missing) > limit:
        log.warning("digest: warning: %d more characters have no glyph in the installed fonts", len(missing) - limit)


# ---------------------------------------------------------------- planning

def _weight(post: Post) -> int:
    return len(post.html) + len(post.title) * 3 + 400


def plan_chunks(digest: Digest, workers: int = 1, max_bytes: int = CHUNK_BYTES) -> list[list[Part]]:
    """Cut the body into chunks of about equal weight (HTML size): two per worker but none under
    ``CHUNK_MIN_BYTES`` (many cores, small day), none over ``max_bytes`` (memory).

    Cuts fall between sections when one is near (sections start on a new page anyway); otherwise inside a
    section, whose remainder then starts on a new page.
    """
    total = sum(_weight(p) for p in digest.posts)
    wanted = min(2 * workers, math.ceil(total / CHUNK_MIN_BYTES)) if workers > 1 else 1
    k = max(wanted, math.ceil(total / max_bytes), 1)
    target = total / k
    chunks: list[list[Part]] = []
    cur: list[Part] = []
    acc = 0
    for section in digest.sections:
        weight = sum(_weight(p) for p in section.posts)
        if cur and acc >= 0.7 * target and acc + weight > 1.3 * target:
            chunks.append(cur)
            cur, acc = [], 0
        if acc + weight <= 1.3 * target:
            cur.append(Part(section, section.posts, True))
            acc += weight
            continue
        run: list[Post] = []
        first = True
        for post in section.posts:
            run.append(post)
            acc += _weight(post)
            if acc >= target:
                cur.append(Part(section, tuple(run), first))
                chunks.append(cur)
                cur, acc, run, first = [], 0, [], False
        if run:
            cur.append(Part(section, tuple(run), first))
    if cur:
        chunks.append(cur)
    return chunks


def outline(digest: Digest, theme: Theme) -> list[Mark]:
    marks = [Mark(theme.labels.get("contents", "Contents"), "contents")]
    for s in digest.sections:
        marks.append(Mark(s.title, s.anchor, tuple(Mark(p.title, p.id) for p in s.posts)))
    return marks


# ---------------------------------------------------------------- rendering

class _Renderer:
    """Renders the one template in its four modes: single, front, body, stubs (see ``pdf/digest.html.j2``)."""

    def __init__(self, digest: Digest, theme: Theme, settings: Settings):
        self.digest, self.theme, self.settings = digest, theme, settings
        self.ctx = base_context(digest, settings, "pdf")
        self.top = list(digest.top_headlines(TOP_HEADLINES))

    def html(self, mode: str, *, parts: Iterable[Part] = (), numbers: dict[str, int] | None = None,
             stubs: int = 0, first_page: int = 1, total: int = 0) -> str:
        pdf = self.settings.pdf
        common = dict(mode=mode, page_size=pdf.page_size, page_break=pdf.section_page_break,
                      first_page=first_page, total=total)
        css = self.theme.render("pdf/print.css", **common, **self.ctx)
        return self.theme.render("pdf/digest.html.j2", css=css, parts=list(parts), numbers=numbers,
                                 stubs=stubs, top=self.top, created=self.digest.generated.isoformat(),
                                 **common, **self.ctx)


def workers(settings: Settings) -> int:
    return max(1, settings.pdf.workers or os.cpu_count() or 1)


def _pool(n: int, jobs: int) -> Executor | None:
    n = min(n, jobs)
    return parallel.pool(n, ["digest.editions.pdf.layout", "weasyprint"]) if n > 1 else None


def _run(pool: Executor | None, jobs: Iterable[Job]) -> list[Laid]:
    """Lay out ``jobs`` (in parallel when there is a pool); results in the jobs' order.

    ``jobs`` may be a generator: each job goes to a worker as soon as its HTML is rendered, so the workers
    (which import WeasyPrint themselves, side by side) start while the rest is still being templated."""
    if pool is None:
        return [lay_out(job) for job in jobs]
    futures = [pool.submit(lay_out, job) for job in jobs]
    return [f.result() for f in futures]


def _metadata(digest: Digest, settings: Settings) -> dict[str, str]:
    g = digest.generated
    off = g.utcoffset()
    if off is None:
        zone = "Z"
    else:
        minutes = int(off.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        zone = f"{sign}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"
    date = f"D:{g:%Y%m%d%H%M%S}{zone}"
    meta = {"/Title": digest.title, "/Creator": "digest", "/Producer": f"WeasyPrint {version('weasyprint')}, pikepdf",
            "/CreationDate": date, "/ModDate": date,
            "/Subject": settings.description or digest.title}
    author = settings.author or settings.publisher
    if author:
        meta["/Author"] = author
    if settings.publisher:
        meta["/Publisher"] = settings.publisher
    return meta


def _variant(settings: Settings) -> str | None:
    v = settings.pdf.variant
    if v is None or v == "":
        return None
    from weasyprint.pdf import VARIANTS

    v = v.lower()
    if v not in VARIANTS:
        raise ConfigError(f"pdf.variant {settings.pdf.variant!r} is not one of: {', '.join(sorted(VARIANTS))}")
    return v


def _base_url(settings: Settings) -> str:
    return settings.site_root.resolve().as_uri() + "/"


def _job(r: "_Renderer", name: str, html: str, out: Path, **kw: Any) -> Job:
    net = r.settings.network
    return Job(name, html, out, _base_url(r.settings), remote=net.fetch_images, timeout=net.timeout, **kw)


def render_single(r: _Renderer, out: Path, variant: str | None) -> list[Laid]:
    parts = [Part(s, s.posts, True) for s in r.digest.sections]
    options: dict[str, Any] = {"pdf_variant": variant} if variant else {}
    html = r.html("single", parts=parts, numbers=None)
    return [lay_out(_job(r, "single", html, out, options=options), keep_internal_links=True)]


@dataclass
class Chunked:
    front: Laid
    body: list[Laid]
    stubs: list[Laid]

    @property
    def all(self) -> list[Laid]:
        return [self.front, *self.body, *self.stubs]


def render_chunked(r: _Renderer, tmp: Path) -> Chunked:
    """Body chunks in parallel, then the front with real page numbers and the footer pages."""
    n_workers = workers(r.settings)
    chunks = plan_chunks(r.digest, n_workers)
    anchors = [a for s in r.digest.sections for a in (s.anchor, *(p.id for p in s.posts))]
    # The contents' length does not depend on the numbers in it (fixed-width column): lay it out once with
    # placeholders, alongside the body, to learn how many pages come before the body.
    weight = [sum(p.weight for p in parts) for parts in chunks]
    order = sorted(range(len(chunks)), key=lambda i: -weight[i])  # heaviest first: workers finish together

    def first_jobs() -> Iterator[Job]:
        for i in order:
            yield _job(r, f"body-{i}", r.html("body", parts=chunks[i]), tmp / f"body-{i:04d}.pdf")
        # last: a small job that fills the gap of whichever worker finishes its chunks first
        yield _job(r, "front-guess", r.html("front", numbers=dict.fromkeys(anchors, 8888), total=8888),
                   tmp / "front-guess.pdf", write=False)

    pool = _pool(n_workers, len(chunks) + 1)
    try:
        *laid, guessed = _run(pool, first_jobs())
        body: list[Laid] = list(laid)
        for i, result in zip(order, laid):
            body[i] = result
        body_pages = sum(b.pages for b in body)
        front_pages = guessed.pages
        for _attempt in range(3):
            total = front_pages + body_pages
            jobs = [_job(r, "front", r.html("front", numbers=page_numbers(front_pages, body), total=total),
                         tmp / "front.pdf")]
            pieces = max(1, math.ceil(body_pages / STUB_PAGES))
            start = 0
            for k in range(pieces):
                n = body_pages // pieces + (1 if k < body_pages % pieces else 0)
                jobs.append(_job(r, f"stubs-{k}", r.html("stubs", stubs=n, first_page=front_pages + start + 1,
                                                         total=total), tmp / f"stubs-{k:04d}.pdf"))
                start += n
            done = _run(pool, jobs)
            if done[0].pages == front_pages:
                return Chunked(done[0], body, done[1:])
            front_pages = done[0].pages  # the contents came out longer or shorter: number again
        raise RuntimeError("the contents' page count does not settle")
    finally:
        if pool is not None:
            pool.shutdown()


def write(digest: Digest, out_dir: Path, *, theme: Theme, settings: Settings) -> list[Path]:
    check_fonts(digest, settings)
    variant = _variant(settings)
    path = output_path(settings, digest, out_dir, SUFFIX)
    r = _Renderer(digest, theme, settings)
    with atomic_path(path) as tmp_out, tempfile.TemporaryDirectory(prefix="digest-pdf-") as tmp:
        if variant or not settings.pdf.section_page_break:
            laid = render_single(r, tmp_out, variant)
        else:
            done = render_chunked(r, Path(tmp))
            marks = outline(digest, theme)
            assemble_pdf(done.front, done.body, done.stubs, tmp_out, outline=marks,
                         metadata=_metadata(digest, settings), lang=digest.lang,
                         destinations=[m.anchor for top in marks for m in (top, *top.children)])
            laid = done.all
        _report_missing(digest, (cp for item in laid for cp in item.missing))
    return [path]
