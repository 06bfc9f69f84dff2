"""Helpers the Jekyll tags share: tag markup, and Liquid written inside tag arguments."""
from __future__ import annotations

from liquid import Environment, RenderContext
from liquid.exceptions import LiquidSyntaxError
from liquid.stream import TokenStream
from liquid.template import BoundTemplate
from liquid.token import TOKEN_EXPRESSION, Token

from ._env import jekyll_env
from ._scan import unclosed


def has_liquid(text: str) -> bool:
    return "{{" in text or "{%" in text


def markup(stream: TokenStream, tag: Token) -> tuple[str, Token]:
    """A tag's markup as written, and its token (an empty one at the tag when there is none).
    Leaves the stream on the tag's last token, as python-liquid's parser expects."""
    if stream.peek.kind == TOKEN_EXPRESSION:
        next(stream)
        return stream.current.value, stream.current
    return "", Token(TOKEN_EXPRESSION, "", tag.start_index, tag.source)


def sub_template(env: Environment, text: str, token: Token) -> BoundTemplate:
    """Liquid written inside a tag's argument (``caption:"{{ page.title }}"``): parsed by the
    same environment, its errors reported at the tag's line."""
    broken = unclosed(text)
    if broken is not None:
        raise LiquidSyntaxError(broken.message, token=token)
    state = jekyll_env(env).state
    if state is None:
        return env.from_string(text)
    state.anchors.append(state.post_line(token))
    try:
        return env.from_string(text)
    finally:
        state.anchors.pop()


def render_sub(template: BoundTemplate, context: RenderContext, token: Token) -> str:
    state = jekyll_env(context.env).state
    buffer = context.get_buffer()
    if state is not None:
        state.anchors.append(state.post_line(token))
    try:
        template.render_with_context(context, buffer, partial=True)
    finally:
        if state is not None:
            state.anchors.pop()
    return buffer.getvalue()
