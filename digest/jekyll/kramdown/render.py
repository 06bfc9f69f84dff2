"""HTML for the tokens kramdown writes differently from CommonMark: code and maths become
placeholders (the trusted HTML comes later, after sanitising), footnotes carry kramdown's
``fn:``/``fnref:`` ids (links written for the Jekyll site keep working), and task-list items show
a ballot box (a sanitiser removes ``<input>``)."""
from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from .macros import DEFINITIONS
from .state import kd

_Rule = Any  # markdown-it passes the renderer itself as ``self``
_RAW_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_SKIPPED = re.compile(r"<(?:pre|code|script|style|textarea|noscript)\b", re.I)  # MathJax's skipHtmlTags


def _language(token: Token) -> str | None:
    """The fence's first word before any ``?`` (kramdown-parser-gfm), else a ``language-*`` class."""
    info = token.info.strip() if token.type == "fence" else ""
    if info:
        return info.split()[0].split("?")[0] or None
    classes = str(token.attrGet("class") or "").split()
    lang = next((c[len("language-"):] for c in classes if c.startswith("language-")), None)
    if lang:
        rest = " ".join(c for c in classes if not c.startswith("language-"))
        if rest:
            token.attrSet("class", rest)
        else:
            token.attrs.pop("class", None)
    return lang


def code(self: _Rule, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    token = tokens[idx]
    state = kd(env)
    lang = _language(token)
    # {% highlight x linenos %} becomes the info string "x {linenos}" (digest.jekyll.liquid)
    linenos = state.options.line_numbers or (token.type == "fence" and "linenos" in token.info.split("{", 1)[-1])
    placeholder = state.code_token(token.content, lang, linenos)
    return f"<div{self.renderAttrs(token)}>{placeholder}</div>\n"


def math_block(self: _Rule, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    token = tokens[idx]
    return f"<div{self.renderAttrs(token)}>{kd(env).math_token(token.content, True)}</div>\n"


def math_inline(self: _Rule, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    token = tokens[idx]
    return kd(env).math_token(token.content, bool((token.meta or {}).get("display")))


def html_block(self: _Rule, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    """Raw HTML stays as written, except a ``$$…$$`` holding macro definitions: MathJax reads the whole page,
    so posts define their macros in a hidden ``<div>`` and use them in later formulas. Such a formula in the
    text of the HTML becomes a formula like any other (one that only defines shows nothing); where it could be
    inside a tag or code (MathJax skips those) its definitions are only recorded."""
    content = tokens[idx].content
    state = kd(env)
    if not state.options.math or "$$" not in content:
        return content
    skipped = _SKIPPED.search(content) is not None

    def one(m: re.Match[str]) -> str:
        if not DEFINITIONS.search(m[1]):
            return m[0]
        before = content[:m.start()]
        if skipped or before.rfind("<") > before.rfind(">"):
            state.raw_math(m[1])
            return m[0]
        return state.math_token(m[1], True)
    return _RAW_DISPLAY.sub(one, content)


def _name(token: Token) -> str:
    return html.escape(str(token.meta.get("label") or token.meta["id"] + 1))


def footnote_ref(self: _Rule, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    token = tokens[idx]
    name, sub = _name(token), token.meta.get("subId", 0)
    number = token.meta["id"] + kd(env).options.footnote_nr
    ref_id = f"fnref:{name}" + (f":{sub}" if sub else "")
    return (f'<sup id="{ref_id}"><a href="#fn:{name}" class="footnote" rel="footnote" role="doc-noteref">'
            f"{number}</a></sup>")


def footnote_block_open(self: _Rule, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    start = kd(env).options.footnote_nr
    return '<div class="footnotes" role="doc-endnotes">\n' + (f'<ol start="{start}">\n' if start != 1 else "<ol>\n")


def footnote_block_close(self: _Rule, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    return "</ol>\n</div>\n"


def footnote_open(self: _Rule, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    return f'<li id="fn:{_name(tokens[idx])}">'


def footnote_close(self: _Rule, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    return "</li>\n"


def footnote_anchor(self: _Rule, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    token = tokens[idx]
    text = kd(env).options.footnote_backlink
    if not text:
        return ""
    name, sub = _name(token), token.meta.get("subId", 0)
    target = f"fnref:{name}" + (f":{sub}" if sub else "")
    label = html.escape(text, quote=False) + (f"<sup>{sub + 1}</sup>" if sub else "")
    return f'\u00a0<a href="#{target}" class="reversefootnote" role="doc-backlink">{label}</a>'


def list_item(self: _Rule, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    token = tokens[idx]
    if token.meta and "checked" in token.meta:
        token.attrSet("class", "task-list-item")
        return f"{self.renderToken(tokens, idx, options, env)}{'☑' if token.meta['checked'] else '☐'} "
    return str(self.renderToken(tokens, idx, options, env))


def use(md: MarkdownIt) -> None:
    for name, rule in (("fence", code), ("code_block", code), ("math_block", math_block),
                       ("math_inline", math_inline), ("html_block", html_block), ("footnote_ref", footnote_ref),
                       ("footnote_block_open", footnote_block_open), ("footnote_block_close", footnote_block_close),
                       ("footnote_open", footnote_open), ("footnote_close", footnote_close),
                       ("footnote_anchor", footnote_anchor), ("list_item_open", list_item)):
        md.add_render_rule(name, rule)
