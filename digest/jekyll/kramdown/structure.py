"""What kramdown does once a document is parsed: block IALs given to their blocks (ALDs expanded),
``{#id}`` on headers, automatic header ids (kramdown-parser-gfm's or kramdown's), the ``{:toc}``
list, and abbreviations marked up wherever their term appears in text."""
from __future__ import annotations

import html
import re
import unicodedata

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from . import attrs as al
from .state import kd

_HEADER_ID = re.compile(r"[\t ]\{#((?:[^\W\d]|[:_])[\w:.\-]*)\}\Z")
_KD_LEADING = re.compile(r"^[^a-zA-Z]+")
_KD_OTHER = re.compile(r"[^a-zA-Z0-9 -]")
_SPACES = r"[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"


def _sibling_before(tokens: list[Token], j: int, level: int) -> Token | None:
    """The opening token of the block ending at ``tokens[j]`` (level ``level``), if it is one."""
    if j < 0 or tokens[j].level != level or tokens[j].nesting == 1:
        return None
    if tokens[j].nesting == 0:
        return tokens[j] if tokens[j].type != "inline" and not tokens[j].type.startswith("kd_") else None
    for k in range(j - 1, -1, -1):
        if tokens[k].level == level and tokens[k].nesting == 1:
            return tokens[k]
    return None


def _sibling_after(tokens: list[Token], j: int, level: int) -> Token | None:
    if j >= len(tokens) or tokens[j].level != level or tokens[j].nesting < 0:
        return None
    t = tokens[j]
    return None if t.type == "inline" or t.type.startswith("kd_") else t


def _around(tokens: list[Token]) -> tuple[list[int], list[int]]:
    """For each token, the nearest index before and after it that is not an IAL (linear, so a
    run of thousands of IALs costs no more than their number)."""
    n = len(tokens)
    before, after = [-1] * n, [n] * n
    for i in range(1, n):
        before[i] = before[i - 1] if tokens[i - 1].type == "kd_ial" else i - 1
    for i in range(n - 2, -1, -1):
        after[i] = after[i + 1] if tokens[i + 1].type == "kd_ial" else i + 1
    return before, after


def block_ials(state: StateCore) -> None:
    """Give IALs to blocks; take ``{#id}`` off header text."""
    tokens, alds = state.tokens, kd(state.env).alds
    before, after = _around(tokens) if any(t.type == "kd_ial" for t in tokens) else ([], [])
    found: dict[int, Token | None] = {}
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and i + 1 < len(tokens):
            inline = tokens[i + 1]
            m = _HEADER_ID.search(inline.content.rstrip())
            if m:
                inline.content = inline.content.rstrip()[:m.start()].rstrip()
                token.attrSet("id", m[1])
        if token.type != "kd_ial" or token.meta["position"] == "lost":
            continue
        j = before[i] if token.meta["position"] == "after" else after[i]
        if j not in found:
            found[j] = (_sibling_before(tokens, j, token.level) if token.meta["position"] == "after"
                        else _sibling_after(tokens, j, token.level))
        if found[j] is not None:
            al.apply(found[j], al.resolve(token.meta["attrs"], alds))  # type: ignore[arg-type]


def _gfm_chars(text: str) -> str:
    """kramdown-parser-gfm: lower-case, keep \\p{Word} (letters, marks, digits, _), ``-`` and spaces."""
    kept = (c for c in text.lower()
            if c in "- \t_" or unicodedata.category(c)[0] in "LM" or unicodedata.category(c) in ("Nd", "Pc"))
    return "".join(kept).replace(" ", "-").replace("\t", "-")


def kramdown_id(text: str) -> str:
    """kramdown's ``basic_generate_id``: ASCII letters, digits, spaces and dashes; from the first letter."""
    return _KD_OTHER.sub("", _KD_LEADING.sub("", text)).replace(" ", "-").lower()


def _plain(children: list[Token]) -> str:
    return "".join(c.content for c in children
                   if c.type in ("text", "code_inline", "math_inline", "text_special", "softbreak"))


def header_ids(state: StateCore) -> None:
    options = kd(state.env).options
    if not options.auto_ids:
        return
    gfm_counts: dict[str, int] = {}
    used: dict[str, int] = {}
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "heading_open" or token.attrGet("id") or i + 1 >= len(tokens):
            continue
        inline = tokens[i + 1]
        if options.input == "GFM" and not (token.meta or {}).get("in_html"):
            base = _gfm_chars(_plain(inline.children or []))
            gfm_counts[base] = gfm_counts.get(base, -1) + 1
            new = base + (f"-{gfm_counts[base]}" if gfm_counts[base] else "")
        else:
            source = inline.content if options.input == "kramdown" else _plain(inline.children or [])
            new = kramdown_id(source) or "section"
            if new in used:
                used[new] += 1
                new = f"{new}-{used[new]}"
            else:
                used[new] = 0
        token.attrSet("id", options.auto_id_prefix + new)


