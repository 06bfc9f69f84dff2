"""Laying out the PDF: the pieces the cache lacks, on worker processes; then :mod:`.merge` joins them all.

Every piece — each run of articles (:func:`.plan.plan_pieces`), the front matter (cover and contents, its
numbers left blank), and two small samples of the page chrome (:mod:`.stamp`) — is rendered from the
theme's template and looked up in the cache by its key. Only the missing ones are laid out, grouped into
jobs of about equal weight spread over the worker processes. A cold build lays out everything; the in-day
rebuild after one new article lays out that article's piece and the front matter. A piece's stylesheet is
given to WeasyPrint apart from its HTML where that lays it out the same (:func:`css_apart`), so that a job
parses it once for all its pieces.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from digest.config.settings import Settings
from digest.editions.base import WriteContext, base_context
from digest.editions.content import content_css
from digest.editions.drawn_maths import replace_formulas, svg_image, with_bodies
from digest.editions.pdf.fetch import rules_for
from digest.editions.pdf.heads import Key, needed, predicted
from digest.editions.pdf.layout import Doc, Job, Laid, lay_out, lay_out_apart
from digest.editions.pdf.merge import Joiner
from digest.editions.pdf.options import PdfOptions
from digest.editions.pdf.pieces import Pieces, PieceStore, fonts_installed, piece_key
from digest.editions.pdf.plan import Part, group_jobs, plan_pieces
from digest.editions.pdf.stamp import ARTICLE_SAMPLE, FOOTER_FIRST, FOOTER_TOTAL, SECTION_SAMPLE
from digest.editions.pdf.weasy import WORKER_PRELOAD, import_weasyprint
from digest.model import Digest
from digest.runtime import parallel, zygote

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

TOP_HEADLINES = 8
BLANK = "\u200b"  # what the front's number boxes hold: a zero-width space keeps each box where a number goes
_STYLESHEETS = re.compile(r"<style\b|<link\b[^>]*\bstylesheet\b", re.I)
_IN_DOCUMENT = re.compile(r"!\s*important|@(?:counter-style|color-profile)\b", re.I)


def css_apart(html: str, css: str) -> bool:
    """Whether ``css`` may be laid out apart from the document ``html`` (its ``<style>`` left empty), for the
    same pages. WeasyPrint gives a stylesheet passed apart the user origin: the same cascade as the author's
    where it is the document's only stylesheet and nothing in it is !important; and it keeps the counter
    styles and colour profiles a stylesheet declares in the document that parses it, not in the sheet."""
    return len(_STYLESHEETS.findall(html)) == 1 and not _IN_DOCUMENT.search(css)


class Renderer:
    """Renders the one template in its modes: single, front, body, stubs (see ``pdf/digest.html.j2``)."""

    # False: the pieces lay their running heads out themselves, as before they were stamped (:mod:`.heads`)
    # — the reference the tests compare the stamped heads with; never changed otherwise
    heads_stamped: ClassVar[bool] = True

    def __init__(self, digest: Digest, ctx: WriteContext, *, bodies: bool = True):
        """``bodies``: the bodies made ready to print (formulas drawn); without, only the front matter (titles,
        sections, numbers) is made from this renderer."""
        if bodies:
            digest = with_bodies(digest, lambda body: replace_formulas(body, svg_image))  # MathML → SVG drawings
        self.digest, self.theme, self.settings = digest, ctx.theme, ctx.settings
        self.options = ctx.settings.options(PdfOptions)
        self.ctx = base_context(digest, ctx.settings, "pdf")
        self.top = list(digest.top_headlines(TOP_HEADLINES))
        self.content_css = content_css(self.theme, "pdf")
        self.rules = rules_for(ctx.settings, [*ctx.theme.dirs, *ctx.theme.named.values()])
        self.write_ctx = ctx
        self._css: dict[tuple[str, int, int], str] = {}  # the stylesheet made once for all the body's pieces

    def html(self, mode: str, *, parts: Iterable[Part] = (), numbers: dict[str, Any] | None = None,
             stubs: int = 0, first_page: int = 1, total: int = 0) -> str:
        """The document with its stylesheet in it (the single pass)."""
        return self.page(mode, parts=parts, numbers=numbers, stubs=stubs, first_page=first_page, total=total,
                         apart=False)[0]

    def page(self, mode: str, *, parts: Iterable[Part] = (), numbers: dict[str, Any] | None = None,
             stubs: int = 0, first_page: int = 1, total: int = 0, apart: bool = True,
             heads: Iterable[Key] = ()) -> tuple[str, str]:
        """(the document, its stylesheet when ``apart`` and :func:`css_apart` allows, else "": then the
        stylesheet is in the document)."""
        pdf = self.options
        common = dict(mode=mode, page_size=pdf.page_size, page_break=pdf.section_page_break,
                      first_page=first_page, total=total, heads_stamped=self.heads_stamped)
        made = (mode, first_page, total)
        if made not in self._css:
            self._css[made] = self.theme.render("pdf/print.css", **common, **self.ctx) + self.content_css
        css = self._css[made]
        values = dict(parts=list(parts), numbers=numbers, stubs=stubs, heads=list(heads), top=self.top,
                      created=self.digest.generated.isoformat(), **common, **self.ctx)
        if apart:
            html = self.theme.render("pdf/digest.html.j2", css="", **values)
            if css_apart(html, css):
                return html, css
        return self.theme.render("pdf/digest.html.j2", css=css, **values), ""

    def doc(self, fonts: str, mode: str, **values: Any) -> Doc:
        """One piece's document, named by its key."""
        html, css = self.page(mode, **values)
        return Doc(piece_key(html, rules=self.rules, fonts=fonts, css=css), html, css)

    def front(self, fonts: str) -> Doc:
        anchors = [a for s in self.digest.sections for a in (s.anchor, *(p.id for p in s.posts))]
        return self.doc(fonts, "front", numbers=dict.fromkeys(anchors, BLANK))

    def samples(self, fonts: str, heads: Iterable[Key] = ()) -> tuple[Doc, Doc]:
        """The footer sample — a page for the footer, then one for each running head (:mod:`.heads`): those
        the issue's pages will have, and ``heads`` — and a contents with one section and one article whose
        numbers are known."""
        titles = [s.title if self.digest.sectioned else "" for s in self.digest.sections]
        pairs = dict.fromkeys([*predicted(titles, str(self.theme.labels.get("contents", "Contents"))), *heads])
        footer = self.doc(fonts, "stubs", stubs=1, first_page=FOOTER_FIRST, total=FOOTER_TOTAL, heads=pairs)
        section = self.digest.sections[0]
        post = section.posts[0]
        tiny = dataclasses.replace(self.digest, sections=(dataclasses.replace(section, posts=(post,)),))
        sample = Renderer(tiny, self.write_ctx)
        numbers = {section.anchor: SECTION_SAMPLE, post.id: ARTICLE_SAMPLE}
        return footer, sample.doc(fonts, "front", numbers=numbers)


