"""The PDF edition's assembly: every piece's pages joined into one PDF, with what depends on the whole.

The pieces (:mod:`.render`) are joined in reading order with pikepdf (qpdf); then everything that depends
on the whole issue is added: one font subset per face (:mod:`.fontmerge`), the footer ``n / N`` on every
page but the cover and the contents' page numbers (:mod:`.stamp`), the internal links that WeasyPrint could
not resolve inside one piece (as link annotations to the right page), a named destination for every section
and article (``file.pdf#<id>``), the outline (contents, then section → article) and the metadata.
``deterministic_id`` keeps the file byte-identical for the same pieces, however many were laid out now.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import pikepdf
from pikepdf import Array, Dictionary, Name, OutlineItem, PageLocation, String

from digest.editions.pdf import fontmerge, heads, stamp
from digest.editions.pdf.fontfiles import FontRef, font_path
from digest.editions.pdf.glyphs import Entries
from digest.editions.pdf.layout import Laid
from digest.editions.pdf.pieces import Pieces
from digest.errors import ThemeError
from digest.runtime.files import KeptErrors

log = logging.getLogger("digest.pdf")
PX_TO_PT = stamp.PX_TO_PT
STAMP_FONT = "digestN"  # resource names of the stamped numbers' fonts: digestN0, digestN1…


@dataclass(frozen=True)
class Mark:
    """One outline entry: its label, the anchor it points to, its children."""

    title: str
    anchor: str
    children: tuple[Mark, ...] = ()


def page_numbers(parts: Sequence[Laid]) -> dict[str, int]:
    """Anchor → 1-based page number in the final document (first anchor wins, as in WeasyPrint)."""
    out: dict[str, int] = {}
    offset = 0
    for laid in parts:
        for name, (i, _x, _y) in laid.anchors.items():
            out.setdefault(name, offset + i + 1)
        offset += laid.pages
    return out


class Joiner:
    """The join begun before the last pieces are laid out: each piece's pages are copied into the output as
    soon as the pieces before it in a fixed order are at hand — in the rebuild after one new article, most
    of the cached pieces while the two layouts still run, instead of after them (a third of the join).

    The order is the body in reading order, then the front matter (the longest layout: it comes last), the
    same whatever the cache held: qpdf groups the objects of the written file into object streams by their
    numbers here, so a different copying order would give other bytes than a cold build. The pages are put
    in reading order at the end (:meth:`_Merged.pages`)."""

    def __init__(self) -> None:
        self.pdf = pikepdf.new()
        self.sources: list[pikepdf.Pdf] = []
        self.copied: dict[str, list[pikepdf.Object]] = {}
        self._order: list[str] = []
        self._ready: dict[str, Laid] = {}

    def expect(self, front: str, body: Sequence[str]) -> None:
        order = [*body, front]
        if self._order and self._order != order:
            raise ValueError("the pieces being joined are not the ones laid out")
        self._order = order

    def offer(self, laid: Laid) -> None:
        """``laid`` is at hand: copy it, and what follows it, as far as the order allows."""
        self._ready.setdefault(laid.name, laid)
        while len(self.copied) < len(self._order) and (name := self._order[len(self.copied)]) in self._ready:
            src = pikepdf.open(self._ready[name].out)
            self.sources.append(src)
            self.copied[name] = [self.pdf.copy_foreign(page.obj) for page in src.pages]

    def close(self) -> None:
        for src in self.sources:
            src.close()


class _Merged:
    """The PDF being put together: the pages in reading order, and where every anchor landed."""

    def __init__(self, parts: Sequence[Laid], joiner: Joiner):
        self.joiner = joiner
        self.pdf = joiner.pdf
        self.height_pt = parts[0].size[1] * PX_TO_PT
        self.targets: dict[str, tuple[int, float, float]] = {}  # anchor → (final page index, x, y in CSS px)
        self.parts: list[tuple[Laid, int]] = []
        self.page_objs: list[Any] = []
        offset = 0
        for laid in parts:
            self.parts.append((laid, offset))
            for name, (i, x, y) in laid.anchors.items():
                self.targets.setdefault(name, (offset + i, x, y))
            offset += laid.pages
        self.total = offset

    def pages(self) -> None:
        front, *body = (laid for laid, _ in self.parts)
        if len({laid.name for laid, _ in self.parts}) < len(self.parts):  # (never: a piece is its articles)
            raise ValueError("two pieces of the PDF are the same")
        self.joiner.expect(front.name, [laid.name for laid in body])
        for laid in (*body, front):
            self.joiner.offer(laid)
        for laid, _ in self.parts:
            self.pdf.pages.extend(pikepdf.Page(obj) for obj in self.joiner.copied[laid.name])
        self.page_objs = [page.obj for page in self.pdf.pages]

    def dest(self, anchor: str) -> Array:
        page, x, y = self.targets[anchor]
        return Array([self.page_objs[page], Name.XYZ, x * PX_TO_PT, self.height_pt - y * PX_TO_PT, 0])

    def links(self) -> None:
        """The internal links each piece could not resolve on its own, as link annotations."""
        h = self.height_pt
        for laid, base in self.parts:
            for i, (x1, y1, x2, y2), target in laid.links:
                if target not in self.targets:
                    continue  # a link to an id that does not exist (WeasyPrint drops those too)
                annot = self.pdf.make_indirect(Dictionary(
                    Type=Name.Annot, Subtype=Name.Link, Border=Array([0, 0, 0]), Dest=self.dest(target),
                    Rect=Array([x1 * PX_TO_PT, h - y2 * PX_TO_PT, x2 * PX_TO_PT, h - y1 * PX_TO_PT])))
                page = self.page_objs[base + i]
                if Name.Annots not in page:
                    page.Annots = Array()
                page.Annots.append(annot)

    def outline(self, marks: Sequence[Mark]) -> list[OutlineItem]:
        out_items = []
        for mark in marks:
            if mark.anchor not in self.targets:
                continue
            page, x, y = self.targets[mark.anchor]
            # a plain str: pikepdf reads a str subclass (a theme's Label) as a sequence of characters
            item = OutlineItem(str(mark.title), page, PageLocation.XYZ, left=x * PX_TO_PT,
                               top=self.height_pt - y * PX_TO_PT, zoom=0)
            item.children.extend(self.outline(mark.children))
            out_items.append(item)
        return out_items


def _font_refs(parts: Sequence[Laid]) -> tuple[dict[str, FontRef], dict[str, Entries]]:
    refs: dict[str, FontRef] = {}
    glyphs: dict[str, Entries] = {}
    for laid in parts:
        for name, ref in laid.fonts.items():
            if refs.setdefault(name, ref) != ref:
                raise ValueError(f"font {name} comes from two different files: the pieces do not match")
        for name, entries in laid.glyphs.items():
            glyphs.setdefault(name, {}).update(entries)
    return refs, glyphs


class _Fonts:
    """The faces of the merged PDF and, for stamping, each face's character → glyph map (HarfBuzz)."""

    def __init__(self, faces: dict[str, fontmerge.Face], fonts_dir: Path):
        self.faces, self.fonts_dir = faces, fonts_dir
        self._cmaps: dict[str, Callable[[str], int | None]] = {}
        self._hb: dict[FontRef, Any] = {}

    def hb_face(self, ref: FontRef) -> Any:
        if ref not in self._hb:
            self._hb[ref] = fontmerge.load_face(font_path(self.fonts_dir, ref), ref.index)
        return self._hb[ref]

    def cmap(self, name: str) -> Callable[[str], int | None]:
        if name not in self._cmaps:
            self._cmaps[name] = self._load(name)
        return self._cmaps[name]

    def _load(self, name: str) -> Callable[[str], int | None]:
        import uharfbuzz as hb

        face = self.faces[name]
        font = hb.Font(self.hb_face(face.ref))
        upem = font.face.upem

        def lookup(ch: str) -> int | None:
            gid = font.get_nominal_glyph(ord(ch))
            if gid is None:
                return None
            face.glyphs.add(gid)
            face.widths.setdefault(gid, round(font.get_glyph_h_advance(gid) * 1000 / upem, 3))
            face.unicode.setdefault(gid, ch)
            return int(gid)
        return lookup

    def widths(self, name: str) -> Mapping[int, float]:
        return self.faces[name].widths


