"""kramdown's smart quotes and typographic symbols (``smart_quotes.rb``, ``typographic_symbol.rb``).

kramdown decides each quote with RubyPants' ordered rules, looking one character back (when that
character is plain text it has not consumed yet) and ahead into the source. Here the rules run on
the text of each paragraph, with the markup around text (``*``, backticks, brackets) standing in
for the source, and only characters of plain-text tokens are replaced: code, maths, HTML and
escaped characters stay as written.
"""
from __future__ import annotations

import bisect
import re

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from .state import kd

_F = re.ASCII | re.MULTILINE
_PUNCT = r"""[!"#$%'()*+,\-./:;<=>?@\[\\\]^_`{|}~]"""
# (pattern, actions): an int keeps that group as text; a name makes a quote of the group it names.
_RULES: tuple[tuple[re.Pattern[str], tuple[int | str, ...]], ...] = (
    (re.compile(r"""(["'])(?=[_*]{1,2}\S)""", _F), ("lquote1",)),
    (re.compile(rf"""(["'])(?={_PUNCT}(?!\.\.)\B)""", _F), ("rquote1",)),
    (re.compile(r"""(\s?)"'(?=\w)""", _F), (1, "ldquo", "lsquo")),
    (re.compile(r"""(\s?)'"(?=\w)""", _F), (1, "lsquo", "ldquo")),
    (re.compile(r"""(\s?)'(?=\d\ds)""", _F), (1, "rsquo")),
    (re.compile(r"""(\s)(['"])(?=\w)""", _F), (1, "lquote2")),
    (re.compile(r"""([^ \\\t\r\n\[{(-])(['"])""", _F), (1, "rquote2")),
    (re.compile(r"""(["'])(?=\s|s\b|$)""", _F), ("rquote1",)),
    (re.compile(r"""(.?)'""", _F | re.DOTALL), (1, "lsquo")),
    (re.compile(r"""(.?)\"""", _F | re.DOTALL), (1, "ldquo")),
)
_SYMBOLS = re.compile(r"---|--|\.\.\.|<< |<<| >>|>>")
_CANDIDATES = re.compile(r"""['"]|---|--|\.\.\.|<< |<<| >>|>>""")
_QUOTES = re.compile(r"""['"]""")
_SYMBOL_TEXT = {"---": "\u2014", "--": "\u2013", "...": "\u2026", "<< ": "\u00ab\u00a0", "<<": "\u00ab",
                " >>": "\u00a0\u00bb", ">>": "\u00bb"}
_STAND_IN = {"softbreak": "\n", "hardbreak": "\n", "link_open": "[", "link_close": "]", "image": "!",
             "math_inline": "$$", "footnote_ref": "[^"}


def _stand_in(token: Token) -> str:
    if token.type in ("em_open", "em_close", "strong_open", "strong_close", "s_open", "s_close"):
        return token.markup
    if token.type == "code_inline":
        return f"`{token.content}`"
    if token.type in ("text_special", "html_inline"):
        return token.content
    return _STAND_IN.get(token.type, "")


def _quote(kind: str, char: str, quotes: tuple[str, str, str, str]) -> str:
    lsquo, rsquo, ldquo, rdquo = quotes
    if kind in ("lsquo", "rsquo", "ldquo", "rdquo"):
        return {"lsquo": lsquo, "rsquo": rsquo, "ldquo": ldquo, "rdquo": rdquo}[kind]
    left = kind.startswith("l")
    return (ldquo if left else rdquo) if char == '"' else (lsquo if left else rsquo)


def _smarten(text: str, owner: list[int], quotes: tuple[str, str, str, str], symbols: bool) -> dict[int, str]:
    """Replacements (position → new text) for characters owned by plain-text tokens (owner ≥ 0)."""
    out: dict[int, str] = {}
    candidates = _CANDIDATES if symbols else _QUOTES
    i = 0
    while (m := candidates.search(text, i)) is not None:
        c = m.start()
        if owner[c] < 0:
            i = c + 1
        elif m[0] in ("'", '"'):
            before = c - 1
            usable = before >= i and owner[before] == owner[c] and text[before] != "\\"
            i = _apply_rules(text, before if usable else c, owner, quotes, out)
        elif all(owner[k] == owner[c] for k in range(c, m.end())):
            out[c] = _SYMBOL_TEXT[m[0]]
            out.update({k: "" for k in range(c + 1, m.end())})
            i = m.end()
        else:
            i = c + 1
    return out


def _apply_rules(text: str, at: int, owner: list[int], quotes: tuple[str, str, str, str],
                 out: dict[int, str]) -> int:
    for pattern, actions in _RULES:
        m = pattern.match(text, at)
        if m is None:
            continue
        pos = at
        for action in actions:
            if isinstance(action, int):
                pos += len(m[action])
                continue
            char = text[pos]
            if owner[pos] >= 0:
                out[pos] = _quote(action, char, quotes)
            pos += 1
        return max(pos, at + 1)
    return at + 1


def smart_typography(state: StateCore) -> None:
    options = kd(state.env).options
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children = block.children
        pieces, owner = [], []
        for index, child in enumerate(children):
            piece = child.content if child.type == "text" else _stand_in(child)
            pieces.append(piece)
            owner.extend([index if child.type == "text" else -1] * len(piece))
        text = "".join(pieces)
        if not any(c in text for c in "'\"") and not (options.typographic_symbols and _SYMBOLS.search(text)):
            continue
        kd(state.env).charge(len(children))
        changes = _smarten(text, owner, options.smart_quotes, options.typographic_symbols)
        if changes:
            _rewrite(children, pieces, changes)


def _rewrite(children: list[Token], pieces: list[str], changes: dict[int, str]) -> None:
    by_piece: dict[int, list[int]] = {}
    start, bounds = 0, []
    for piece in pieces:
        bounds.append(start)
        start += len(piece)
    for k in sorted(changes):
        by_piece.setdefault(bisect.bisect_right(bounds, k) - 1, []).append(k)
    for index, keys in by_piece.items():
        piece, base = pieces[index], bounds[index]
        chars = list(piece)
        for k in keys:
            chars[k - base] = changes[k]
        children[index].content = "".join(chars)


def use(md: MarkdownIt) -> None:
    md.core.ruler.before("text_join", "kd_typography", smart_typography)