def worker_count(options: PdfOptions) -> int:
    return max(1, options.workers or parallel.spare_cores())


def _zygote(workers: int) -> BaseContext | None:
    """Where the layouts are forked from: the process that imported WeasyPrint for them — started by the
    build while it collected the issue (``Edition.forks``), else now — or ``None`` (one worker, one core:
    this process lays out, or forks, as before). This process then never imports WeasyPrint: ~0.2 s on the
    path of a rebuild after one new article, which only joins the pieces."""
    return zygote.start(WORKER_PRELOAD) if workers > 1 else None


def _pool(n: int, jobs: int, ctx: BaseContext | None = None) -> Executor | None:
    if ctx is None:
        _import_layout()
    return parallel.workers(min(n, jobs), ["digest.editions.pdf.layout", "weasyprint"], ctx)


def _import_layout() -> None:
    """Without a :func:`_zygote`, WeasyPrint imported here, once, just before a layout is forked (the front
    matter's child, the workers): they inherit it instead of importing it each — ~0.5 s of CPU apiece,
    mostly cffi parsing its C declarations. Not sooner: a build whose pieces are all in the cache never
    needs it. Its libraries are loaded by their sonames (:mod:`.weasy`)."""
    import_weasyprint()


def _base(settings: Settings) -> Path:
    return settings.site_root.resolve()


