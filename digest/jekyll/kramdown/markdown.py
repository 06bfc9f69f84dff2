"""Markdown as Jekyll renders it (kramdown with ``input: GFM``, or plain kramdown) on markdown-it-py
and mdit-py-plugins, with kramdown's own syntax added by the small plugins of this package.

The HTML is not sanitised. Each formula and each code block is a placeholder token (private-use
characters around an index, which a sanitiser keeps as text); :func:`fill` puts trusted HTML
generated from :attr:`MarkdownResult.maths` / :attr:`MarkdownResult.codes` in their place.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.gfm_autolink import gfm_autolink_plugin

from . import blocks, html_blocks, inline, render, structure, tables, typography
from .options import MarkdownOptions
from .state import (
    TOKEN_CLOSE,
    TOKEN_OPEN,
    Code,
    MarkdownError,
    Math,
    RenderState,
    TooMuchWork,
    kd,
)

__all__ = ["Code", "MarkdownError", "MarkdownOptions", "MarkdownRenderer", "MarkdownResult", "Math", "fill"]

_TOKEN = re.compile(f"{TOKEN_OPEN}([mc])(\\d+){TOKEN_CLOSE}")
_OWN_TOKEN_CHARS = re.compile(f"[{TOKEN_OPEN}{TOKEN_CLOSE}]")


@dataclass(frozen=True)
class MarkdownResult:
    html: str  # unsanitised; formulas and code blocks are placeholder tokens
    maths: tuple[Math, ...]
    codes: tuple[Code, ...]
    problems: tuple[str, ...]


def fill(html: str, maths_html: Sequence[str], codes_html: Sequence[str]) -> str:
    """Put trusted HTML in the place of each placeholder (also after sanitising, which keeps them)."""
    def one(m: re.Match[str]) -> str:
        items = maths_html if m[1] == "m" else codes_html
        index = int(m[2])
        if index >= len(items):
            raise ValueError(f"no HTML given for placeholder {m[1]}{index}")
        return items[index]
    return _TOKEN.sub(one, html)


def _block_budget(state: Any, start: int, end: int, silent: bool) -> bool:
    state.env["kd"].charge()  # (every line: kd()'s check left out)
    return False


def _inline_budget(state: Any, silent: bool) -> bool:
    kd(state.env).charge()
    return False


def _tokens_budget(state: Any) -> None:
    if len(state.tokens) > kd(state.env).options.max_steps:
        raise TooMuchWork(f"too much Markdown markup to render (over {kd(state.env).options.max_steps:,} blocks)")


def build(options: MarkdownOptions) -> MarkdownIt:
    """A parser for these options: CommonMark, then GFM's strikethrough and task lists, footnotes
    and definition lists (mdit-py-plugins), then kramdown's syntax."""
    md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False,
                                   "breaks": options.hard_wrap})
    md.enable("strikethrough")
    md.options["tasklists"] = True
    md.use(footnote_plugin, inline=False)
    md.use(deflist_plugin)
    if options.autolink_bare_urls:
        md.use(gfm_autolink_plugin)
    tables.use(md)
    blocks.use(md)
    html_blocks.use(md)
    inline.use(md, options.math, options.typographic_symbols)
    if not options.math:
        md.block.ruler.disable("kd_math_block")
    typography.use(md)
    structure.use(md)
    render.use(md)
    md.block.ruler.before(md.block.ruler.get_active_rules()[0], "digest_budget", _block_budget)
    md.inline.ruler.before(md.inline.ruler.get_active_rules()[0], "digest_budget", _inline_budget)
    md.core.ruler.after("block", "digest_budget", _tokens_budget)
    return md


class MarkdownRenderer:
    """One per build: the parser is set up once for the site's options."""

    def __init__(self, options: MarkdownOptions | None = None):
        self.options = options or MarkdownOptions()
        self._md = build(self.options)

    def render(self, text: str) -> MarkdownResult:
        """Markdown → unsanitised HTML with placeholders; :class:`MarkdownError` past the work limits."""
        limit = self.options.max_steps // 2
        if text.count("|") > limit:  # one table rule run makes ~3 tokens a cell
            raise TooMuchWork(f"too much Markdown markup to render (over {limit:,} '|' cells)")
        state = RenderState(self.options)
        try:
            out = self._md.render(_OWN_TOKEN_CHARS.sub("\ufffd", text), {"kd": state})
        except RecursionError:
            raise MarkdownError("Markdown nested too deeply to render") from None
        return MarkdownResult(out, tuple(state.maths), tuple(state.codes), tuple(state.problems))
