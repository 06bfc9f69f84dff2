"""Records a Markdown rendering hands back, and the per-render state the plugins share (kept in
markdown-it's ``env``, so one :class:`MarkdownRenderer` serves a whole build without shared state)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .options import MarkdownOptions

# Placeholders: private-use characters pass an HTML sanitiser as plain text; input's own are replaced.
TOKEN_OPEN = "\ue000"
TOKEN_CLOSE = "\ue001"
MAX_HTML_NESTING = 16  # <div markdown="1"> inside another: each level is a nested parse


class MarkdownError(Exception):
    """A post whose Markdown digest will not render (too much work, too deep); one-line message."""


class TooMuchWork(MarkdownError):
    pass


@dataclass(frozen=True)
class Math:
    tex: str
    display: bool
    raw: bool = False  # in raw HTML (kept as it is): only its definitions count, for the formulas after it


@dataclass(frozen=True)
class Code:
    text: str
    lang: str | None
    linenos: bool


@dataclass
class RenderState:
    """What one render collects; lives in ``env["kd"]`` for the length of one ``render`` call."""

    options: MarkdownOptions
    maths: list[Math] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    alds: dict[str, dict[str, Any]] = field(default_factory=dict)
    abbreviations: dict[str, str] = field(default_factory=dict)
    steps: int = 0
    html_depth: int = 0

    def charge(self, n: int = 1) -> None:
        """Count work deterministically (never the clock): past the limit the post is refused."""
        self.steps += n
        if self.steps > self.options.max_steps:
            raise TooMuchWork(f"too much Markdown markup to render (over {self.options.max_steps:,} parser steps)")

    def math_token(self, tex: str, display: bool) -> str:
        self.maths.append(Math(tex, display))
        return f"{TOKEN_OPEN}m{len(self.maths) - 1}{TOKEN_CLOSE}"

    def raw_math(self, tex: str) -> None:
        """Definitions MathJax reads in a raw HTML block (often a hidden ``<div>``): no placeholder."""
        self.maths.append(Math(tex, True, raw=True))

    def code_token(self, text: str, lang: str | None, linenos: bool) -> str:
        self.codes.append(Code(text, lang, linenos))
        return f"{TOKEN_OPEN}c{len(self.codes) - 1}{TOKEN_CLOSE}"


def kd(env: Any) -> RenderState:
    state = env["kd"]
    assert isinstance(state, RenderState)
    return state
