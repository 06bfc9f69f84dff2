"""Page numbers stamped once the whole PDF is known: the footers ``n / N`` and the contents' numbers.

Everything that depends on the whole issue is added when the pieces are merged, so a piece never has to be
laid out again because a page was added elsewhere. How the numbers look is not decided here: WeasyPrint
lays out two small samples with the theme's own stylesheet — a footer (``stubs`` mode) and a contents with
one section and one article whose numbers are known (``front`` mode) — and the stamps copy what it drew
there: the font, its size and colour, the footer's format and centre, a number's baseline and right edge
in its box. The glyphs are the font's own (HarfBuzz maps characters to glyph ids in the original file),
advanced by the widths the PDF font declares, so text extraction and rendering agree.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pikepdf
from pikepdf import Name

from digest.editions.pdf.glyphs import base_name, parse_unicode

PX_TO_PT = 0.75  # WeasyPrint reports positions in CSS px (1/96 in); PDF works in points (1/72 in)
FOOTER_FIRST, FOOTER_TOTAL = 1, 1234567890  # the footer sample's page number and total
SECTION_SAMPLE, ARTICLE_SAMPLE = "12345", "67890"  # the contents sample's numbers
Matrix = tuple[float, float, float, float, float, float]
_SETS_FILL = {"rg", "g", "k", "cs"}  # each sets the fill colour (space) anew
_ADDS_FILL = {"sc", "scn"}  # a colour in the space set before


def multiply(m: Matrix, n: Matrix) -> Matrix:
    """``m × n`` for PDF's row-vector matrices [a b c d e f]."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u)


@dataclass(frozen=True)
class Run:
    """One text-showing operation of a sample page."""

    font: str  # BaseFont
    size: float
    matrix: Matrix  # text space → user space where the run starts
    colour: bytes  # the fill colour operators in force, as content-stream bytes
    text: str
    gids: tuple[int, ...]


@dataclass
class _Graphics:
    ctm: Matrix = (1, 0, 0, 1, 0, 0)
    colour: tuple[pikepdf.ContentStreamInstruction, ...] = ()


@dataclass
class _Reader:
    """Just enough of a content-stream interpreter for WeasyPrint's text: the graphics state stack (the
    transformation and the fill colour), the text matrix and the font."""

    fonts: dict[str, tuple[str, dict[int, str]]]  # resource name → (BaseFont, glyph → text)
    stack: list[_Graphics] = field(default_factory=lambda: [_Graphics()])
    tm: Matrix = (1, 0, 0, 1, 0, 0)
    font: tuple[str, dict[int, str]] = ("", {})
    size: float = 0.0
    runs: list[Run] = field(default_factory=list)

    def graphics(self, op: str, instr: pikepdf.ContentStreamInstruction) -> None:
        g = self.stack[-1]
        if op == "q":
            self.stack.append(_Graphics(g.ctm, g.colour))
        elif op == "Q" and len(self.stack) > 1:
            self.stack.pop()
        elif op == "cm":
            g.ctm = multiply(_matrix(instr.operands), g.ctm)
        elif op in _SETS_FILL:
            g.colour = (instr,)
        elif op in _ADDS_FILL:
            g.colour = (*[c for c in g.colour if str(c.operator) == "cs"], instr)

    def text(self, op: str, operands: list[Any]) -> None:
        if op == "Tf":
            self.font, self.size = self.fonts.get(str(operands[0]), ("", {})), float(operands[1])
        elif op == "Tm":
            self.tm = _matrix(operands)
        elif op == "Td":
            self.tm = multiply((1, 0, 0, 1, float(operands[0]), float(operands[1])), self.tm)
        elif op in ("TJ", "Tj") and self.font[0]:
            g = self.stack[-1]
            gids = _gids(operands, op)
            colour = pikepdf.unparse_content_stream(list(g.colour))
            self.runs.append(Run(self.font[0], self.size, multiply(self.tm, g.ctm), colour,
                                 "".join(self.font[1].get(i, "") for i in gids), tuple(gids)))


def _matrix(operands: Any) -> Matrix:
    a, b, c, d, e, f = (float(v) for v in operands)
    return (a, b, c, d, e, f)


def _gids(operands: list[Any], op: str) -> list[int]:
    items = operands[0] if op == "TJ" else [operands[0]]
    raw = b"".join(bytes(i) for i in items if isinstance(i, pikepdf.String))
    return [int.from_bytes(raw[k : k + 2], "big") for k in range(0, len(raw) - 1, 2)]


def runs(page: pikepdf.Page) -> list[Run]:
    """The text runs a page draws with composite fonts, with where and how (WeasyPrint's operators only)."""
    fonts: dict[str, tuple[str, dict[int, str]]] = {}
    for key, font in page.obj.Resources.get(Name.Font, {}).items():
        name = base_name(font)
        if name is not None:
            fonts[str(key)] = (name, parse_unicode(font.ToUnicode.read_bytes()) if Name.ToUnicode in font else {})
    reader = _Reader(fonts)
    for instr in pikepdf.parse_content_stream(page):
        if isinstance(instr, pikepdf.ContentStreamInstruction):
            op = str(instr.operator)
            reader.graphics(op, instr)
            reader.text(op, list(instr.operands))
    return reader.runs


