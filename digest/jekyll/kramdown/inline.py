"""kramdown's span syntax on markdown-it: ``$$…$$`` maths (and ``\\(…\\)``, ``\\[…\\]``, ``$…$`` when
the site's MathJax reads them), span IALs (``![x](y){:width="64"}``, ``` `c`{:.cls} ```) and span
extensions (``{::nomarkdown}…{:/}``, ``{::comment}…{:/}``, ``{::options /}``).

The TeX is taken from the source as written: no escape, emphasis or entity rule runs inside it.
"""
from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from . import attrs as al
from .state import kd

_CLOSERS = {"em_close": "em_open", "strong_close": "strong_open", "s_close": "s_open", "link_close": "link_open"}
_SINGLE_DOLLAR_CLOSE = re.compile(r"(?<![\s\\])\$(?!\d)")


def math_dollars(state: StateInline, silent: bool) -> bool:
    """``$$…$$`` inside a paragraph is inline maths (kramdown INLINE_MATH_START); ``$…$`` too when
    the site's delimiters include ``$`` (TeX not starting or ending with a space, as MathJax users write)."""
    src, pos = state.src, state.pos
    if src[pos] != "$":
        return False
    if src.startswith("$$", pos):
        close = src.find("$$", pos + 2, state.posMax)
        if close < 0:
            return False
        tex, end, display = src[pos + 2:close], close + 2, False
    elif "$" in kd(state.env).options.math_delimiters and pos + 1 < state.posMax and not src[pos + 1].isspace():
        m = _SINGLE_DOLLAR_CLOSE.search(src, pos + 1, state.posMax)
        if m is None or m.start() == pos + 1:
            return False
        tex, end, display = src[pos + 1:m.start()], m.end(), False
    else:
        return False
    if not silent:
        token = state.push("math_inline", "math", 0)
        token.content, token.markup = tex.strip(), "$$"
        token.meta = {"display": display}
    state.pos = end
    return True


def math_brackets(state: StateInline, silent: bool) -> bool:
    """``\\(…\\)`` and ``\\[…\\]``, for sites whose MathJax set-up names them (``math_delimiters``)."""
    src, pos = state.src, state.pos
    if src[pos] != "\\" or pos + 1 >= state.posMax or src[pos + 1] not in "([":
        return False
    opener = src[pos:pos + 2]
    if opener not in kd(state.env).options.math_delimiters:
        return False
    closer = "\\)" if opener == "\\(" else "\\]"
    close = src.find(closer, pos + 2, state.posMax)
    if close < 0:
        return False
    if not silent:
        token = state.push("math_inline", "math", 0)
        token.content, token.markup = src[pos + 2:close].strip(), opener
        token.meta = {"display": opener == "\\["}
    state.pos = close + 2
    return True


def span_extensions(state: StateInline, silent: bool) -> bool:
    """``{::…}`` extensions and ``{:…}`` IALs; an IAL is resolved once emphasis is known."""
    src, pos = state.src, state.pos
    if not src.startswith("{:", pos):
        return False
    ext = al.EXT_START.match(src, pos, state.posMax)
    if ext:
        return _span_extension(state, ext, silent)
    ial = al.IAL_SPAN.match(src, pos, state.posMax)
    if ial is None or state.pending or not state.tokens:
        return False  # after text: kramdown leaves it as it is
    if not silent:
        token = state.push("kd_span_ial", "", 0)
        token.content = ial[0]
        token.meta = {"attrs": al.resolve(al.parse_list(ial[1]), kd(state.env).alds)}
    state.pos = ial.end()
    return True


def _span_extension(state: StateInline, ext: re.Match[str], silent: bool) -> bool:
    name, options, closed, stray = ext.group(1, 2, 3, 4)
    if stray is not None or name not in ("comment", "nomarkdown", "options"):
        return False
    end, body = ext.end(), ""
    if not closed:
        stop = re.compile(rf"\{{:/(?:{re.escape(name)})?\}}")
        m = stop.search(state.src, ext.end(), state.posMax)
        if m is None:
            return False
        body, end = state.src[ext.end():m.start()], m.end()
    if not silent and name == "nomarkdown":
        kinds = al.parse_list(options or "").get("type", "").split()
        if not kinds or "html" in kinds:
            state.push("html_inline", "", 0).content = body
    state.pos = end
    return True


def guillemets(state: StateInline, silent: bool) -> bool:
    """``<<`` is a guillemet in kramdown before it can start an HTML tag (``<<x>>`` is «x»)."""
    if not state.src.startswith("<<", state.pos):
        return False
    if not silent:
        state.pending += "<<"
    state.pos += 2
    return True


def resolve_span_ials(state: StateInline) -> None:
    """Give each span IAL's attributes to the element just before it; after text it stays text."""
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "kd_span_ial":
            continue
        target = _target(tokens, i)
        if target is None:
            token.type = "text"
            continue
        al.apply(target, token.meta["attrs"])
        token.type, token.content = "text", ""


def _target(tokens: list[Token], i: int) -> Token | None:
    while i > 0 and tokens[i - 1].type == "text" and not tokens[i - 1].content:
        i -= 1  # what is left of a ``**`` delimiter
    prev = tokens[i - 1] if i > 0 else None
    if prev is None or prev.type in ("text", "softbreak", "hardbreak", "kd_span_ial") or prev.nesting == 1:
        return None
    opener = _CLOSERS.get(prev.type)
    if opener is None:
        return prev
    depth = 0
    for j in range(i - 1, -1, -1):
        if tokens[j].type == prev.type:
            depth += 1
        elif tokens[j].type == opener:
            depth -= 1
            if depth == 0:
                return tokens[j]
    return None


def use(md: MarkdownIt, math: bool, typographic_symbols: bool) -> None:
    if typographic_symbols:
        md.inline.ruler.before("html_inline", "kd_guillemets", guillemets)
    if math:
        md.inline.ruler.before("escape", "kd_math_brackets", math_brackets)
        md.inline.ruler.before("backticks", "kd_math_dollars", math_dollars)
    md.inline.ruler.before("link", "kd_span_extensions", span_extensions)
    md.inline.ruler2.push("kd_span_ials", resolve_span_ials)
