"""Which glyphs of which font a piece's pages draw, and the pieces' font programs left out until the merge.

WeasyPrint writes text with composite (Type 0) fonts, ``Identity-H`` encoding and the original font's glyph
ids, two bytes per glyph, as hexadecimal strings: ``/TSPJMR 14 Tf`` then ``[<0012>0<0011>…] TJ``. Scanning
the content streams for those (and the forms they draw) tells exactly which glyphs each piece needs, so the
merged PDF's one subset per font holds what the pages draw and nothing else, however the pieces were
grouped when they were laid out.
"""
from __future__ import annotations

import re
import sys
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pikepdf
from pikepdf import Name

_TOKENS = re.compile(rb"/([^\s/\[\]<>(){}%]+)\s+[-+\d.]+\s+Tf|\[([^\]]*)\]\s*TJ|<([0-9A-Fa-f\s]*)>\s*Tj")
_HEX = re.compile(rb"<([0-9A-Fa-f\s]*)>")
_SPACE = re.compile(rb"\s+")
PROGRAMS = (Name.FontFile, Name.FontFile2, Name.FontFile3)
_CHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_RANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_BLOCK = re.compile(rb"beginbf(char|range)(.*?)endbf\1", re.S)


def base_name(font: Any) -> str | None:
    """The BaseFont of a composite font with two-byte glyph ids, else None (other fonts are left alone)."""
    try:
        if font.get(Name.Subtype) != Name.Type0 or font.get(Name.Encoding) != Name("/Identity-H"):
            return None
        return str(font.BaseFont).lstrip("/")
    except (AttributeError, KeyError, TypeError):
        return None


Entries = dict[int, tuple[float, str]]  # glyph id → (width in 1/1000 em, the text it stands for)


def parse_widths(w: Any) -> dict[int, float]:
    """A CIDFont ``/W`` array (``c [w1 w2 …]`` and ``c_first c_last w`` forms) as glyph → width."""
    out: dict[int, float] = {}
    items = list(w)
    i = 0
    while i < len(items):
        first = int(items[i])
        if isinstance(items[i + 1], pikepdf.Array):
            for k, width in enumerate(items[i + 1]):
                out[first + k] = float(width)
            i += 2
        else:
            for g in range(first, int(items[i + 1]) + 1):
                out[g] = float(items[i + 2])
            i += 3
    return out


def parse_unicode(cmap: bytes) -> dict[int, str]:
    """A ``/ToUnicode`` CMap's ``bfchar`` and ``bfrange`` entries as glyph → text."""
    out: dict[int, str] = {}
    for kind, body in _BLOCK.findall(cmap):
        if kind == b"char":
            for src, dst in _CHAR.findall(body):
                out[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be", "replace")
        else:
            for lo, hi, dst in _RANGE.findall(body):
                base = bytes.fromhex(dst.decode()).decode("utf-16-be", "replace")
                for k, g in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                    out[g] = base[:-1] + chr(ord(base[-1]) + k) if base else ""
    return out


@dataclass(frozen=True)
class FontTables:
    """What a font dictionary written by WeasyPrint declares of its glyphs: widths and text."""

    widths: dict[int, float]
    text: dict[int, str]

    @classmethod
    def of(cls, font: Any) -> FontTables:
        descendant = font.DescendantFonts[0]
        return cls(parse_widths(descendant.W) if Name.W in descendant else {},
                   parse_unicode(font.ToUnicode.read_bytes()) if Name.ToUnicode in font else {})

    def entries(self, gids: Iterable[int]) -> Entries:
        return {g: (self.widths.get(g, 1000.0), self.text.get(g, "")) for g in gids}


def font_entries(font: Any, gids: Iterable[int]) -> Entries:
    """The widths and text of these glyphs, as a font dictionary written by WeasyPrint declares them."""
    return FontTables.of(font).entries(gids)


def entries(tables: dict[str, FontTables], name: str, font: Any, gids: Iterable[int]) -> Entries:
    """:func:`font_entries` with the font's tables read once into ``tables`` (a job's pieces share its fonts,
    whose tables hold every glyph of the job)."""
    if name not in tables:
        tables[name] = FontTables.of(font)
    return tables[name].entries(gids)


def _gids(hexes: bytes) -> Iterable[int]:
    """The two-byte glyph ids of one hexadecimal string (an odd byte at its end is not a glyph)."""
    raw = bytes.fromhex(_SPACE.sub(b"", hexes).decode("ascii"))
    ids = array("H", raw[: len(raw) & ~1])
    if sys.byteorder == "little":
        ids.byteswap()  # big-endian in the PDF
    return ids


def _scan(content: bytes, names: dict[str, str], out: dict[str, set[int]]) -> None:
    current: str | None = None
    for m in _TOKENS.finditer(content):
        if m.group(1) is not None:
            current = names.get(m.group(1).decode("latin-1"))
        elif current is None:
            continue
        elif m.group(2) is not None:
            for h in _HEX.findall(m.group(2)):
                out.setdefault(current, set()).update(_gids(h))
        else:
            out.setdefault(current, set()).update(_gids(m.group(3)))


def _walk(data: bytes, res: Any, out: dict[str, set[int]], seen: set[tuple[int, int]]) -> None:
    """Glyphs drawn by a content stream (a page's or a form's), then by the forms it may draw."""
    fonts = res.get(Name.Font, {}) if res is not None else {}
    names = {str(k).lstrip("/"): b for k, f in fonts.items() if (b := base_name(f)) is not None}
    _scan(data, names, out)
    for xobj in (res.get(Name.XObject, {}) if res is not None else {}).values():
        if xobj.get(Name.Subtype) == Name.Form and xobj.objgen not in seen:
            seen.add(xobj.objgen)
            _walk(xobj.read_bytes(), xobj.get(Name.Resources, res), out, seen)


def _contents(page: Any) -> list[Any]:
    contents = page.get(Name.Contents)
    if contents is None:
        return []
    return list(contents) if isinstance(contents, pikepdf.Array) else [contents]


def used_glyphs(pages: Iterable[pikepdf.Page]) -> dict[str, set[int]]:
    """BaseFont → the glyph ids the pages draw with it (composite fonts only)."""
    out: dict[str, set[int]] = {}
    for page in pages:
        data = b"\n".join(part.read_bytes() for part in _contents(page.obj))
        _walk(data, page.obj.get(Name.Resources), out, set())
    return out


def fonts_of(pdf: pikepdf.Pdf) -> Iterable[tuple[str, Any]]:
    """(BaseFont, font dictionary) of every composite font object in the file."""
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and obj.get(Name.Type) == Name.Font:
            name = base_name(obj)
            if name is not None:
                yield name, obj


def strip_programs(pdf: pikepdf.Pdf, names: set[str]) -> None:
    """Leave out the font programs of the fonts named (the merge embeds one subset of each instead)."""
    for name, font in fonts_of(pdf):
        if name not in names:
            continue
        descriptor = font.DescendantFonts[0].FontDescriptor
        for key in PROGRAMS:
            if key in descriptor:
                stream = descriptor[key]
                stream.write(b"")
                for k in list(stream.keys()):
                    if k not in (Name.Subtype, Name.Length):
                        del stream[k]
