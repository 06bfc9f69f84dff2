"""One subset per font in the merged PDF: the pieces' fonts of the same face become one font object.

Every piece came with its own copy of each font's description (glyph widths ``/W``, the ``/ToUnicode`` map
that makes text searchable) and no program (:mod:`.glyphs`). Here the fonts of one face are replaced by
one: its glyphs are the union of what the pages draw (exactly, so the same pages give the same file however
they were laid out), its widths and Unicode map are the pieces' entries for those glyphs, and its program
is a subset of the original font file made with HarfBuzz (uharfbuzz), glyph ids kept, as WeasyPrint makes
its own subsets. Glyphs stamped later (page numbers) are added by the caller.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from math import ceil
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name

from digest.editions.pdf.fontfiles import FontRef
from digest.editions.pdf.glyphs import PROGRAMS, Entries, base_name

DROP_TABLES = ("BASE", "DSIG", "EBDT", "EBLC", "EBSC", "GPOS", "GSUB", "JSTF", "LTSH", "PCLT", "SVG ")


@dataclass
class Face:
    """What the pieces say about one font face, gathered before it is written once."""

    ref: FontRef
    glyphs: set[int] = field(default_factory=set)
    widths: dict[int, float] = field(default_factory=dict)
    unicode: dict[int, str] = field(default_factory=dict)
    template: Any = None  # the first font dictionary met: its keys are kept


def to_unicode_cmap(entries: Mapping[int, str]) -> bytes:
    """A ``/ToUnicode`` CMap (the form WeasyPrint writes: ``bfchar`` blocks of 100)."""
    lines = [b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap", b"/CIDSystemInfo",
             b"<< /Registry (Adobe)", b"/Ordering (UCS)", b"/Supplement 0", b">> def",
             b"/CMapName /Adobe-Identity-UCS def", b"/CMapType 2 def", b"1 begincodespacerange",
             b"<0000> <ffff>", b"endcodespacerange"]
    items = sorted(entries.items())
    for i in range(ceil(len(items) / 100)):
        batch = items[i * 100 : (i + 1) * 100]
        lines.append(f"{len(batch)} beginbfchar".encode())
        lines += [f"<{g:04x}> <{text.encode('utf-16-be').hex()}>".encode() for g, text in batch]
        lines.append(b"endbfchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines)


def _font_dicts(pdf: pikepdf.Pdf) -> Iterable[tuple[Any, str, str, Any]]:
    """(resource dictionary, resource name, BaseFont, font) for every composite font a page or form uses."""
    seen: set[tuple[int, int]] = set()
    stack = [page.obj.get(Name.Resources) for page in pdf.pages]
    while stack:
        res = stack.pop()
        if res is None:
            continue
        for key, font in list(res.get(Name.Font, {}).items()):
            name = base_name(font)
            if name is not None:
                yield res, key, name, font
        for xobj in res.get(Name.XObject, {}).values():
            if xobj.get(Name.Subtype) == Name.Form and xobj.objgen not in seen and Name.Resources in xobj:
                seen.add(xobj.objgen)
                stack.append(xobj.Resources)


def gather(pdf: pikepdf.Pdf, refs: Mapping[str, FontRef], entries: Mapping[str, Entries]) -> dict[str, Face]:
    """Each face to unify, with the glyphs the pieces draw and their widths and text (as the pieces
    recorded them); the first font dictionary of the face met in the pages is its template."""
    faces: dict[str, Face] = {}
    for name, ref in refs.items():
        got = entries.get(name, {})
        faces[name] = Face(ref, set(got), {g: w for g, (w, _) in got.items()}, {g: t for g, (_, t) in got.items() if t})
    for _res, _key, name, font in _font_dicts(pdf):
        face = faces.get(name)
        if face is not None and face.template is None:
            face.template = font
    return {name: face for name, face in faces.items() if face.template is not None}


def load_face(path: Path, index: int) -> Any:
    """A HarfBuzz face of a kept font file."""
    import uharfbuzz as hb

    return hb.Face(hb.Blob.from_file_path(str(path)), index)


def subset(face: Any, glyphs: Iterable[int]) -> bytes:
    """A subset of a HarfBuzz face with these glyphs, their ids kept (as WeasyPrint's subsets), no hinting."""
    import uharfbuzz as hb

    wanted = sorted({0, *(g for g in glyphs if 0 <= g < face.glyph_count)})
    first = hb.SubsetInput()
    first.glyph_set.update(wanted)
    first.flags = (hb.SubsetFlags.RETAIN_GIDS | hb.SubsetFlags.PASSTHROUGH_UNRECOGNIZED
                   | hb.SubsetFlags.DESUBROUTINIZE | hb.SubsetFlags.NO_HINTING)
    drop = first.sets(hb.SubsetInputSets.DROP_TABLE_TAG)
    drop.update(hb.ot_tag_from_string(t) if hasattr(hb, "ot_tag_from_string") else int.from_bytes(t.encode(), "big")
                for t in DROP_TABLES)
    kept = hb.subset(face, first)
    second = hb.SubsetInput()  # then the empty glyphs after the last one used go: ids stay the same
    second.glyph_set.update(range(wanted[-1] + 1))
    second.flags = (hb.SubsetFlags.PASSTHROUGH_UNRECOGNIZED | hb.SubsetFlags.DESUBROUTINIZE
                    | hb.SubsetFlags.NO_HINTING)
    return bytes(hb.subset(kept, second).blob.data)


def _widths_array(widths: Mapping[int, float]) -> Array:
    out: list[Any] = []
    run: list[float] = []
    start = prev = -2
    for g in sorted(widths):
        if g != prev + 1 and run:
            out += [start, Array(run)]
            run = []
        if not run:
            start = g
        run.append(round(widths[g], 3))
        prev = g
    if run:
        out += [start, Array(run)]
    return Array(out)


def _program(pdf: pikepdf.Pdf, data: bytes) -> tuple[Name, Any]:
    if data[:4] == b"OTTO":
        return Name.FontFile3, pdf.make_stream(data, Subtype=Name.OpenType)
    return Name.FontFile2, pdf.make_stream(data, Length1=len(data))


def _write_face(pdf: pikepdf.Pdf, face: Face, hb_face: Any) -> Any:
    """The one font object of a face: the template's keys with the union's widths, map and program."""
    widths = {g: face.widths[g] for g in face.glyphs if g in face.widths}
    unicode = {g: face.unicode[g] for g in face.glyphs if g in face.unicode}
    old = face.template
    descendant = Dictionary({k: v for k, v in old.DescendantFonts[0].items()})
    descriptor = Dictionary({k: v for k, v in old.DescendantFonts[0].FontDescriptor.items() if k not in PROGRAMS})
    key, program = _program(pdf, subset(hb_face, face.glyphs))
    descriptor[key] = program
    bbox = list(descriptor.get(Name.FontBBox, [0, 0, 0, 0]))
    descriptor.FontBBox = Array([bbox[0], bbox[1], max(widths.values(), default=0), bbox[3]])
    flags = int(descriptor.get(Name.Flags, 4)) & ~1
    descriptor.Flags = flags | (1 if len(widths) > 1 and len(set(widths.values())) == 1 else 0)
    descendant.FontDescriptor = pdf.make_indirect(descriptor)
    descendant.W = _widths_array(widths)
    font = Dictionary({k: v for k, v in old.items()})
    font.DescendantFonts = Array([pdf.make_indirect(descendant)])
    font.ToUnicode = pdf.make_stream(to_unicode_cmap(unicode))
    return pdf.make_indirect(font)


def unify(pdf: pikepdf.Pdf, faces: Mapping[str, Face], load: Callable[[FontRef], Any]) -> dict[str, Any]:
    """Write one font per face and point every page and form at it; returns BaseFont → font object.
    ``load`` gives the HarfBuzz face of a kept font file."""
    written = {name: _write_face(pdf, face, load(face.ref)) for name, face in sorted(faces.items())}
    for res, key, name, _font in list(_font_dicts(pdf)):
        if name in written:
            res.Font[key] = written[name]
    return written
