"""Laying out the PDF: body chunks on worker processes, then the front matter with the real page numbers.

A busy day runs to 1,000+ pages, and WeasyPrint keeps every laid-out page in memory until it writes. So the
body is cut into chunks (a section, or a slice of a long section) that worker processes lay out side by
side; each reports its page count and where its anchors landed. Then the cover and contents are laid out
with the real page numbers, and footer pages ``n / N`` are made for the body; :mod:`.merge` joins them.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digest.config.settings import Settings
from digest.editions.base import WriteContext, base_context
from digest.editions.pdf.fetcher import policy_for
from digest.editions.pdf.layout import Job, Laid, lay_out
from digest.editions.pdf.merge import page_numbers
from digest.editions.pdf.options import PdfOptions
from digest.editions.pdf.plan import Part, plan_chunks
from digest.model import Digest
from digest.runtime import parallel

STUB_PAGES = 120  # footer pages per stub job
TOP_HEADLINES = 8


class Renderer:
    """Renders the one template in its four modes: single, front, body, stubs (see ``pdf/digest.html.j2``)."""

    def __init__(self, digest: Digest, ctx: WriteContext):
        self.digest, self.theme, self.settings = digest, ctx.theme, ctx.settings
        self.options = ctx.settings.options(PdfOptions)
        self.ctx = base_context(digest, ctx.settings, "pdf")
        self.top = list(digest.top_headlines(TOP_HEADLINES))
        self.policy = policy_for(ctx.settings, [*ctx.theme.dirs, *ctx.theme.named.values()])

    def html(self, mode: str, *, parts: Iterable[Part] = (), numbers: dict[str, int] | None = None,
             stubs: int = 0, first_page: int = 1, total: int = 0) -> str:
        pdf = self.options
        common = dict(mode=mode, page_size=pdf.page_size, page_break=pdf.section_page_break,
                      first_page=first_page, total=total)
        css = self.theme.render("pdf/print.css", **common, **self.ctx)
        return self.theme.render("pdf/digest.html.j2", css=css, parts=list(parts), numbers=numbers,
                                 stubs=stubs, top=self.top, created=self.digest.generated.isoformat(),
                                 **common, **self.ctx)


def worker_count(options: PdfOptions) -> int:
    return max(1, options.workers or parallel.spare_cores())


def _pool(n: int, jobs: int) -> Executor | None:
    return parallel.workers(min(n, jobs), ["digest.editions.pdf.layout", "weasyprint"])


def _run(pool: Executor | None, jobs: Iterable[Job]) -> list[Laid]:
    """Lay out ``jobs`` (in parallel when there is a pool); results in the jobs' order.

    ``jobs`` may be a generator: each job goes to a worker as soon as its HTML is rendered, so the workers
    (which import WeasyPrint themselves, side by side) start while the rest is still being templated."""
    if pool is None:
        return [lay_out(job) for job in jobs]
    futures = [parallel.submit(pool, lay_out, job) for job in jobs]
    return [f.result() for f in futures]


def _base_url(settings: Settings) -> str:
    return settings.site_root.resolve().as_uri() + "/"


def _job(r: Renderer, name: str, html: str, out: Path, **kw: Any) -> Job:
    return Job(name, html, out, _base_url(r.settings), policy=r.policy, **kw)


def render_single(r: Renderer, out: Path, variant: str | None) -> list[Laid]:
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


def render_chunked(r: Renderer, tmp: Path) -> Chunked:
    """Body chunks in parallel, then the front with real page numbers and the footer pages."""
    n_workers = worker_count(r.options)
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

    with parallel.closing(_pool(n_workers, len(chunks) + 1)) as pool:
        *laid, guessed = _run(pool, first_jobs())
        body: list[Laid] = list(laid)
        for i, result in zip(order, laid, strict=True):
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
