"""The python-liquid environment in Jekyll's dialect, with errors collected instead of raised.

Everything python-liquid reports goes through ``Environment.error``; here it goes to the post's
``RenderState``: a syntax error while the post is parsed marks the post as unparseable (its
text is kept with the markup removed, see ``liquid.py``), a work limit stops the render at once
(``Abort``), and any other error becomes one problem while rendering goes on.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO, cast

from liquid import Environment, Mode, RenderContext
from liquid.ast import IllegalNode, Node
from liquid.builtin.tags.for_tag import ForNode, ForTag
from liquid.exceptions import (
    BlockNestingError,
    ContextDepthError,
    FilterArgumentError,
    LiquidError,
    LiquidSyntaxError,
    LocalNamespaceLimitError,
    LoopIterationLimitError,
    OutputStreamLimitError,
    ResourceLimitError,
)
from liquid.stream import TokenStream
from liquid.tag import Tag
from liquid.template import BoundTemplate
from liquid.token import TOKEN_CONTENT, TOKEN_EXPRESSION, TOKEN_ILLEGAL, Token

from ._lex import make_tokenizer
from ._state import Abort, Limits, RenderState, error_message
from .site import JekyllSite


@dataclass(frozen=True)
class Services:
    """What Jekyll's tags and filters need from the build, fixed for its length."""

    site: JekyllSite
    labels: Mapping[str, str]
    markdownify: Callable[[str], str] | None


_INNER_TAGS = frozenset({"else", "elsif", "when"})
_BLOCKS_LEXED_WHOLE = frozenset({"raw"})  # reaching the parser as a tag means it was never closed


def _identity(value: object, *_args: object, **_kwargs: object) -> object:
    return value


def _too_long(value: object, limit: int) -> bool:
    if not isinstance(value, range):
        return False
    try:
        return len(value) > limit
    except OverflowError:
        return True


def _filter_failure(name: str, err: Exception, value: object) -> str:
    """One line in the author's terms: no Python function names."""
    text = str(err.message) if isinstance(err, LiquidError) else str(err)
    text = text.removeprefix(f"{name}: ")
    if re.search(r"\(\) (?:missing|takes|got)", text):
        text = "wrong number of arguments"
    elif not isinstance(err, LiquidError):
        text = f"cannot filter a {type(value).__name__}"
    return f"{name}: {text}"


class JekyllContext(RenderContext):
    """Unknown filters leave the value as it was and are reported; ranges longer than the loop
    limit are refused before a filter turns them into a list."""

    def filter(self, name: str, token: Token | None) -> Callable[..., object]:
        env = jekyll_env(self.env)
        if name not in env.filters:
            if env.state is not None:
                env.state.report_unknown("filter", name, token)
            return _identity
        func = super().filter(name, token)
        limit = env.limits.loop_iterations

        def guarded(left: object, *args: object, **kwargs: object) -> object:
            if _too_long(left, limit) or any(_too_long(arg, limit) for arg in args):
                raise LoopIterationLimitError(f"range longer than {limit} given to '{name}'", token=token)
            try:
                return func(left, *args, **kwargs)
            except (FilterArgumentError, TypeError) as err:
                raise FilterArgumentError(_filter_failure(name, err, left), token=token) from err

        return guarded


class JekyllTemplate(BoundTemplate):
    context_class = JekyllContext


class _GuardedForNode(ForNode):
    """``(1..100000000) reversed`` is made into a list before python-liquid counts it: count first."""

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        limit = context.env.loop_iteration_limit
        if limit and _too_long(self.expression.iterable.evaluate(context), limit):
            raise LoopIterationLimitError("loop iteration limit reached", token=self.token)
        return super().render_to_output(context, buffer)


class _GuardedForTag(ForTag):
    node_class = _GuardedForNode


class _Tracked(Tag):
    """Remembers which tag is being parsed: an unclosed block is reported at its opening line."""

    def __init__(self, env: Environment, inner: Tag) -> None:
        super().__init__(env)
        self.inner = inner
        self.block = inner.block
        self.name = inner.name

    def get_node(self, stream: TokenStream) -> Node:
        state = jekyll_env(self.env).state
        if state is None:
            return self.inner.get_node(stream)
        state.open_tags.append(stream.current)
        try:
            return self.inner.get_node(stream)
        finally:
            state.open_tags.pop()

    def parse(self, stream: TokenStream) -> Node:
        return self.inner.parse(stream)