@dataclass
class _Chrome:
    """What the samples taught: the numbers' look (None when no installed font draws digits) and each
    running-head pair's heads (:mod:`.heads`)."""

    numbers: stamp.Chrome | None
    heads: dict[heads.Key, heads.Head]


def _sample_faces(laid: Laid, sample: pikepdf.Pdf, fonts: _Fonts, pdf: pikepdf.Pdf) -> dict[str, fontmerge.Face]:
    """The sample's faces; a face only the samples use is copied from them (its glyphs: what is stamped)."""
    faces = fontmerge.gather(sample, laid.fonts, laid.glyphs)
    for name, face in faces.items():
        if name not in fonts.faces:
            fonts.faces[name] = fontmerge.Face(face.ref, set(), dict(face.widths), dict(face.unicode),
                                               pdf.copy_foreign(face.template))
        else:
            for g, w in face.widths.items():
                fonts.faces[name].widths.setdefault(g, w)
    return faces


def _samples(pieces: Pieces, fonts: _Fonts, pdf: pikepdf.Pdf, out: Path) -> _Chrome:
    """The chrome learnt from the samples."""
    samples = (pieces.footer_sample, pieces.number_sample)
    with pikepdf.open(samples[0].out) as foot, pikepdf.open(samples[1].out) as num:
        faces = _sample_faces(samples[0], foot, fonts, pdf)
        _sample_faces(samples[1], num, fonts, pdf)
        try:
            learnt = heads.learn(foot, samples[0].heads, pdf, fonts.faces)
        except ValueError as e:  # a theme whose margin boxes are not drawn as WeasyPrint draws them
            raise ThemeError(f"pdf/print.css: the running heads cannot be stamped: {e}") from None
        for head in learnt.values():  # the heads' glyphs stand for what the sample says they do
            for name, gids in head.glyphs.items():
                text = faces[name].unicode if name in faces else {}
                for g in gids:
                    if g in text:
                        fonts.faces[name].unicode.setdefault(g, text[g])
        try:
            numbers: stamp.Chrome | None = stamp.learn(foot.pages[0], list(num.pages), samples[1].slots,
                                                       fonts.widths)
        except ValueError as e:  # no installed font draws digits (built with --allow-missing-fonts)
            log.warning("%s: page numbers left out: %s", out.name, e)
            numbers = None
        return _Chrome(numbers, learnt)


