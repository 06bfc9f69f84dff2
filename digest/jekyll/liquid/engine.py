"""Jekyll's Liquid stage: a post's Markdown with its Liquid done, and every problem on one line.

One ``LiquidRenderer`` per build (python-liquid's environment, Jekyll's tags and filters, the
parsed includes); ``render`` per post. A post without ``{%`` or ``{{`` is returned as it is,
without touching the engine.

Policy for a post whose Liquid cannot run — a syntax error (an unclosed block, a malformed tag),
a work limit reached (a loop of 100 million, a recursive include, a gigabyte of output) or an
unexpected failure — its text is kept with the Liquid markup removed (``{% raw %}`` content
kept, ``{% highlight %}`` as code, comments dropped) and the reason is reported with its line:
nothing of the post's prose is lost and nothing runs unbounded. Everything else (an unknown
tag or filter, a missing include or post, a bad filter argument) is one problem while the rest
of the post renders.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from liquid.exceptions import LiquidError
from liquid.tag import Tag
from liquid.token import TOKEN_TAG, Token

from ._arrays import array_filters
from ._embeds import DEFAULT_LABELS, FigureTag, embed_tags
from ._env import JekyllEnvironment, Services, new_environment
from ._filters import text_filters
from ._include import IncludeCachedTag, IncludeRelativeTag, IncludeTag
from ._lex import strip_markup
from ._scan import unclosed
from ._state import Abort, Limits, LiquidProblem, RenderState, error_message, one_line
from ._tags import HighlightTag, LinkTag, PostUrlTag, UnclosedHighlightTag
from .site import JekyllSite

__all__ = ["DEFAULT_LABELS", "Limits", "LiquidProblem", "LiquidRenderer", "LiquidResult"]

DEFAULT_LIMITS = Limits()
_NOT_RUN = "Liquid not run (text kept, markup removed): "
_STOPPED = "Liquid stopped (text kept, markup removed): "


@dataclass(frozen=True)
class LiquidResult:
    text: str
    problems: tuple[LiquidProblem, ...]
    ran: bool = True  # False when the post's Liquid could not run and its markup was removed


class LiquidRenderer:
    """Renders the Liquid of one build's posts. Not shared between threads: while a post
    renders, the environment holds that post's state."""

    def __init__(self, site: JekyllSite, limits: Limits = DEFAULT_LIMITS, *,
                 markdownify: Callable[[str], str] | None = None,
                 labels: Mapping[str, str] = DEFAULT_LABELS) -> None:
        self.site = site
        self.limits = limits
        self._site_vars = site.variables()
        self.env = new_environment(limits, self._register, Services(site, labels, markdownify))

    def _register(self, env: JekyllEnvironment) -> None:
        tags: list[type[Tag]] = [HighlightTag, UnclosedHighlightTag, IncludeTag, IncludeCachedTag,
                                 IncludeRelativeTag, PostUrlTag, LinkTag, FigureTag, *embed_tags()]
        for tag in tags:
            env.add_tag(tag)
        filters = {**text_filters(self.site, env.services.markdownify), **array_filters()}
        for name, func in filters.items():
            env.add_filter(name, func)

    def render(self, text: str, *, page: Mapping[str, Any], path: str, first_line: int = 1) -> LiquidResult:
        """``text`` is the post's body, ``first_line`` its first line in the file (after the
        front matter), ``path`` the post's file relative to the site root (for include_relative,
        and the seed of ``sample``), ``page`` what ``page.*`` shows (front matter, url, date…)."""
        if "{%" not in text and "{{" not in text:
            return LiquidResult(text, ())
        state = RenderState(source=text, first_line=first_line, path=path, page=page,
                            max_problems=self.limits.problems_per_post)
        self.env.state = state
        try:
            return self._render(text, page, state)
        finally:
            self.env.state = None

    def _render(self, text: str, page: Mapping[str, Any], state: RenderState) -> LiquidResult:
        markup = text.count("{%") + text.count("{{")
        if markup > self.limits.markup_per_post:
            cause = LiquidProblem(None, f"more than {self.limits.markup_per_post} Liquid tags and outputs")
            return self._fallback(text, state, cause, _STOPPED)
        broken = unclosed(text)
        if broken is not None:
            return self._fallback(text, state, state.problem(Token(TOKEN_TAG, "", broken.index, text), broken.message))
        try:
            state.parsing_post = True
            template = self.env.from_string(text, path=state.path)
            state.parsing_post = False
            if state.failure is not None:
                return self._fallback(text, state, state.failure)
            output = template.render(site=self._site_vars, page=page, jekyll=_JEKYLL)
        except Abort as stop:
            return self._fallback(text, state, stop.problem, _STOPPED)
        except LiquidError as err:
            if isinstance(err.__cause__, Abort):
                return self._fallback(text, state, err.__cause__.problem, _STOPPED)
            return self._fallback(text, state, state.problem(err.token, error_message(err)))
        except (RecursionError, MemoryError):
            return self._fallback(text, state, LiquidProblem(None, "nested too deep"), _STOPPED)
        except Exception as err:
            return self._fallback(text, state, LiquidProblem(None, one_line(f"{type(err).__name__}: {err}")), _STOPPED)
        return LiquidResult(output, state.final())

    def _fallback(self, text: str, state: RenderState, cause: LiquidProblem,
                  prefix: str = _NOT_RUN) -> LiquidResult:
        """The post's text with its Liquid markup removed; the reason comes first."""
        problems = (LiquidProblem(cause.line, prefix + cause.message), *state.final())
        return LiquidResult(strip_markup(text), problems, ran=False)


_JEKYLL: Mapping[str, str] = MappingProxyType({"environment": "production", "version": "4.3.3"})
