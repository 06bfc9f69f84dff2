"""TeX (as a Jekyll site's MathJax reads it) to MathML for the web and EPUB, and to SVG (glyph
outlines, no font needed) for PDF and email: latex2mathml converts, ziamath draws its MathML.

MathJax accepts a little more than latex2mathml; what only numbers equations (``\\notag``,
``\\tag{…}``) is dropped and ``aligned``/``equation`` are said the way latex2mathml knows. TeX
that still cannot be converted raises :class:`MathError` with a one-line reason.
"""
from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET

import latex2mathml.converter
from ziamath.zmath import Math as ZiaMath

_NUMBERING = re.compile(r"\\(?:notag|nonumber)(?![A-Za-z])|\\tag\*?\s*\{[^{}]*\}")
_ENVIRONMENTS = re.compile(r"\\(begin|end)\s*\{(aligned|equation\*?|split)\}")
_SVG_ID = re.compile(r'(id="|href="#)([^"]+)"')
_MAX_TEX = 20_000  # characters; a formula longer than a page of TeX is refused, not converted
_MML = "{http://www.w3.org/1998/Math/MathML}"
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
        return ""  # equation, equation*, split: their content is what shows
    return _ENVIRONMENTS.sub(env, _NUMBERING.sub("", tex)).strip()


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
    _check(mathml)
    return mathml


def to_svg(tex: str, display: bool, id_prefix: str | None = None, size: float | None = None) -> str:
    """An ``<svg>`` of the formula drawn with glyph outlines (STIX Two Math, shipped by ziamath).

    Its glyph ids start with ``id_prefix`` (by default one derived from the TeX), so several
    formulas can share one HTML document; give each a distinct prefix when the same one repeats.
    """
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
