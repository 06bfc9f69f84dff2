"""Formulas drawn for the editions that cannot show MathML: SVG for the PDF (vector, as sharp as the text)
and PNG for the email (Gmail and Outlook show neither MathML nor SVG, nor ``data:`` images: the PNGs
travel as inline parts of the message, referred to by ``cid:``).

Each drawing comes from the TeX kept in the formula's MathML (its ``annotation``), sized in ``em`` (PDF)
or pixels (email) and set on the text's baseline; its TeX is the image's ``alt`` text.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from digest.model import Digest
from digest.render.trusted import formulas

DRAW_SIZE = 20.0  # px: the size ziamath draws at; the PDF scales its drawing to the text by em
_VIEWBOX = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"')


@dataclass(frozen=True)
class Drawing:
    svg: str
    width: float  # px at DRAW_SIZE
    height: float
    depth: float  # px below the baseline


@lru_cache(maxsize=2048)
def draw(tex: str, display: bool) -> Drawing | None:
    """The formula as an SVG of glyph outlines (no font needed); None when it cannot be drawn."""
    from digest.jekyll.kramdown.math import MathError, to_svg

    try:
        svg = to_svg(tex, display, size=DRAW_SIZE)
    except MathError:
        return None
    box = _VIEWBOX.search(svg)
    if box is None:
        return None
    _x, y, w, h = (float(v) for v in box.groups())
    return Drawing(svg, w, h, max(0.0, h + y))


def _alt(tex: str) -> str:
    return html.escape(" ".join(tex.split()), quote=True)


def replace_formulas(fragment: str, image: Callable[[str, bool, Drawing], str]) -> str:
    """Each MathML formula of ``fragment`` replaced by ``image(tex, display, drawing)`` (kept when the
    TeX cannot be drawn)."""
    if "<math" not in fragment:
        return fragment
    out, pos = [], 0
    for m, tex, display in formulas(fragment):
        drawing = draw(tex, display)
        if drawing is None:
            continue
        out += [fragment[pos:m.start()], image(tex, display, drawing)]
        pos = m.end()
    return "".join(out) + fragment[pos:]


def svg_image(tex: str, display: bool, d: Drawing) -> str:
    """An ``<img>`` of the SVG (a ``data:`` URL: digest's own, read by WeasyPrint only), sized in em."""
    data = base64.b64encode(d.svg.encode("utf-8")).decode("ascii")
    em = DRAW_SIZE
    style = (f"width:{d.width / em:.3f}em;height:{d.height / em:.3f}em;"
             + ("" if display else f"vertical-align:-{d.depth / em:.3f}em"))
    cls = "math-block" if display else "math"
    return f'<img class="{cls}" src="data:image/svg+xml;base64,{data}" alt="{_alt(tex)}" style="{style}">'


@dataclass(frozen=True)
class Png:
    cid: str  # the Content-ID of its part in the message (without <>)
    data: bytes


@lru_cache(maxsize=1024)
def png(svg: str, zoom: float) -> bytes:
    """The SVG as a PNG on white (a formula stays legible in a mail client's dark mode)."""
    import resvg_py  # here: only an email with formulas needs it

    return bytes(resvg_py.svg_to_bytes(svg_string=svg, background="#ffffff", skip_system_fonts=True, zoom=zoom))


def png_image(tex: str, display: bool, d: Drawing, *, font_px: float, pngs: dict[str, Png]) -> str:
    """An ``<img src="cid:…">`` of the formula at the email's text size, drawn at twice that for sharp
    screens; its PNG is added to ``pngs`` (one part per distinct formula)."""
    scale = font_px / DRAW_SIZE
    data = png(d.svg, 2 * scale)
    cid = f"math-{hashlib.sha256(data).hexdigest()[:16]}@digest"
    pngs.setdefault(cid, Png(cid, data))
    style = "display:block;margin:8px auto;" if display else f"vertical-align:-{d.depth * scale:.0f}px;"
    return (f'<img src="cid:{cid}" width="{round(d.width * scale)}" height="{round(d.height * scale)}" '
            f'alt="{_alt(tex)}" style="{style}border:0">')


def with_bodies(digest: Digest, change: Callable[[str], str]) -> Digest:
    """The digest with ``change`` applied to every post body that holds a formula."""
    sections = tuple(dataclasses.replace(s, posts=tuple(
        dataclasses.replace(p, body_html=change(p.html)) if "<math" in p.html else p for p in s.posts))
        for s in digest.sections)
    return dataclasses.replace(digest, sections=sections)
