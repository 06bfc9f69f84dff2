"""The PDF edition's worker side: lay out one HTML document with WeasyPrint and report where things landed.

Runs in worker processes (see :mod:`digest.exporters.pdf`); everything it returns is small and picklable:
page count, page size, anchors and internal links with their page index and position. Internal links are
taken out of WeasyPrint's document (their targets may live in another chunk) and put back by
:mod:`digest.pdf_merge` once every page has its final number.
"""
from __future__ import annotations

import gc
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digest.editions.pdf.fetcher import FetchPolicy

_NOTDEF = re.compile(r"\(U\+([0-9A-F]{4,6})\)")


@dataclass
class Job:
    name: str  # "front", "body-3", "stubs-0"…, for error messages
    html: str
    out: Path
    base_url: str
    options: dict[str, Any] = field(default_factory=dict)  # extra write_pdf options (pdf_variant, pdf_tags…)
    write: bool = True  # False: lay out only (to count pages), write no file
    # what WeasyPrint may read: the theme's and the site's own files (see .fetcher)
    policy: FetchPolicy = field(default_factory=lambda: FetchPolicy(()))


@dataclass
class Laid:
    name: str
    out: Path
    pages: int
    size: tuple[float, float]  # page width, height in CSS px
    anchors: dict[str, tuple[int, float, float]]  # id → (page index, x, y)
    links: list[tuple[int, tuple[float, float, float, float], str]]  # (page index, (x1, y1, x2, y2), id)
    missing: list[int]  # code points drawn as .notdef (no installed font has them)
    refused: list[str] = field(default_factory=list)  # URLs the fetcher refused, one line each


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.codepoints: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if ".notdef" in msg:
            m = _NOTDEF.search(msg)
            if m:
                self.codepoints.append(int(m.group(1), 16))


def lay_out(job: Job, *, keep_internal_links: bool = False) -> Laid:
    """Render ``job.html`` to ``job.out``; internal links are returned instead of written (unless kept)."""
    from weasyprint import HTML

    logger = logging.getLogger("weasyprint")
    handler = _Collect()
    logger.addHandler(handler)
    # Layout allocates millions of objects that live until the end of the job; the cyclic collector
    # scanning them over and over costs ~7 % of the time. One collection at the end frees the same memory.
    collecting = gc.isenabled()
    gc.disable()
    try:
        fetcher = job.policy.fetcher()
        doc = HTML(string=job.html, base_url=job.base_url, url_fetcher=fetcher).render()
        anchors: dict[str, tuple[int, float, float]] = {}
        links: list[tuple[int, tuple[float, float, float, float], str]] = []
        for i, page in enumerate(doc.pages):
            for name, (x1, y1, _x2, _y2) in page.anchors.items():
                anchors.setdefault(name, (i, x1, y1))
            if not keep_internal_links:
                kept = []
                for link_type, target, rect, box in page.links:
                    if link_type == "internal":
                        links.append((i, tuple(rect), target))
                    else:
                        kept.append((link_type, target, rect, box))
                page.links[:] = kept
        size = (doc.pages[0].width, doc.pages[0].height) if doc.pages else (0.0, 0.0)
        count = len(doc.pages)
        if job.write:
            doc.write_pdf(job.out, **job.options)
        del doc
    finally:
        logger.removeHandler(handler)
        if collecting:
            gc.enable()
        gc.collect()
    return Laid(job.name, job.out, count, size, anchors, links, sorted(set(handler.codepoints)),
                list(dict.fromkeys(fetcher.refused)))