def table_of_contents(state: StateCore) -> None:
    """Replace the first list marked ``{:toc}`` by the headers' list (kramdown ``generate_toc_tree``)."""
    tokens = state.tokens
    start = next((i for i, t in enumerate(tokens) if t.type in ("bullet_list_open", "ordered_list_open")
                  and "toc" in (t.meta or {}).get("refs", ())), None)
    if start is None:
        return
    level = tokens[start].level
    end = next(j for j in range(start + 1, len(tokens)) if tokens[j].level == level and tokens[j].nesting == -1)
    levels = kd(state.env).options.toc_levels
    entries = [(int(t.tag[1]), str(t.attrGet("id")), tokens[i + 1].children or [])
               for i, t in enumerate(tokens) if t.type == "heading_open" and t.attrGet("id")
               and int(t.tag[1]) in levels and "no_toc" not in str(t.attrGet("class") or "").split()]
    state.tokens = tokens[:start] + _toc_tokens(tokens[start], entries) + tokens[end + 1:]


class _Entry:
    def __init__(self, level: int, hid: str, children: list[Token]):
        self.level, self.hid, self.children = level, hid, children
        self.sub: list[_Entry] = []


def _toc_tokens(list_open: Token, entries: list[tuple[int, str, list[Token]]]) -> list[Token]:
    roots: list[_Entry] = []
    stack: list[_Entry] = []
    for level, hid, children in entries:
        entry = _Entry(level, hid, children)
        while stack and stack[-1].level >= level:
            stack.pop()
        (stack[-1].sub if stack else roots).append(entry)
        stack.append(entry)
    toc_id = str(list_open.attrGet("id") or "markdown-toc")
    first = Token(list_open.type, list_open.tag, 1)
    for key, value in list_open.attrs.items():
        first.attrSet(key, value)
    first.attrSet("id", toc_id)
    return _emit_list(first, roots, toc_id)


def _emit_list(opener: Token, entries: list[_Entry], toc_id: str) -> list[Token]:
    out = [opener]
    for entry in entries:
        out.extend(_toc_item(entry.hid, toc_id, entry.children))
        if entry.sub:
            out.extend(_emit_list(Token(opener.type, opener.tag, 1), entry.sub, toc_id))
        out.append(Token("list_item_close", "li", -1))
    out.append(Token(opener.type.replace("_open", "_close"), opener.tag, -1))
    return out


def _toc_item(hid: str, toc_id: str, children: list[Token]) -> list[Token]:
    item = Token("list_item_open", "li", 1)
    link = Token("link_open", "a", 1)
    link.attrSet("href", f"#{hid}")
    link.attrSet("id", f"{toc_id}-{hid}")
    kept = [c.copy() for c in children if c.type not in ("footnote_ref", "link_open", "link_close")]
    inline = Token("inline", "", 0)
    inline.children = [link, *kept, Token("link_close", "a", -1)]
    return [item, inline]


def abbreviations(state: StateCore) -> None:
    """``*[HTML]: …`` marks up every HTML standing as a word in text (kramdown ``replace_abbreviations``)."""
    defs = kd(state.env).abbreviations
    if not defs:
        return
    terms = sorted(defs, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t).replace(r"\ ", _SPACES) for t in terms) + r")(?!\w)",
                         re.ASCII)
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        block.children = [piece for child in block.children for piece in _split(child, pattern, defs)]


def _split(token: Token, pattern: re.Pattern[str], defs: dict[str, str]) -> list[Token]:
    if token.type != "text" or not pattern.search(token.content):
        return [token]
    out, pos = [], 0
    for m in pattern.finditer(token.content):
        title = defs.get(m[0]) or defs.get(" ".join(m[0].split()), "")
        if m.start() > pos:
            out.append(_text(token.content[pos:m.start()]))
        tag = Token("html_inline", "", 0)
        title_attr = f' title="{html.escape(title)}"' if title else ""
        tag.content = f"<abbr{title_attr}>{html.escape(m[0], quote=False)}</abbr>"
        out.append(tag)
        pos = m.end()
    if pos < len(token.content):
        out.append(_text(token.content[pos:]))
    return out


def _text(content: str) -> Token:
    t = Token("text", "", 0)
    t.content = content
    return t


def use(md: MarkdownIt) -> None:
    md.core.ruler.after("block", "kd_block_ials", block_ials)
    md.core.ruler.push("kd_header_ids", header_ids)
    md.core.ruler.push("kd_toc", table_of_contents)
    md.core.ruler.push("kd_abbreviations", abbreviations)