def _jobs(missing: list[Doc], workers: int, r: Renderer, store: PieceStore) -> list[Job]:
    groups = group_jobs([d.weight for d in missing], workers)
    return [Job(f"{k}", [missing[i] for i in group], store.root, _base(r.settings).as_uri() + "/", store.fonts,
                rules=r.rules) for k, group in enumerate(groups)]


def _run(jobs: list[Job], workers: int, done: Callable[[list[Laid]], None],
         meanwhile: Callable[[], None] = lambda: None) -> None:
    """Lay out the jobs (on worker processes when there are several), each job's pieces handed to ``done`` as
    soon as that job is over: they are stored while the other workers' jobs still run, not all after the
    last one (the join waits for the last job; what is left to do then is only the join). ``meanwhile``
    runs once the jobs are under way (in this process, before its own layouts when it lays out)."""
    ctx = _zygote(workers) if jobs else None
    if len(jobs) == 1 and ctx is not None:  # (a rebuild's new piece: beside the front matter, this process waits)
        child = parallel.Background(lay_out_apart, jobs[0], ctx)
        try:
            meanwhile()
        except BaseException:
            child.cancel()
            raise
        done(child.result())
        return
    if len(jobs) <= 1 or workers <= 1:
        meanwhile()
        _here(jobs, done)
        return
    with parallel.closing(_pool(workers, len(jobs), ctx)) as pool:  # interrupted: its workers killed, not awaited
        if pool is None:
            meanwhile()
            _here(jobs, done)
            return
        heaviest_first = sorted(jobs, key=lambda j: -sum(d.weight for d in j.docs))
        futures = [parallel.submit(pool, lay_out_apart, job) for job in heaviest_first]
        meanwhile()
        for future in as_completed(futures):  # (a failed job raises here at once; its workers are killed)
            done(future.result())


def _here(jobs: list[Job], done: Callable[[list[Laid]], None]) -> None:
    """The jobs laid out in this process, one after the other: each one's garbage collected before the next
    starts, the last one's left to Python's own collector (the join, which waits for it, goes on at once:
    in the rebuild after one new article this process lays out that article's piece, then joins)."""
    last = len(jobs) - 1
    for i, job in enumerate(jobs):
        done(lay_out(dataclasses.replace(job, collect=i < last)))


@dataclass
class Front:
    """The front matter's document, and its layout when it was started ahead (:func:`front_ahead`)."""

    doc: Doc
    ahead: parallel.Background[list[Laid]] | None = None

    def cancel(self) -> None:
        if self.ahead is not None:
            self.ahead.cancel()


def front_of(r: Renderer) -> Doc:
    return r.front(fonts_installed())


def front_ahead(r: Renderer, store: PieceStore) -> Front:
    """The front matter (cover and contents: titles and numbers, no bodies), its layout started at once in a
    forked child when the cache lacks it and a second core is free. With a few hundred articles it is the
    longest piece, and a new article changes it: it then runs while the bodies are prepared and the other
    pieces made and looked up. (``r`` may be the issue before its bodies are prepared: the front shows none.)"""
    doc = front_of(r)
    if store.get(doc.name) is not None or worker_count(r.options) < 2:
        return Front(doc)
    ctx = _zygote(worker_count(r.options))
    if ctx is None:
        _import_layout()  # (also when no child can be forked: this process then lays it out itself)
    # (lay_out, not lay_out_apart: where no child can be forked, this process lays it out and goes on)
    job = dataclasses.replace(_jobs([doc], 1, r, store)[0], collect=False)  # a child ends with it
    return Front(doc, parallel.alongside(lay_out, job, ctx))


