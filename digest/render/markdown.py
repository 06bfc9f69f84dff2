"""Markdown with raw HTML → HTML (markdown-it-py), with deterministic limits on the work one post may cause."""
from __future__ import annotations

from functools import cached_property
from typing import Any

from markdown_it import MarkdownIt

from digest.errors import PostError

# Limits on the work one post may cause (docs/safety.md). Deterministic: counts, never the clock.
MAX_MARKDOWN_STEPS = 300_000  # Markdown parser rule runs (≈ tokens): bounds time (seconds) and memory


class _TooMuchWork(Exception):
    pass


def _count_step(env: dict[str, Any]) -> None:
    n = env["_steps"] = env.get("_steps", 0) + 1
    if n > MAX_MARKDOWN_STEPS:
        raise _TooMuchWork


def _block_budget(state: Any, start: int, end: int, silent: bool) -> bool:
    _count_step(state.env)
    return False


def _inline_budget(state: Any, silent: bool) -> bool:
    _count_step(state.env)
    return False


def _block_tokens_budget(state: Any) -> None:
    if len(state.tokens) > MAX_MARKDOWN_STEPS:
        raise _TooMuchWork



class MarkdownRenderer:
    """Markdown with raw HTML → unsanitised HTML, within the work limits; one instance per build."""

    @cached_property
    def _md(self) -> MarkdownIt:
        md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable("table")
        md.block.ruler.before(md.block.ruler.get_active_rules()[0], "digest_budget", _block_budget)
        md.inline.ruler.before(md.inline.ruler.get_active_rules()[0], "digest_budget", _inline_budget)
        md.core.ruler.after("block", "digest_budget", _block_tokens_budget)
        return md

    def render(self, body: str) -> str:
        """The HTML of ``body``; PostError past ``MAX_MARKDOWN_STEPS``."""
        if body.count("|") > MAX_MARKDOWN_STEPS // 2:  # one table rule run makes ~3 tokens a cell
            raise PostError(f"too much Markdown markup to render (over {MAX_MARKDOWN_STEPS // 2:,} '|' cells)")
        try:
            html: str = self._md.render(body, {})
            return html
        except _TooMuchWork:
            raise PostError(f"too much Markdown markup to render (over {MAX_MARKDOWN_STEPS:,} parser steps)") from None
        except RecursionError:
            raise PostError("Markdown nested too deeply to render") from None
