"""kramdown's HTML blocks: an element runs to its matching end tag (blank lines and all), its content
raw unless ``markdown="1"``/``"block"``/``"span"`` (or ``parse_block_html``) asks for Markdown —
also on an element nested inside a raw one, as kramdown's ``parser/kramdown/html.rb`` does.

The scan goes line by line and stops at the end tag, so each line is read once; an element never
closed runs, as in kramdown, to the end of its container (and a problem says so).
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.html_block import html_block
from markdown_it.token import Token

from .blocks import in_container, line_text
from .state import MAX_HTML_NESTING, kd

SPAN_ELEMENTS = frozenset([
    "a", "abbr", "acronym", "b", "big", "bdo", "br", "button", "cite", "code", "del", "dfn", "em", "i", "img",
    "input", "ins", "kbd", "label", "mark", "option", "q", "rb", "rbc", "rp", "rt", "rtc", "ruby", "samp",
    "select", "small", "span", "strong", "sub", "sup", "time", "tt", "u", "var",
])
VOID = frozenset([
    "area", "base", "br", "col", "command", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr",
])
_BLOCK_MODEL = frozenset([
    "address", "applet", "article", "aside", "blockquote", "body", "dd", "details", "div", "dl", "fieldset",
    "figure", "figcaption", "footer", "form", "header", "hgroup", "iframe", "li", "main", "map", "menu", "nav",
    "noscript", "object", "section", "summary", "td",
])
_SPAN_MODEL = frozenset([
    "a", "abbr", "acronym", "b", "bdo", "big", "button", "cite", "caption", "del", "dfn", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "i", "ins", "label", "legend", "optgroup", "p", "q", "rb", "rbc", "rp", "rt", "rtc",
    "ruby", "select", "small", "span", "strong", "sub", "sup", "th", "tt",
])
_NAME = r"[A-Za-z][\w:.-]*"
_ATTR = r"""\s+[\w:][\w:.-]*(?:\s*=\s*(?:[\w-]+|"[^"]*"|'[^']*'))?"""
START_TAG = re.compile(rf" {{0,3}}<({_NAME})((?:{_ATTR})*)\s*(/)?>")
END_TAG = re.compile(rf" {{0,3}}</({_NAME})\s*>")
_ANY = re.compile(rf"<!--|<({_NAME})((?:{_ATTR})*)\s*(/)?>|</({_NAME})\s*>")
_MARKDOWN_ATTR = re.compile(r"""\s+markdown\s*=\s*(?:"([^"]*)"|'([^']*)'|([\w-]+))""", re.IGNORECASE)
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_Lines = Iterator[tuple[int, str]]


def content_model(name: str, markdown: str | None, parse_block_html: bool) -> str:
    """``raw``, ``block`` or ``span``: kramdown's HTML_MARKDOWN_ATTR_MAP and HTML_CONTENT_MODEL."""
    default = "block" if name in _BLOCK_MODEL else "span" if name in _SPAN_MODEL else "raw"
    if markdown is None:
        return default if parse_block_html else "raw"
    return {"0": "raw", "1": default, "block": "block", "span": "span"}.get(markdown, "raw")


def markdown_attr(attrs: str) -> tuple[str | None, str]:
    """The ``markdown`` attribute's value, and the attributes without it."""
    m = _MARKDOWN_ATTR.search(attrs)
    if not m:
        return None, attrs
    return next(v for v in m.groups() if v is not None), attrs[:m.start()] + attrs[m.end():]


def _lines(state: StateBlock, line: int, end: int) -> _Lines:
    """The container's lines after the start tag, read one at a time (each charged as work)."""
    while in_container(state, line, end):
        kd(state.env).charge()
        text = state.getLines(line, line + 1, state.blkIndent, True)
        yield line, text if text.endswith("\n") else text + "\n"
        line += 1


class _Segments(list[tuple[str, str]]):
    """Raw HTML, Markdown block text and Markdown span text, in order; raw pieces run together."""

    def add(self, kind: str, text: str) -> None:
        if not text:
            return
        if self and self[-1][0] == kind == "raw":
            self[-1] = ("raw", self[-1][1] + text)
        else:
            self.append((kind, text))


def _block_content(lines: _Lines, name: str, first: str) -> tuple[str, str | None, int]:
    """Lines up to the one starting with ``</name>`` (nested same-name elements and fenced code
    skipped): the content, what follows that end tag (None if never closed), the last line read."""
    parts, depth, fence, last = [first], 0, "", -1
    open_re = re.compile(rf"<{re.escape(name)}(?=[\s/>])(?:[^>]*[^/>])?>", re.IGNORECASE)
    close_re = re.compile(rf"</{re.escape(name)}\s*>", re.IGNORECASE)
    for last, text in lines:
        if fence:
            fence = "" if text.lstrip().startswith(fence) else fence
        elif (f := _FENCE.match(text)):
            fence = f[1]
        elif depth == 0 and (m := END_TAG.match(text)) and m[1].lower() == name:
            return "".join(parts), text[m.end():], last
        else:
            depth = max(0, depth + len(open_re.findall(text)) - len(close_re.findall(text)))
        parts.append(text)
    return "".join(parts), None, last


def _until(lines: _Lines, close_re: re.Pattern[str], text: str, last: int) -> tuple[str, str | None, int]:
    """Text up to the next match of ``close_re`` (across lines): before it, from it on, last line."""
    parts = []
    while True:
        m = close_re.search(text)
        if m:
            parts.append(text[:m.start()])
            return "".join(parts), text[m.start():], last
        parts.append(text)
        nxt = next(lines, None)
        if nxt is None:
            return "".join(parts), None, last
        last, text = nxt


def element(lines: _Lines, out: _Segments, m: re.Match[str], rest: str, parse_block_html: bool,
            top: bool) -> tuple[str | None, int]:
    """One element whose start tag is ``m``, ``rest`` following it on its line: its segments go to
    ``out``. Returns the text after its end tag on that line (None: never closed) and the last line."""
    name = m[1].lower()
    value, attrs = markdown_attr(m[2]) if m[2] else (None, "")
    model = content_model(name, value, parse_block_html) if (value is not None or top) else "raw"
    out.add("raw", f"<{m[1]}{attrs}{' /' if m[3] else ''}>")
    if m[3] or name in VOID:
        return rest, -1
    if model == "raw":
        return _raw(lines, out, name, rest, parse_block_html)
    if model == "block":
        content, after, last = _block_content(lines, name, rest if rest.strip() else "")
    else:
        close_re = re.compile(rf"</{re.escape(name)}\s*>", re.IGNORECASE)
        content, tail, last = _until(lines, close_re, rest, -1)
        after = None if tail is None else tail[close_re.match(tail).end():]  # type: ignore[union-attr]
    out.add(model, content)
    out.add("raw", f"</{m[1]}>\n" if model == "block" else f"</{m[1]}>")
    return after, last


def _raw(lines: _Lines, out: _Segments, name: str, text: str, parse_block_html: bool) -> tuple[str | None, int]:
    """Raw content: tags are followed (to find the end tag) but the text is kept as written (taken a line,
    or up to the element's end, at a time: raw pieces run together anyway)."""
    stack, last, pos, mark = [name], -1, 0, 0  # ``mark``: where the text not yet added starts
    while True:
        m = _ANY.search(text, pos)
        if m is None:
            out.add("raw", text[mark:])
            nxt = next(lines, None)
            if nxt is None:
                return None, last
            (last, text), pos, mark = nxt, 0, 0
            continue
        pos = m.end()
        end_name = m[4]
        if end_name is not None:
            if end_name.lower() == stack[-1]:
                stack.pop()
                if not stack:
                    out.add("raw", text[mark:pos])
                    return text[pos:], last
            continue
        tag = (m[1] or "").lower()
        if m[0] == "<!--" or tag in ("script", "style"):
            closer = re.compile("-->" if m[0] == "<!--" else rf"</{tag}\s*>", re.IGNORECASE)
            body, tail, last = _until(lines, closer, text[pos:], last)
            out.add("raw", text[mark:pos] + body)
            if tail is None:
                return None, last
            text, pos, mark = tail, 0, 0
            continue
        value = markdown_attr(m[2])[0] if m[2] else None
        if value is not None and content_model(tag, value, parse_block_html) != "raw":
            out.add("raw", text[mark:m.start()])
            after, inner = element(lines, out, m, text[pos:], parse_block_html, top=False)
            last = max(last, inner)
            if after is None:
                return None, last
            text, pos, mark = after, 0, 0
        elif not m[3] and tag not in VOID:
            stack.append(tag)


def _emit(state: StateBlock, segments: _Segments, start: int, last: int) -> None:
    for index, (kind, text) in enumerate(segments):
        if kind == "block" and (render := kd(state.env)).html_depth < MAX_HTML_NESTING:
            render.html_depth += 1
            inner: list[Token] = []
            try:
                state.md.block.parse(text, state.md, state.env, inner)
            finally:
                render.html_depth -= 1
            for token in inner:
                token.level += state.level + 1
                token.meta = {**(token.meta or {}), "in_html": True}
            state.tokens.extend(inner)
        elif kind == "span":
            token = Token("inline", "", 0)
            token.content, token.children, token.map = text.strip(), [], [start, last + 1]
            token.level = state.level + 1
            state.tokens.append(token)
        else:
            inside_span = index + 1 < len(segments) and segments[index + 1][0] == "span"
            token = state.push("html_block", "", 0)
            token.content = text if text.endswith("\n") or inside_span else text + "\n"
            token.map = [start, last + 1]


def html_element(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """An HTML block the kramdown way; comments and processing instructions as CommonMark has them."""
    return _element_at(state, start, end, silent, line_text(state, start))


def _element_at(state: StateBlock, start: int, end: int, silent: bool, text: str) -> bool:
    if state.sCount[start] - state.blkIndent >= 4 or not state.md.options["html"]:
        return False
    if not text.startswith("<"):
        return False
    if text.startswith(("<!", "<?")):
        return html_block(state, start, end, silent)
    closing = END_TAG.match(text) if text[1:2] == "/" else None
    opening = None if closing else START_TAG.match(text)
    tag = closing or opening
    if tag is None or tag[1].lower() in SPAN_ELEMENTS:
        return False
    if silent:
        return True
    if closing:  # a stray end tag: that line only (the sanitiser drops it)
        token = state.push("html_block", "", 0)
        token.content, token.map = state.getLines(start, start + 1, state.blkIndent, True), [start, start + 1]
        state.line = start + 1
        return True
    first = state.getLines(start, start + 1, state.blkIndent, True)
    first = first if first.endswith("\n") else first + "\n"
    m = opening if first.startswith(text) else START_TAG.match(first)  # (the same match: nothing indents it)
    assert m is not None
    segments = _Segments()
    after, last = element(_lines(state, start + 1, end), segments, m, first[m.end():],
                          kd(state.env).options.parse_block_html, top=True)
    last = max(last, start)
    if after is None:
        kd(state.env).problems.append(f"line {start + 1}: <{m[1]}> has no end tag: closed at the end of its block")
    elif after.strip():
        segments.add("block", after)
    _emit(state, segments, start, last)
    state.line = last + 1
    return True


def _first_html_element(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """:func:`html_element` tried first, on a line no table can start (one without a ``|``)."""
    text = line_text(state, start)
    return text[:1] == "<" and "|" not in text and _element_at(state, start, end, silent, text)


def use(md: MarkdownIt) -> None:
    """In CommonMark's place of ``html_block`` — but tried right after ``table``: none of the rules between
    (code, fence, blockquote, hr, abbreviations, lists, footnotes, references) takes a line that starts with
    ``<`` and is indented less than a code block, the only lines this one takes; a post scraped as HTML is
    mostly such lines, each of which no longer fails eight rules first. Only a table can start with ``<``:
    a line without a ``|`` is tried before kramdown's maths blocks, extensions and tables too (none of them
    takes a line that starts with ``<`` and has no ``|``)."""
    md.block.ruler.disable("html_block")
    md.block.ruler.after("table", "kd_html_block", html_element, {"alt": ["paragraph", "reference", "blockquote"]})
    md.block.ruler.before("kd_math_block", "kd_html_block_first", _first_html_element)