# (page, operators) of the numbers, the fonts' resource names, the other resources, (page → its heads' operators)
Stamps = tuple[list[tuple[int, bytes]], dict[str, str], dict[tuple[str, str], Any], dict[int, bytes]]


def _head_stamps(merged: _Merged, learnt: Mapping[heads.Key, heads.Head], fonts: _Fonts,
                 ops: dict[int, bytes]) -> tuple[dict[str, str], dict[tuple[str, str], Any]]:
    """Every page's running heads (their glyphs added to the merged fonts); the resource names of the
    fonts they use (name → BaseFont) and the other resources they name ((category, name) → object)."""
    used: dict[heads.Key, heads.Head] = {}
    for i, key in heads.pages_with((laid.heads, laid.drew_heads, base) for laid, base in merged.parts):
        head = learnt.get(key)
        if head is None:
            raise ThemeError(f"pdf/print.css: no sample of the running head of page {i + 1} ({key})")
        if head.data:
            ops[i] = head.data
            used[key] = head
    names: dict[str, str] = {}
    other: dict[tuple[str, str], Any] = {}
    for head in used.values():
        names.update({resource: name for name, resource in head.fonts.items()})
        other.update(head.resources)
        for name, gids in head.glyphs.items():
            fonts.faces[name].glyphs.update(gids)
    return names, other


