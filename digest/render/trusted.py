"""The HTML digest writes itself into a sanitised body: formulas and highlighted code.

It is made after sanitising, from what the Markdown stage recorded (the TeX of each formula, the text and
language of each code block): data the sanitiser never saw as markup, escaped here. A formula is MathML
with its TeX kept as an ``annotation`` (screen readers, copy-paste, and the PDF and email editions draw
it from there); TeX that cannot be converted is shown as TeX in a code span, and reported. A post's
formulas are taken in document order with the macros and colours the post defines (as MathJax keeps them
for the page): the annotation holds the expanded TeX, so that each formula can be drawn again alone.
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from digest.jekyll.kramdown.highlight import highlight
from digest.jekyll.kramdown.macros import MacroError, TexMacros
from digest.jekyll.kramdown.math import MathError, to_mathml

TEX = "application/x-tex"
_MATH_OPEN = re.compile(r"\A<math\b[^>]*>")
# The MathML digest writes (never anything a post wrote: the sanitiser removes <math>), with its TeX.
MATH_ELEMENT = re.compile(r'<math xmlns="http://www.w3.org/1998/Math/MathML" display="(block|inline)"><semantics>'
                          r'.*?<annotation encoding="application/x-tex">([^<]*)</annotation></semantics></math>', re.S)


@dataclass(frozen=True)
class Formula:
    html: str
    problem: str | None = None  # why the TeX was not converted
    notes: tuple[str, ...] = ()  # what was left out of it (an unknown colour)


def _as_tex(tex: str, reason: object) -> Formula:
    shown = html.escape(f"$${tex}$$", quote=False)
    return Formula(f'<code class="math-tex">{shown}</code>', f"formula not converted, shown as TeX: {reason}")


def post_formulas(maths: Iterable[tuple[str, bool, bool]]) -> list[Formula]:
    """One post's formulas (TeX, display, raw) in document order, each with the definitions made before it;
    a formula that only defines shows nothing, nor does one in raw HTML (only its definitions count)."""
    macros = TexMacros()
    out = []
    for tex, display, raw in maths:
        try:
            expanded = macros.expand(tex)
        except MacroError as e:
            out.append(_as_tex(tex, e))
            continue
        got = Formula("") if expanded.only_definitions or raw else formula(expanded.tex, display, tex)
        out.append(replace(got, notes=expanded.notes) if expanded.notes else got)
    return out


@lru_cache(maxsize=4096)
def formula(tex: str, display: bool, source: str | None = None) -> Formula:
    """MathML with the TeX as its annotation; or the TeX (``source`` if given: as the post wrote it) in a
    code span and the reason."""
    try:
        mathml = to_mathml(tex, display)
    except MathError as e:
        return _as_tex(source if source is not None else tex, e)
    head = _MATH_OPEN.match(mathml)
    inner = mathml[head.end():].removesuffix("</math>") if head else mathml
    mode = "block" if display else "inline"
    return Formula(f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="{mode}"><semantics><mrow>{inner}'
                   f'</mrow><annotation encoding="{TEX}">{html.escape(tex, quote=False)}</annotation>'
                   "</semantics></math>")


@lru_cache(maxsize=1024)
def code_block(text: str, lang: str | None, linenos: bool) -> str:
    """Pygments token spans (short classes, coloured by the theme's CSS); plain escaped text otherwise."""
    return highlight(text, lang, linenos)


def formulas(html_text: str) -> list[tuple[re.Match[str], str, bool]]:
    """Each formula digest wrote into ``html_text``: (match, its TeX, display)."""
    return [(m, html.unescape(m[2]), m[1] == "block") for m in MATH_ELEMENT.finditer(html_text)]
