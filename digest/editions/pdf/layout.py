"""The PDF edition's worker side: lay out pieces with WeasyPrint, write them once, split them apart.

One job is several HTML documents (body pieces, the front matter, samples of the page chrome). Each is laid
out on its own — a piece's pages are the same whatever job it is laid out in — then their pages are
written as one PDF, so the fonts are subset once per job rather than once per piece, and the file is
split again into one small PDF per piece for the cache (:mod:`.pieces`). Everything returned is small and
picklable: page count and size, where anchors and internal links landed (internal links are taken out:
their targets may be in another piece, :mod:`.merge` puts them back), the contents' number slots, the
glyphs each piece uses of each font and where that font's file was kept (:mod:`.fontfiles`).
"""
from __future__ import annotations

import gc
import io
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digest.editions.pdf.fetch import FetchRules
from digest.editions.pdf.fontfiles import FontRef, keep_font
from digest.editions.pdf.glyphs import Entries, FontTables, entries, fonts_of, strip_programs, used_glyphs
from digest.editions.pdf.heads import page_keys

_NOTDEF = re.compile(r"\(U\+([0-9A-F]{4,6})\)")
Rect = tuple[float, float, float, float]
NUMBER_SLOT = "pn"  # the class of the contents' page-number boxes (pdf/front.html.j2)


@dataclass(frozen=True)
class Doc:
    name: str  # the piece's file stem (its cache key) or a sample's name
    html: str
    css: str = ""  # its stylesheet when not in ``html``: parsed once per job for the documents sharing it

    @property
    def weight(self) -> int:
        """What laying it out costs, roughly: its text."""
        return len(self.html) + len(self.css)


@dataclass
class Job:
    name: str  # for error messages
    docs: list[Doc]
    out_dir: Path  # each doc's PDF is written to ``out_dir / f"{doc.name}.pdf"``
    base_url: str
    fonts_dir: Path  # where the original font files are kept
    rules: FetchRules | None = None  # what WeasyPrint may read (the site's and the theme's files); None: data: only
    collect: bool = True  # False: its garbage left to Python (the process ends with it, or joins the pieces at once)


@dataclass
class Laid:
    name: str
    out: Path
    pages: int
    size: tuple[float, float]  # page width, height in CSS px
    anchors: dict[str, tuple[int, float, float]]  # id → (page index, x, y)
    links: list[tuple[int, Rect, str]]  # (page index, (x1, y1, x2, y2), id)
    slots: list[tuple[int, Rect, str]] = field(default_factory=list)  # contents numbers: (page, rect, id)
    missing: list[int] = field(default_factory=list)  # code points drawn as .notdef
    fonts: dict[str, FontRef] = field(default_factory=dict)  # BaseFont → its original file
    glyphs: dict[str, Entries] = field(default_factory=dict)  # BaseFont → glyphs used: width, text
    refused: list[str] = field(default_factory=list)  # URLs the fetcher refused, one line each
    heads: list[tuple[str, str]] = field(default_factory=list)  # each page's running-head pair (.heads)
    drew_heads: bool = False  # the stylesheet drew top margin boxes (then none are stamped on its pages)

    def to_json(self) -> dict[str, Any]:
        return {"pages": self.pages, "size": list(self.size), "anchors": self.anchors, "links": self.links,
                "slots": self.slots, "missing": self.missing, "refused": self.refused, "heads": self.heads,
                "drew_heads": self.drew_heads,
                "glyphs": {k: [[g, w, t] for g, (w, t) in sorted(v.items())] for k, v in self.glyphs.items()},
                "fonts": {k: [v.file, v.index] for k, v in self.fonts.items()}}

    @classmethod
    def from_json(cls, name: str, out: Path, data: dict[str, Any]) -> Laid:
        return cls(name, out, int(data["pages"]), (float(data["size"][0]), float(data["size"][1])),
                   {k: (int(v[0]), float(v[1]), float(v[2])) for k, v in data["anchors"].items()},
                   [(int(i), _rect(r), str(t)) for i, r, t in data["links"]],
                   [(int(i), _rect(r), str(t)) for i, r, t in data["slots"]],
                   [int(c) for c in data["missing"]],
                   {k: FontRef(str(f), int(i)) for k, (f, i) in data["fonts"].items()},
                   {k: {int(g): (float(w), str(t)) for g, w, t in v} for k, v in data["glyphs"].items()},
                   [str(x) for x in data.get("refused", ())],
                   [(str(k[0]), str(k[1])) for k in data["heads"]], bool(data["drew_heads"]))


def _rect(values: Any) -> Rect:
    x1, y1, x2, y2 = (float(v) for v in values)
    return (x1, y1, x2, y2)


class MissingGlyphs(logging.Handler):
    """Collects the code points WeasyPrint drew as .notdef (it logs each one)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.codepoints: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if ".notdef" in msg and (m := _NOTDEF.search(msg)):
            self.codepoints.append(int(m.group(1), 16))


def _take_links(pages: list[Any], laid: Laid) -> None:
    """Anchors, internal links (taken out of the pages) and number slots of one document's pages."""
    for i, page in enumerate(pages):
        for name, (x1, y1, _x2, _y2) in page.anchors.items():
            laid.anchors.setdefault(name, (i, x1, y1))
        kept = []
        for link_type, target, rect, box in page.links:
            if link_type != "internal":
                kept.append((link_type, target, rect, box))
                continue
            laid.links.append((i, _rect(rect), target))
            element = getattr(box, "element", None)
            if element is not None and NUMBER_SLOT in (element.get("class") or "").split():
                laid.slots.append((i, _rect(rect), target))
        page.links[:] = kept