@dataclass(frozen=True)
class Style:
    """How a kind of number is drawn: the sample's font, size, colour and text orientation."""

    font: str
    size: float
    matrix: Matrix
    colour: bytes

    @classmethod
    def of(cls, run: Run) -> Style:
        return cls(run.font, run.size, run.matrix, run.colour)


@dataclass(frozen=True)
class Chrome:
    """The footer (its style, format with ``{n}`` and ``{N}``, centre and baseline in points) and the
    contents' numbers (for a ``section`` and an ``article`` entry: style, gap to the box's right edge,
    baseline below its top)."""

    footer: Style
    footer_format: str
    centre: float
    baseline: float
    numbers: Mapping[str, tuple[Style, float, float]]


def footer_format(text: str) -> str:
    """``'1 / 1234567890'`` → ``'{n} / {N}'``: the sample's text with its numbers as placeholders."""
    out = text.replace(str(FOOTER_TOTAL), "{N}", 1)
    return re.sub(r"\d+", "{n}", out, count=1)


def _width(run_gids: tuple[int, ...] | list[int], widths: Mapping[int, float], style: Style) -> float:
    """The advance of glyphs in points: their declared widths (1/1000 em) × size × the text scale."""
    return sum(widths.get(g, 0.0) for g in run_gids) / 1000 * style.size * style.matrix[0]


def _top(rect: tuple[float, float, float, float], height_pt: float) -> float:
    return height_pt - rect[1] * PX_TO_PT


Slot = tuple[int, tuple[float, float, float, float], str]  # a number box: (page, rect in CSS px, anchor)


def learn(footer: pikepdf.Page, numbers: list[pikepdf.Page], slots: list[Slot],
          widths: Callable[[str], Mapping[int, float]]) -> Chrome:
    """The chrome from the two samples (``slots``: the contents sample's number boxes)."""
    footer_run = next((r for r in runs(footer) if str(FOOTER_TOTAL) in r.text), None)
    if footer_run is None:
        raise ValueError("the footer sample has no page number")
    style = Style.of(footer_run)
    centre = style.matrix[4] + _width(footer_run.gids, widths(style.font), style) / 2
    styles: dict[str, tuple[Style, float, float]] = {}
    for page, rect, _target in slots:
        height = float(numbers[page].mediabox[3])
        top, bottom = _top(rect, height), height - rect[3] * PX_TO_PT
        samples = [r for r in runs(numbers[page]) if r.text in (SECTION_SAMPLE, ARTICLE_SAMPLE)]
        run = next((r for r in samples if bottom - 1 <= r.matrix[5] <= top + 1), None)
        cls = "section" if run is not None and run.text == SECTION_SAMPLE else "article"
        if run is None or cls in styles:
            continue
        st = Style.of(run)
        right = rect[2] * PX_TO_PT - (st.matrix[4] + _width(run.gids, widths(st.font), st))
        styles[cls] = (st, right, st.matrix[5] - top)
    if not styles:
        raise ValueError("the contents sample has no page numbers")
    return Chrome(style, footer_format(footer_run.text), centre, style.matrix[5], styles)


def glyphs_for(text: str, cmap: Callable[[str], int | None]) -> list[int]:
    return [g for ch in text if (g := cmap(ch)) is not None]


def text_op(style: Style, resource: str, gids: list[int], x: float, y: float) -> bytes:
    """The operators that draw ``gids`` at (x, y) in the style of the sample (in the page's own space)."""
    a, b, c, d, _e, _f = style.matrix
    hexes = "".join(f"{g:04x}" for g in gids)
    return (b"q\n" + style.colour + b"\nBT\n" + f"/{resource} {style.size:g} Tf\n".encode()
            + f"{a:g} {b:g} {c:g} {d:g} {x:.4f} {y:.4f} Tm\n<{hexes}> Tj\nET\nQ\n".encode())


def footer_ops(chrome: Chrome, resource: str, n: int, total: int, cmap: Callable[[str], int | None],
               widths: Mapping[int, float]) -> bytes:
    gids = glyphs_for(chrome.footer_format.format(n=n, N=total), cmap)
    x = chrome.centre - _width(gids, widths, chrome.footer) / 2
    return text_op(chrome.footer, resource, gids, x, chrome.baseline)


def number_ops(chrome: Chrome, resources: Mapping[str, str], slot: tuple[tuple[float, float, float, float], str],
               number: int, height_pt: float, cmaps: Callable[[str], Callable[[str], int | None]],
               widths: Callable[[str], Mapping[int, float]]) -> bytes:
    """A contents number, right-aligned in its box as the sample's were."""
    rect, cls = slot
    style, right, dy = chrome.numbers.get(cls) or next(iter(chrome.numbers.values()))
    gids = glyphs_for(str(number), cmaps(style.font))
    x = rect[2] * PX_TO_PT - right - _width(gids, widths(style.font), style)
    return text_op(style, resources[style.font], gids, x, _top(rect, height_pt) + dy)
