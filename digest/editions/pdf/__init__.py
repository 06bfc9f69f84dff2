"""The PDF edition: WeasyPrint through the theme's print templates (``themes/default/pdf/``).

The body is cut into pieces that are laid out on worker processes and kept in the cache (:mod:`.render`,
:mod:`.pieces`), then joined with pikepdf (:mod:`.merge`), which adds what depends on the whole issue: page
numbers, the contents' numbers, links, bookmarks (section → article), one subset per font and the metadata.
A rebuild lays out only the pieces that changed. Memory stays bounded by the job, not by the day. A PDF/A
or PDF/UA variant, or ``section_page_break = false`` (the body must flow across sections), is laid out in
one WeasyPrint pass instead: slower, but exactly WeasyPrint's own output.
"""
from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import ClassVar

from digest.config.settings import Settings
from digest.editions.base import Edition, Output, WriteContext, output_path
from digest.editions.pdf.options import PdfOptions
from digest.errors import ConfigError
from digest.model import Digest
from digest.runtime.files import atomic_path

log = logging.getLogger("digest.pdf")


class PdfEdition(Edition):
    name = "pdf"
    label = "PDF"
    outputs: ClassVar[tuple[Output, ...]] = (Output(".pdf", "application/pdf", primary=True),)
    options = PdfOptions
    for_readers = True
    order = 20
    preload = ("digest.editions.pdf.render", "weasyprint")

    def forks(self, settings: Settings) -> tuple[str, ...]:
        """Its layout workers, unless one pass lays it out here or one worker is asked for."""
        from digest.editions.pdf.weasy import WORKER_PRELOAD

        options = settings.options(PdfOptions)
        single = bool(options.variant) or not options.section_page_break
        return () if single or options.workers == 1 else WORKER_PRELOAD

    def write(self, digest: Digest, ctx: WriteContext) -> list[Path]:
        from digest.editions.pdf.fonts import check_fonts, report_missing, report_refused
        from digest.editions.pdf.merge import Joiner, assemble_pdf
        from digest.editions.pdf.pieces import PieceStore
        from digest.editions.pdf.plan import outline
        from digest.editions.pdf.reading import prepare
        from digest.editions.pdf.render import Renderer, front_ahead, lay_out_pieces, render_single

        options = ctx.settings.options(PdfOptions)
        variant = _variant(options)
        path = output_path(ctx.settings, digest, ctx.out_dir, self.primary.suffix)
        # without a cache, the pieces and the font files they need live in the system's temporary folder for
        # this build (the font files are whole fonts: MBs that an output folder on a small disk may not hold)
        with atomic_path(path) as tmp_out, contextlib.ExitStack() as stack:
            if variant or not options.section_page_break:
                digest = prepare(digest, ctx.settings, ctx.theme.labels, ctx.env.cache_dir)
                check_fonts(digest, options)
                missing, refused = render_single(Renderer(digest, ctx), tmp_out, variant)
            else:
                own = None if ctx.env.cache_dir else tempfile.TemporaryDirectory(prefix="digest-pdf-")
                store = PieceStore.for_cache(ctx.env.cache_dir, Path(stack.enter_context(own) if own else "."))
                t0 = time.perf_counter()
                front = front_ahead(Renderer(digest, ctx, bodies=False), store)
                stack.callback(front.cancel)  # (a failure below: the layout started ahead is stopped)
                # the fonts checked once the front's layout is under way (a font missing stops it: above), and
                # again with the bodies prepared, fontconfig's answer kept
                known = check_fonts(digest, options)
                digest = prepare(digest, ctx.settings, ctx.theme.labels, ctx.env.cache_dir)
                check_fonts(digest, options, known)
                joiner = Joiner()  # (the pieces at hand copied into the PDF while the others are laid out)
                stack.callback(joiner.close)
                pieces = lay_out_pieces(Renderer(digest, ctx), store, front, joiner)
                t1 = time.perf_counter()
                marks = outline(digest, ctx.theme)
                pages = assemble_pdf(pieces, tmp_out, store.fonts, outline=marks,
                                     metadata=_metadata(digest, ctx.settings), lang=digest.lang,
                                     destinations=[m.anchor for top in marks for m in (top, *top.children)],
                                     joiner=joiner)
                log.debug("%s: %d of %d pieces laid out in %.2f s; %d pages joined in %.2f s", path.name,
                          pieces.laid_now, len(pieces.all), t1 - t0, pages, time.perf_counter() - t1)
                missing = [cp for item in pieces.all for cp in item.missing]
                refused = [line for item in pieces.all for line in item.refused]
            report_missing(digest, missing)
            report_refused(refused)
        return [path]


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


def _variant(options: PdfOptions) -> str | None:
    v = options.variant
    if v is None or v == "":
        return None
    from digest.editions.pdf.weasy import import_weasyprint

    import_weasyprint()
    from weasyprint.pdf import VARIANTS

    v = v.lower()
    if v not in VARIANTS:
        raise ConfigError(f"pdf.variant {options.variant!r} is not one of: {', '.join(sorted(VARIANTS))}")
    return v


EDITION = PdfEdition