def lay_out_pieces(r: Renderer, store: PieceStore, front: Front | None = None,
                   joiner: Joiner | None = None) -> Pieces:
    """Each piece from the cache or laid out now (the missing ones, in parallel; the front matter perhaps
    already under way: ``front``), and stored; each handed to ``joiner`` as soon as it is at hand (the
    cached ones before the layouts are waited for)."""
    front = front or Front(front_of(r))
    fonts = fonts_installed()
    body = [r.doc(fonts, "body", parts=[p]) for p in plan_pieces(r.digest)]
    docs = [front.doc, *body, *r.samples(fonts)]
    joiner = joiner or Joiner()
    joiner.expect(front.doc.name, [d.name for d in body])
    found = {d.name: laid for d in docs if (laid := store.get(d.name)) is not None}
    missing = list({d.name: d for d in docs if d.name not in found}.values())
    later = [d for d in missing if front.ahead is None or d is not front.doc]

    def keep(laid_now: list[Laid]) -> None:
        for laid in laid_now:
            store.put(laid)
            found[laid.name] = laid
            joiner.offer(laid)

    def cached() -> None:  # (copied into the PDF while the layouts run)
        for laid in list(found.values()):
            joiner.offer(laid)

    if later:
        _run(_jobs(later, worker_count(r.options), r, store), worker_count(r.options), keep, cached)
    else:
        cached()
    if front.ahead is not None:
        keep(front.ahead.result())
    laid_all = [found[d.name] for d in docs]
    pieces = Pieces(laid_all[0], laid_all[1:-2], laid_all[-2], laid_all[-1], len(missing))
    pieces = _all_heads(r, store, pieces, fonts, found)
    store.prune(protect=found)
    return pieces


def _all_heads(r: Renderer, store: PieceStore, pieces: Pieces, fonts: str, found: dict[str, Laid]) -> Pieces:
    """The pieces with a footer sample that has every running head their pages need: the sample is made
    before the pieces are laid out, from the heads a digest's pages have with the default templates; a
    theme whose pages have others gets a sample with those too, laid out now (then found in the cache)."""
    lacking = (needed((laid.heads, laid.drew_heads) for laid in [pieces.front, *pieces.body])
               - needed([(pieces.footer_sample.heads, False)]))
    if not lacking:
        return pieces
    doc = r.samples(fonts, sorted(lacking))[0]
    laid = store.get(doc.name)
    if laid is None:
        _import_layout()
        laid = lay_out(_jobs([doc], 1, r, store)[0])[0]
        store.put(laid)
    found[laid.name] = laid
    return dataclasses.replace(pieces, footer_sample=laid, laid_now=pieces.laid_now + 1)


def render_single(r: Renderer, out: Path, variant: str | None) -> tuple[list[int], list[str]]:
    """The whole PDF in one WeasyPrint pass (PDF/A, PDF/UA, or sections that flow on); (missing glyphs,
    refused URLs)."""
    import logging

    import_weasyprint()
    from weasyprint import HTML

    from digest.editions.pdf.layout import MissingGlyphs

    parts = [Part(s, s.posts, True) for s in r.digest.sections]
    options: dict[str, Any] = {"pdf_variant": variant} if variant else {}
    html = r.html("single", parts=parts, numbers=None)
    handler = MissingGlyphs()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    from digest.editions.pdf.fetcher import SiteFetcher

    fetcher = SiteFetcher(r.rules)
    try:
        HTML(string=html, base_url=_base(r.settings).as_uri() + "/", url_fetcher=fetcher).write_pdf(out, **options)
    finally:
        logger.removeHandler(handler)
    return handler.codepoints, fetcher.refused
