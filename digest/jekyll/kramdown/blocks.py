"""kramdown's own block syntax on markdown-it: attribute lists and ALDs, extensions
(``{::comment}``, ``{::nomarkdown}``, ``{::options /}``), the ``^`` end-of-block marker,
abbreviation definitions and ``$$`` maths blocks.

Positions follow kramdown's rules (``parser/kramdown/extensions.rb``, ``block_boundary.rb``,
``math.rb``): an IAL right below a block belongs to it, one right above belongs to the next block,
and one with a blank line after it is lost; a maths block starts and ends on block boundaries.
"""
from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

from . import attrs as al
from .state import kd

_EOB = re.compile(r"\^[ \t]*\Z")
_ABBREV = re.compile(r"\*\[(.+?)\]:(.*)\Z")
_MATH_OPEN = re.compile(r"(\\)?\$\$")
_NO_BOUNDARY_TYPES = frozenset({"kd_eob", "kd_ald"})
_ALTS = ["paragraph", "reference", "blockquote", "list"]


def line_text(state: StateBlock, line: int) -> str:
    """A line without its container's prefix and up to three spaces of indent, no newline."""
    return state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]]


def in_container(state: StateBlock, line: int, end: int) -> bool:
    return line < end and (state.isEmpty(line) or state.sCount[line] >= state.blkIndent)


def after_boundary(state: StateBlock, line: int) -> bool:
    """kramdown's ``after_block_boundary?``: nothing before in this container, a blank line, ``^``,
    an extension, or an IAL waiting for this block."""
    if not state.tokens:
        return True
    last = state.tokens[-1]
    if last.nesting == 1 or last.type in _NO_BOUNDARY_TYPES:
        return True
    if last.type == "kd_ial" and last.meta.get("position") == "before":
        return True
    return line == 0 or state.isEmpty(line - 1)


def before_boundary(state: StateBlock, line: int, end: int) -> bool:
    if not in_container(state, line, end) or state.isEmpty(line) or state.sCount[line] < state.blkIndent:
        return True
    text = line_text(state, line)
    return bool(_EOB.match(text) or text.startswith("{:"))


def _code_indented(state: StateBlock, line: int) -> bool:
    return state.sCount[line] - state.blkIndent >= 4


def block_extensions(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """``{: …}`` IAL, ``{:name: …}`` ALD, ``{::ext}`` extension and ``^`` lines."""
    if _code_indented(state, start):
        return False
    text = line_text(state, start)
    if _EOB.match(text):
        if not silent:
            state.push("kd_eob", "", 0).map = [start, start + 1]
            state.line = start + 1
        return True
    if not text.startswith("{:"):
        return False
    ald = al.BLOCK_ALD.match(text)
    ext = None if ald else al.EXT_START.match(text)
    if ext and text[ext.end():].strip():
        ext = None
    ial = None if ald or ext else al.BLOCK_IAL.match(text)
    if not (ald or ext or ial):
        return False
    if ext:
        return _extension(state, start, end, ext, silent)
    if silent:
        return True
    token = state.push("kd_ald" if ald else "kd_ial", "", 0)
    token.map = [start, start + 1]
    if ald:
        found = kd(state.env).alds.setdefault(ald[1], {})
        al.parse_list(ald[2], found)
    else:
        assert ial is not None
        token.meta = {"attrs": al.parse_list(ial[1]), "position": _ial_position(state, start, end)}
    state.line = start + 1
    return True


def _ial_position(state: StateBlock, line: int, end: int) -> str:
    last = state.tokens[-2] if len(state.tokens) > 1 else None  # [-1] is the IAL itself
    if last is not None and last.type == "kd_ial":
        return str(last.meta["position"])
    if (last is not None and last.nesting != 1 and last.type not in _NO_BOUNDARY_TYPES
            and line > 0 and not state.isEmpty(line - 1)):
        return "after"
    nxt = line + 1
    if not in_container(state, nxt, end) or state.isEmpty(nxt):
        return "lost"
    return "before"


def _extension(state: StateBlock, start: int, end: int, m: re.Match[str], silent: bool) -> bool:
    name, options, closed, stray = m.group(1, 2, 3, 4)
    if stray is not None or name is None or name not in ("comment", "nomarkdown", "options"):
        return False
    body_end = start + 1
    if not closed:
        memo = state.env.setdefault("kd_no_stop", {})
        if memo.get(name, -1) >= start:
            return False
        stop = re.compile(rf"\{{:/(?:{re.escape(name)})?\}}[ \t]*\Z")
        body_end = -1
        for line in range(start + 1, end):
            kd(state.env).charge()
            if not in_container(state, line, end):
                break
            if stop.match(line_text(state, line)) and not _code_indented(state, line):
                body_end = line
                break
        if body_end < 0:
            memo[name] = end
            kd(state.env).problems.append(f"line {start + 1}: no {{:/{name}}} closes {{::{name}}}: kept as text")
            return False
    if silent:
        return True
    if name == "nomarkdown" and not closed:
        kinds = al.parse_list(options or "").get("type", "").split()
        body = state.getLines(start + 1, body_end, state.blkIndent, True)
        if not kinds or "html" in kinds:
            token = state.push("html_block", "", 0)
            token.content = body
            token.map = [start, body_end + 1]
    state.push("kd_eob", "", 0).map = [start, body_end + 1]
    state.line = body_end + 1 if not closed else start + 1
    return True


def abbreviation_definition(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """``*[HTML]: HyperText Markup Language`` — the definition is removed, the term marked up later."""
    if _code_indented(state, start):
        return False
    m = _ABBREV.match(line_text(state, start))
    if not m:
        return False
    if not silent:
        kd(state.env).abbreviations[m[1]] = m[2].strip()
        state.push("kd_ald", "", 0).map = [start, start + 1]  # an end of block, as kramdown's eob
        state.line = start + 1
    return True


def math_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """``$$ … $$`` from one block boundary to the next is display maths (kramdown ``math.rb``)."""
    if _code_indented(state, start):
        return False
    first = line_text(state, start)
    m = _MATH_OPEN.match(first)
    if not m or m[1] or not after_boundary(state, start):
        return False
    parts = [first[m.end():]]
    line = start
    while True:
        close = parts[-1].find("$$")
        if close >= 0:
            break
        line += 1
        kd(state.env).charge()
        if not in_container(state, line, end):
            return False
        parts.append(state.getLines(line, line + 1, state.blkIndent, False))
    if parts[-1][close + 2:].strip() or not before_boundary(state, line + 1, end):
        return False
    if silent:
        return True
    parts[-1] = parts[-1][:close]
    token = state.push("math_block", "math", 0)
    token.content = "\n".join(parts).strip()
    token.map = [start, line + 1]
    state.line = line + 1
    return True


def use(md: MarkdownIt) -> None:
    md.block.ruler.before("table", "kd_block_extensions", block_extensions, {"alt": _ALTS})
    md.block.ruler.before("list", "kd_abbreviation", abbreviation_definition)
    md.block.ruler.before("kd_block_extensions", "kd_math_block", math_block)
    for name in ("kd_eob", "kd_ial", "kd_ald"):
        md.add_render_rule(name, lambda *args: "")