def _stylesheet(css: str, sheets: dict[str, tuple[Any, list[str]]], job: Job, fetcher: Any,
                fonts: Any) -> tuple[Any, list[str]]:
    """The parsed stylesheet, once per distinct text in a job (parsing it is ~5 % of a piece's layout), and
    the URLs refused while parsing it (its fonts and imports are fetched then), which every document using
    it reports as it would have reading the stylesheet in its own HTML."""
    if css not in sheets:
        from weasyprint import CSS

        before = len(fetcher.refused)
        sheet = CSS(string=css, base_url=job.base_url, url_fetcher=fetcher, font_config=fonts)
        sheets[css] = (sheet, fetcher.refused[before:])
    return sheets[css]


def _render(job: Job) -> tuple[list[Any], list[Laid], Any]:
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from digest.editions.pdf.fetcher import SiteFetcher

    fetcher = SiteFetcher(job.rules or FetchRules("", "", ()))  # no rules: data: only
    fonts = FontConfiguration()  # one for the job: every document finds the same fonts once
    sheets: dict[str, tuple[Any, list[str]]] = {}
    docs, laid = [], []
    for doc in job.docs:
        # a stylesheet given apart has the user origin, not the author's: the same cascade where it is the
        # document's only one and says nothing !important (:func:`.render.css_apart` checks)
        sheet, refused = _stylesheet(doc.css, sheets, job, fetcher, fonts) if doc.css else (None, [])
        before = len(fetcher.refused)
        html = HTML(string=doc.html, base_url=job.base_url, url_fetcher=fetcher)
        rendered = html.render(font_config=fonts, stylesheets=[sheet] if sheet is not None else None)
        pages = rendered.pages
        size = (pages[0].width, pages[0].height) if pages else (0.0, 0.0)
        one = Laid(doc.name, job.out_dir / f"{doc.name}.pdf", len(pages), size, {}, [],
                   refused=list(dict.fromkeys([*refused, *fetcher.refused[before:]])))
        _take_links(pages, one)
        one.heads, one.drew_heads = page_keys(pages)
        docs.append(rendered)
        laid.append(one)
    return docs, laid, fetcher


def lay_out(job: Job) -> list[Laid]:
    """Lay out and write every document of ``job``; one :class:`Laid` per document, in order."""
    collecting = gc.isenabled()
    try:
        return _lay_out(job)
    finally:
        if collecting:
            gc.enable()
        if job.collect:  # (False: the join waits for this job and goes on at once; Python collects later)
            gc.collect()


def lay_out_apart(job: Job) -> list[Laid]:
    """:func:`lay_out` in a process that exists for layouts (a pool's worker, a forked child), which leaves
    the job's garbage — the millions of objects of its WeasyPrint documents, ~5 % of its time to collect —
    and the cyclic collector off: the next job in this process collects it first, and the last job's is
    never collected, its process ends (by ``os._exit``: no collection there either)."""
    if not gc.isenabled():  # a job before left its garbage
        gc.collect()
    return _lay_out(job)


def _lay_out(job: Job) -> list[Laid]:
    logger = logging.getLogger("weasyprint")
    handler = MissingGlyphs()
    logger.addHandler(handler)
    # Layout makes millions of objects that live until the job ends; the cyclic collector scanning them
    # over and over costs ~7 % of the time, and scanning what the process held before (the digest) at the
    # end would cost more: freeze that, collect (at most) once when the job is done.
    gc.freeze()
    gc.disable()
    try:
        docs, laid, fetcher = _render(job)
        batch = job.out_dir / f".job-{job.name}.{os.getpid()}.pdf"
        whole = docs[0].copy([p for d in docs for p in d.pages])
        whole.write_pdf(batch, uncompressed_pdf=True)  # (attachments are read only now)
        laid[0].refused += [r for r in dict.fromkeys(fetcher.refused) if not any(r in one.refused for one in laid)]
        refs = {font.name.decode("latin-1").lstrip("/"): keep_font(font, job.fonts_dir)
                for font in whole.fonts.values() if not font.bitmap}
        del whole, docs
        _split(batch, laid, refs)
        batch.unlink()
    finally:
        logger.removeHandler(handler)
    for one, doc in zip(laid, job.docs, strict=True):
        one.missing = sorted({cp for cp in handler.codepoints if chr(cp) in doc.html or chr(cp) in doc.css})
    return laid


def _split(batch: Path, laid: list[Laid], refs: dict[str, FontRef | None]) -> None:
    """One PDF per document: its pages, only the resources they use, font programs left out where the
    original font file is kept (the merge subsets those once for the whole PDF)."""
    import pikepdf

    with pikepdf.open(batch) as src:
        batch_fonts = dict(fonts_of(src))  # one font object per face in a WeasyPrint file
        tables: dict[str, FontTables] = {}  # read once per job, not once per piece
        start = 0
        for one in laid:
            out = pikepdf.new()
            out.pages.extend(src.pages[start : start + one.pages])
            start += one.pages
            for page in out.pages:
                page.remove_unreferenced_resources()
            one.glyphs = {name: entries(tables, name, batch_fonts[name], gids)
                          for name, gids in used_glyphs(out.pages).items() if name in batch_fonts}
            one.fonts = {name: ref for name in one.glyphs if (ref := refs.get(name)) is not None}
            strip_programs(out, set(one.fonts))
            data = io.BytesIO()  # saved in memory, written by Python: a full disk is an OSError, never an abort
            out.save(data, deterministic_id=True, compress_streams=True,
                     object_stream_mode=pikepdf.ObjectStreamMode.generate)
            tmp = one.out.with_name(f".{one.out.name}.{os.getpid()}.tmp")
            try:
                tmp.write_bytes(data.getbuffer())
                os.replace(tmp, one.out)  # whole or not at all: another build may read the cache meanwhile
            except OSError:
                tmp.unlink(missing_ok=True)
                raise
