"""The PDF edition's assembly: the front matter, the body chunks and the footer pages become one PDF (pikepdf).

Every chunk was laid out on its own (see :mod:`digest.pdf_render`); here its pages are appended in reading
order, the footer ``n / N`` of the matching stub page is laid over each body page, the internal links that
WeasyPrint could not resolve inside one chunk become link annotations to the right page, every section and
article gets a named destination (``file.pdf#<id>``), and the outline (bookmarks) is built from the
anchors: contents, then section → article. qpdf does the heavy lifting, so assembly costs well under a
second for a thousand pages, and ``deterministic_id`` keeps the file byte-identical across builds.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, OutlineItem, PageLocation, String

from digest.editions.pdf.layout import Laid

PX_TO_PT = 0.75  # WeasyPrint reports positions in CSS px (1/96 in); PDF works in points (1/72 in)


@dataclass(frozen=True)
class Mark:
    """One outline entry: its label, the anchor it points to, its children."""

    title: str
    anchor: str
    children: tuple[Mark, ...] = ()


def page_numbers(front_pages: int, body: Sequence[Laid]) -> dict[str, int]:
    """Anchor → 1-based page number in the final document (first anchor wins, as in WeasyPrint)."""
    out: dict[str, int] = {}
    offset = front_pages
    for laid in body:
        for name, (i, _x, _y) in laid.anchors.items():
            out.setdefault(name, offset + i + 1)
        offset += laid.pages
    return out


def _overlay(page: pikepdf.Page, stub: pikepdf.Page, index: int) -> None:
    """Lay ``stub`` over ``page`` — pikepdf's ``add_overlay``, but under a stable resource name (it picks a
    random one), so that builds stay byte-identical."""
    formx = stub.as_form_xobject()
    name = page.add_resource(formx, Name.XObject, Name(f"/digestFooter{index}"))
    placement = page.calc_form_xobject_placement(formx, name, pikepdf.Rectangle(page.trimbox))
    page.contents_add(b"q\n", prepend=True)
    page.contents_add(b"Q\n", prepend=False)
    page.contents_add(placement, prepend=False)
    page.contents_coalesce()


class _Merged:
    """The PDF being put together: the pages in reading order, and where every anchor landed."""

    def __init__(self, front: Laid, body: Sequence[Laid]):
        self.pdf = pikepdf.new()
        self.height_pt = front.size[1] * PX_TO_PT
        self.targets: dict[str, tuple[int, float, float]] = {}  # anchor → (final page index, x, y in CSS px)
        self.parts: list[tuple[Laid, int]] = []
        self.sources: list[pikepdf.Pdf] = []
        offset = 0
        for laid in (front, *body):
            self.parts.append((laid, offset))
            for name, (i, x, y) in laid.anchors.items():
                self.targets.setdefault(name, (offset + i, x, y))
            offset += laid.pages
        self.total = offset

    def open(self, path: Path) -> pikepdf.Pdf:
        self.sources.append(pikepdf.open(path))
        return self.sources[-1]

    def pages(self, front: Laid, body: Sequence[Laid], stubs: Sequence[Laid]) -> None:
        """The front pages, then each body page with its footer (the matching stub page) laid over it."""
        self.pdf.pages.extend(self.open(front.out).pages)
        stub_pages = [page for laid in stubs for page in self.open(laid.out).pages]
        if len(stub_pages) != self.total - front.pages:
            raise ValueError(f"footer pages: {len(stub_pages)} for {self.total - front.pages} body pages")
        for laid in body:
            start = len(self.pdf.pages)
            self.pdf.pages.extend(self.open(laid.out).pages)
            for k in range(laid.pages):
                _overlay(self.pdf.pages[start + k], stub_pages[start - front.pages + k], start + k)

    def dest(self, anchor: str) -> Array:
        page, x, y = self.targets[anchor]
        return Array([self.pdf.pages[page].obj, Name.XYZ, x * PX_TO_PT, self.height_pt - y * PX_TO_PT, 0])

    def links(self) -> None:
        """The internal links each chunk could not resolve on its own, as link annotations."""
        h = self.height_pt
        for laid, base in self.parts:
            for i, (x1, y1, x2, y2), target in laid.links:
                if target not in self.targets:
                    continue  # a link to an id that does not exist (WeasyPrint drops those too)
                annot = self.pdf.make_indirect(Dictionary(
                    Type=Name.Annot, Subtype=Name.Link, Border=Array([0, 0, 0]), Dest=self.dest(target),
                    Rect=Array([x1 * PX_TO_PT, h - y2 * PX_TO_PT, x2 * PX_TO_PT, h - y1 * PX_TO_PT])))
                page = self.pdf.pages[base + i]
                if Name.Annots not in page.obj:
                    page.obj.Annots = Array()
                page.obj.Annots.append(annot)

    def outline(self, marks: Sequence[Mark]) -> list[OutlineItem]:
        out_items = []
        for mark in marks:
            if mark.anchor not in self.targets:
                continue
            page, x, y = self.targets[mark.anchor]
            item = OutlineItem(mark.title, page, PageLocation.XYZ, left=x * PX_TO_PT,
                               top=self.height_pt - y * PX_TO_PT, zoom=0)
            item.children.extend(self.outline(mark.children))
            out_items.append(item)
        return out_items


def assemble_pdf(
    front: Laid,
    body: Sequence[Laid],
    stubs: Sequence[Laid],
    out: Path,
    *,
    outline: Sequence[Mark],
    metadata: dict[str, str],
    lang: str | None = None,
    destinations: Sequence[str] = (),
) -> int:
    """Write the merged PDF to ``out``; returns its page count."""
    merged = _Merged(front, body)
    pdf = merged.pdf
    try:
        merged.pages(front, body, stubs)
        merged.links()
        named = sorted(a for a in destinations if a in merged.targets)
        if named:
            pdf.Root.Dests = pdf.make_indirect(Dictionary({"/" + a: merged.dest(a) for a in named}))
        with pdf.open_outline() as tree:
            tree.root.extend(merged.outline(outline))
        for key, value in metadata.items():
            pdf.docinfo[Name(key)] = String(value)
        if lang:
            pdf.Root.Lang = String(lang)
        pdf.Root.PageMode = Name.UseOutlines
        with open(out, "wb") as stream:  # a stream, not a path: pikepdf would write its own temporary file
            pdf.save(stream, deterministic_id=True, fix_metadata_version=False,
                     object_stream_mode=pikepdf.ObjectStreamMode.generate)
    finally:
        for src in merged.sources:
            src.close()
    return merged.total
