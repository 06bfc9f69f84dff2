"""Jekyll's own tags besides include: ``highlight``, ``post_url`` and ``link``."""
from __future__ import annotations

import re
from typing import TextIO

from liquid import RenderContext
from liquid.ast import Node
from liquid.exceptions import LiquidSyntaxError
from liquid.stream import TokenStream
from liquid.tag import Tag
from liquid.template import BoundTemplate
from liquid.token import Token

from ._env import jekyll_env
from ._lex import HIGHLIGHT_BLOCK, Highlight
from ._support import has_liquid, markup, render_sub, sub_template

_POST_NAME = re.compile(r"\A(.+/)*?(\d{2,4}-\d{1,2}-\d{1,2})-([^/]*)\Z")
_ABSOLUTE = re.compile(r"\A[a-zA-Z][a-zA-Z0-9+.-]*:|\A//")


class HighlightNode(Node):
    __slots__ = ("code",)

    def __init__(self, token: Token, code: Highlight) -> None:
        super().__init__(token)
        self.code = code
        self.blank = False

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        return buffer.write(self.code.fenced(_current_line(buffer)))


def _current_line(buffer: TextIO, look_back: int = 256) -> str:
    """What the output holds after its last newline (up to ``look_back`` characters)."""
    try:
        end = buffer.tell()
        buffer.seek(max(0, end - look_back))
        tail = buffer.read(end - max(0, end - look_back))
        buffer.seek(end)
    except (OSError, ValueError):
        return ""
    return tail.rsplit("\n", 1)[-1]


class HighlightTag(Tag):
    """A whole ``{% highlight %}…{% endhighlight %}`` block, as the lexer found it: its body is
    never parsed as Liquid."""

    name = HIGHLIGHT_BLOCK
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token = stream.current
        code = Highlight.parse(token.source, token.start_index)
        if code is None:
            raise LiquidSyntaxError("'highlight' block could not be read", token=token)
        state = jekyll_env(self.env).state
        if not code.lang and not code.bad_options and state is not None:
            state.report(token, "highlight: no language given (expected LANG [linenos])")
        elif code.bad_options and state is not None:
            state.report(token, f"highlight: cannot read '{code.bad_options}' (expected LANG [linenos] "
                                f"[mark_lines=\"1 2\"])")
        return HighlightNode(token, code)


class UnclosedHighlightTag(Tag):
    name = "highlight"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        tag = stream.current
        markup(stream, tag)
        raise LiquidSyntaxError("'highlight' block was never closed (no 'endhighlight')", token=tag)


class TargetNode(Node):
    """The URL of a post (``post_url``) or of a site file (``link``), with the baseurl as in
    Jekyll 4; an unknown target is reported and gives an empty URL."""

    __slots__ = ("kind", "target")

    def __init__(self, token: Token, kind: str, target: str | BoundTemplate) -> None:
        super().__init__(token)
        self.kind = kind
        self.target = target
        self.blank = False

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        env = jekyll_env(context.env)
        site = env.services.site
        target = self.target if isinstance(self.target, str) else render_sub(self.target, context, self.token)
        name = target.strip()
        if self.kind == "post_url":
            name = name.lstrip("/")
            url = site.resolve_post(name) if _POST_NAME.match(name) else None
            why = "no such post" if _POST_NAME.match(name) else "not a post name (YYYY-MM-DD-title)"
        else:
            url = site.resolve_link(name) if name else None
            why = "no such file in the site"
        if url is None:
            if env.state is not None:
                env.state.report(self.token, f"{self.kind} '{name}': {why}")
            return 0
        if _ABSOLUTE.match(url):
            return buffer.write(url)
        return buffer.write(site.baseurl + "/" + url.lstrip("/"))


class PostUrlTag(Tag):
    name = "post_url"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        tag = stream.current
        text, _token = markup(stream, tag)
        target: str | BoundTemplate = sub_template(self.env, text, tag) if has_liquid(text) else text
        return TargetNode(tag, self.name, target)


class LinkTag(PostUrlTag):
    name = "link"