def _stamp(merged: _Merged, pieces: Pieces, chrome: _Chrome, fonts: _Fonts, sections: set[str]) -> Stamps:
    """(page, operators) of every stamp — running heads, the contents' numbers, footers after the cover —
    and the resources they name: the fonts' resource names by BaseFont, the other resources by name."""
    heads_of: dict[int, bytes] = {}
    names, other = _head_stamps(merged, chrome.heads, fonts, heads_of)
    ops: dict[int, list[bytes]] = {i: [] for i in heads_of}
    numbers_chrome = chrome.numbers
    if numbers_chrome is not None:
        numbers = page_numbers([pieces.front, *pieces.body])
        resources = {name: f"{STAMP_FONT}{i}" for i, name in enumerate(sorted(
            {numbers_chrome.footer.font, *(st.font for st, _, _ in numbers_chrome.numbers.values())}))}
        names.update({resource: name for name, resource in resources.items()})
        first = merged.targets.get("contents", (1, 0.0, 0.0))[0]  # pages before the contents: the cover
        for page, rect, target in pieces.front.slots:
            if target in numbers:
                cls = "section" if target in sections else "article"
                ops.setdefault(page, []).append(stamp.number_ops(
                    numbers_chrome, resources, (rect, cls), numbers[target], merged.height_pt, fonts.cmap,
                    fonts.widths))
        footer = numbers_chrome.footer.font
        for i in range(first, merged.total):
            ops.setdefault(i, []).append(stamp.footer_ops(numbers_chrome, resources[footer], i + 1, merged.total,
                                                          fonts.cmap(footer), fonts.widths(footer)))
    return [(i, b"".join(chunks)) for i, chunks in sorted(ops.items())], names, other, heads_of


def _apply(pdf: pikepdf.Pdf, stamps: Stamps, written: Mapping[str, Any]) -> None:
    pages, fonts, other, heads_of = stamps
    shared: dict[bytes, Any] = {}  # the same operators on many pages (the "q", a section's heads): one stream

    def stream(data: bytes) -> Any:
        if data not in shared:
            shared[data] = pdf.make_indirect(pdf.make_stream(data))
        return shared[data]

    adds = [(Name.Font, Name("/" + key), written[name]) for key, name in sorted(fonts.items())]
    adds += [(Name(category), Name("/" + key), obj) for (category, key), obj in other.items()]
    for i, data in pages:
        page = pdf.pages[i].obj
        res = page.Resources
        categories: dict[Name, Any] = {}
        for category, key, obj in adds:
            if category not in categories:
                if category not in res:
                    res[category] = Dictionary()
                categories[category] = res[category]
            categories[category][key] = obj
        if i in heads_of:  # (drawn first, as WeasyPrint drew them: in the page, before the stamps)
            tail = [stream(b"Q\n" + heads_of[i]), *([pdf.make_stream(data)] if data else [])]
        else:
            tail = [pdf.make_stream(b"Q\n" + data)]
        contents = page.Contents
        page.Contents = Array([stream(b"q\n"), *(contents if isinstance(contents, Array) else [contents]), *tail])


def assemble_pdf(pieces: Pieces, out: Path, fonts_dir: Path, *, outline: Sequence[Mark], metadata: dict[str, str],
                 lang: str | None = None, destinations: Sequence[str] = (), joiner: Joiner | None = None) -> int:
    """Write the merged PDF to ``out`` (``joiner``: the pieces already copied); returns its page count."""
    joiner = joiner or Joiner()
    merged = _Merged([pieces.front, *pieces.body], joiner)
    pdf = merged.pdf
    try:
        merged.pages()
        refs, glyphs = _font_refs([pieces.front, *pieces.body])
        fonts = _Fonts(fontmerge.gather(pdf, refs, glyphs), fonts_dir)
        chrome = _samples(pieces, fonts, pdf, out)
        stamps = _stamp(merged, pieces, chrome, fonts, {m.anchor for m in outline})
        written = fontmerge.unify(pdf, fonts.faces, fonts.hb_face)
        _apply(pdf, stamps, written)
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
            sink = KeptErrors(stream)  # (a full disk: an OSError here, not qpdf ending the process)
            pdf.save(cast(BinaryIO, sink), deterministic_id=True, fix_metadata_version=False,
                     object_stream_mode=pikepdf.ObjectStreamMode.generate)
            sink.check()
    finally:
        joiner.close()
    return merged.total
