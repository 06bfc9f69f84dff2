"""TeX (as a Jekyll site's MathJax reads it) to MathML for the web and EPUB, and to SVG (glyph
outlines, no font needed) for PDF and email: latex2mathml converts, ziamath draws its MathML.

MathJax accepts a little more than latex2mathml; what only numbers equations (``\\notag``,
``\\tag{…}``, ``\\label{…}``) is dropped, a reference (``\\eqref{x}``, ``\\ref{x}``) shows its label
as "(x)" or "x" (digest does not number equations), and ``aligned``/``equation``/``eqnarray`` are said the
way latex2mathml knows. A colour in the MathML is always ``#rrggbb`` (EPUB's MathML schema accepts no
other names): CSS names are turned into it, anything else is left out. TeX that still cannot be converted
raises :class:`MathError` with a one-line reason. A post's own macros are expanded before (:mod:`.macros`).
"""
from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET

import latex2mathml.converter
from lxml import etree

from .macros import css_colour

_NUMBERING = re.compile(r"\\(?:notag|nonumber)(?![A-Za-z])|\\(?:tag\*?|label)\s*\{[^{}]*\}")
_REFERENCE = re.compile(r"\\(eqref|ref)\s*\{([^{}]*)\}")
_ENVIRONMENTS = re.compile(r"\\(begin|end)\s*\{(aligned|equation\*?|split|eqnarray\*?)\}")
_COLOUR_ATTRIBUTE = re.compile(r' (mathcolor|mathbackground|border-color)="([^"]*)"')
_SVG_ID = re.compile(r'(id="|href="#)([^"]+)"')
_MML = "{http://www.w3.org/1998/Math/MathML}"
_EMPTY_ATTRIBUTE = re.compile(r' [\w:-]+=""')
_TOKENS = tuple(f"{_MML}{name}" for name in ("mi", "mo", "mn", "mtext", "ms"))
_MAX_TEX = 20_000  # characters; a formula longer than a page of TeX is refused, not converted
_REASONS = {"NoAvailableTokensError": "a brace is not closed or a command lacks its argument",
            "MissingSuperScriptOrSubscriptError": "^ or _ without what goes above or below",
            "DoubleSubscriptsError": "two subscripts in a row", "DoubleSuperscriptsError": "two superscripts in a row"}


class MathError(ValueError):
    """TeX that cannot be converted; the message is one line."""


def _prepare(tex: str) -> str:
    if len(tex) > _MAX_TEX:
        raise MathError(f"formula too long to convert ({len(tex):,} characters)")

    def env(m: re.Match[str]) -> str:
        name = m[2]
        if name == "aligned":
            return f"\\{m[1]}{{align*}}"
        if name.startswith("eqnarray"):  # three columns: right, centred, left
            return "\\begin{array}{rcl}" if m[1] == "begin" else "\\end{array}"
        return ""  # equation, equation*, split: their content is what shows

    def reference(m: re.Match[str]) -> str:
        label = m[2].strip()
        return f"\\text{{({label})}}" if m[1] == "eqref" else f"\\text{{{label}}}"
    return _ENVIRONMENTS.sub(env, _REFERENCE.sub(reference, _NUMBERING.sub("", tex))).strip()


def _colours(mathml: str) -> str:
    """Every colour as ``#rrggbb``; one that is not a CSS colour is left out (the text colour shows)."""
    def one(m: re.Match[str]) -> str:
        value = css_colour(m[2])
        return f' {m[1]}="{value}"' if value and m[1] != "border-color" else ""
    return _COLOUR_ATTRIBUTE.sub(one, mathml)


def _repair(mathml: str) -> str:
    """What latex2mathml writes that MathML (and so EPUBCheck) refuses, made valid: empty attributes
    (``columnspacing=""`` of ``align*``) go, and a token element holding elements (``\\mathop{\\mathrm{max}}``
    gives ``<mo><mrow><mi>m</mi>…``) holds their text."""
    mathml = _EMPTY_ATTRIBUTE.sub("", _colours(mathml))
    try:
        root = etree.fromstring(mathml)
    except etree.XMLSyntaxError:
        return mathml  # _check says why
    nested = [el for el in root.iter(*_TOKENS) if len(el)]
    if not nested:
        return mathml
    for el in nested:  # outermost first: an inner one is then already out of the tree
        text = "".join(str(t) for t in el.itertext())
        for child in list(el):
            el.remove(child)
        el.text = text
    return etree.tostring(root, encoding="unicode")


def _check(mathml: str) -> ET.Element:
    """latex2mathml writes what it does not know as ``\\name`` text, and may write bare ``&``."""
    try:
        root = ET.fromstring(mathml)
    except ET.ParseError as e:
        raise MathError(f"TeX not understood ({e})") from None
    for el in root.iter():
        text = (el.text or "").strip()
        if text.startswith("\\") and len(text) > 1:
            raise MathError(f"unknown TeX command {text}")
        if el.tag == f"{_MML}merror":
            raise MathError("TeX not understood")
    return root


def to_mathml(tex: str, display: bool) -> str:
    """A ``<math>`` element (``display="block"`` for display maths)."""
    prepared = _prepare(tex)
    if not prepared:
        raise MathError("empty formula")
    try:
        mathml = latex2mathml.converter.convert(prepared, display="block" if display else "inline")
    except RecursionError:
        raise MathError("formula nested too deeply") from None
    except Exception as e:
        reason = str(e).splitlines()[0] if str(e).strip() else _REASONS.get(type(e).__name__, type(e).__name__)
        raise MathError(f"TeX not understood: {reason}") from None
    mathml = _repair(mathml)
    _check(mathml)
    return mathml


def to_svg(tex: str, display: bool, id_prefix: str | None = None, size: float | None = None) -> str:
    """An ``<svg>`` of the formula drawn with glyph outlines (STIX Two Math, shipped by ziamath).

    Its glyph ids start with ``id_prefix`` (by default one derived from the TeX), so several
    formulas can share one HTML document; give each a distinct prefix when the same one repeats.
    """
    from ziamath.zmath import Math as ZiaMath  # (here: a fifth of a second to import, and few posts draw maths)

    mathml = to_mathml(tex, display)
    try:
        svg = ZiaMath(mathml, size=size, title=tex).svg()
    except RecursionError:
        raise MathError("formula nested too deeply") from None
    except Exception as e:
        raise MathError(f"formula cannot be drawn: {type(e).__name__}") from None
    prefix = id_prefix if id_prefix is not None else "m" + hashlib.sha1(
        f"{display}:{tex}".encode()).hexdigest()[:10] + "-"
    return _SVG_ID.sub(lambda m: f'{m[1]}{prefix}{m[2]}"', svg)