class _UnknownTag(Tag):
    """Tags nobody registered: reported once per post and name, and removed. The content of an
    unknown block stays, because only its start and end tags are removed."""

    name = TOKEN_ILLEGAL
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token = stream.current
        if stream.peek.kind == TOKEN_EXPRESSION:
            next(stream)
        name = token.value
        if not name:
            raise LiquidSyntaxError("missing tag name", token=token)
        if name in _BLOCKS_LEXED_WHOLE:
            raise LiquidSyntaxError(f"'{name}' block was never closed (no 'end{name}')", token=token)
        state = jekyll_env(self.env).state
        if state is None:
            return IllegalNode(token)
        if name in _INNER_TAGS or (name.startswith("end") and name[3:] in self.env.tags):
            state.report(token, f"unexpected Liquid tag '{name}' (no block is open for it)")
        elif name.startswith("end") and name[3:] and state.knows("tag", name[3:]):
            pass  # the end of an unknown block, already reported by its start
        elif name.startswith("end") and name[3:] in _BLOCKS_LEXED_WHOLE:
            state.report(token, f"unexpected Liquid tag '{name}'")
        else:
            state.report_unknown("tag", name, token)
        return IllegalNode(token)


class JekyllEnvironment(Environment):
    """One per build: tags, filters and the include cache are shared by every post."""

    def __init__(self, *, limits: Limits, register: Callable[[JekyllEnvironment], None],
                 services: Services) -> None:
        self.limits = limits
        self.services = services
        self.include_cache: dict[Path, object] = {}  # resolved file -> parsed include, or None
        self.expression_cache: dict[tuple[str, str], object] = {}  # where_exp & co, parsed once
        self.state: RenderState | None = None
        self._register = register
        self._tokenize = make_tokenizer()
        super().__init__(tolerance=Mode.STRICT, strict_filters=True, autoescape=False)
        self.template_class = JekyllTemplate

    def tokenizer(self) -> Callable[[str], Iterator[Token]]:
        return self._tokenize

    def setup_tags_and_filters(self, *, extra: bool = False) -> None:
        super().setup_tags_and_filters(extra=False)
        del self.tags["render"]  # not in Jekyll's Liquid 4; python-liquid's would look for templates
        self.add_tag(_GuardedForTag)
        self._register(self)
        self.tags = {name: tag if name == TOKEN_CONTENT else _Tracked(self, tag) for name, tag in self.tags.items()}
        self.tags[TOKEN_ILLEGAL] = _UnknownTag(self)

    def error(self, exc: type[LiquidError] | LiquidError, msg: str | None = None,
              token: Token | None = None) -> None:
        if not isinstance(exc, LiquidError):
            exc = exc(msg, token=token)
        elif not exc.token:
            exc.token = token
        state = self.state
        if state is None:
            raise exc
        if isinstance(exc, ResourceLimitError):
            raise Abort(state.problem(exc.token, self._limit_text(exc)))
        state.report_error(exc)

    def _limit_text(self, exc: ResourceLimitError) -> str:
        limits = self.limits
        if isinstance(exc, LoopIterationLimitError):
            return f"more than {limits.loop_iterations} loop iterations"
        if isinstance(exc, OutputStreamLimitError):
            return f"output larger than {limits.output_bytes} bytes"
        if isinstance(exc, LocalNamespaceLimitError):
            return f"assigned values larger than {limits.locals_bytes} bytes"
        if isinstance(exc, ContextDepthError):
            return f"nested more than {limits.context_depth} deep (a recursive include?)"
        if isinstance(exc, BlockNestingError):
            return f"blocks nested more than {self.block_nesting_limit} deep"
        return error_message(exc)


def jekyll_env(env: Environment) -> JekyllEnvironment:
    if not isinstance(env, JekyllEnvironment):
        raise TypeError("a Jekyll tag or filter was used outside the Jekyll environment")
    return env


def new_environment(limits: Limits, register: Callable[[JekyllEnvironment], None],
                    services: Services) -> JekyllEnvironment:
    """python-liquid reads its limits from class attributes: a subclass carries this build's."""
    limited = type("LimitedJekyllEnvironment", (JekyllEnvironment,), {
        "loop_iteration_limit": limits.loop_iterations,
        "output_stream_limit": limits.output_bytes,
        "local_namespace_limit": limits.locals_bytes,
        "context_depth_limit": limits.context_depth,
    })
    return cast(JekyllEnvironment, limited(limits=limits, register=register, services=services))
