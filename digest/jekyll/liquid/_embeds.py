"""Plugin tags real blogs use, made into something a reader of a digest can follow.

An embedded player or tweet cannot play in an e-book, a PDF or an email: each becomes a visible
line with a link (``<p class="embed">Video: YouTube — <a href="…">…</a></p>``), worded by a small
label table the caller can translate. ``{% figure %}`` (jekyll-figure) becomes a ``<figure>``.
"""
from __future__ import annotations

import html
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import TextIO, cast
from urllib.parse import quote, urlsplit

from liquid import RenderContext
from liquid.ast import BlockNode, Node
from liquid.parser import get_parser
from liquid.stream import TokenStream
from liquid.tag import Tag
from liquid.template import BoundTemplate
from liquid.token import TOKEN_TAG, Token

from ._env import jekyll_env
from ._support import has_liquid, markup, render_sub, sub_template

DEFAULT_LABELS: Mapping[str, str] = MappingProxyType({
    "video": "Video",
    "tweet": "Tweet",
    "gist": "Gist",
    "embed": "Embedded content",
    "dash": " — ",
})
_HOSTS = (
    (("youtube.com", "youtu.be", "youtube-nocookie.com"), "video", "YouTube"),
    (("vimeo.com",), "video", "Vimeo"),
    (("twitter.com", "x.com"), "tweet", ""),
    (("gist.github.com",), "gist", "GitHub"),
)
_ATTRIBUTE = re.compile(r"""(\w[\w-]*)\s*:\s*("[^"]*"|'[^']*'|[^\s,|'"]+)""")
_WEB = re.compile(r"\Ahttps?://[^\s<>\"']+\Z", re.IGNORECASE)


def _host_kind(url: str) -> tuple[str, str]:
    host = (urlsplit(url).hostname or "").lower()
    for suffixes, kind, provider in _HOSTS:
        if any(host == suffix or host.endswith("." + suffix) for suffix in suffixes):
            return kind, provider
    return "embed", host.removeprefix("www.")


def embed_target(tag: str, argument: str) -> tuple[str, str, str]:
    """(kind, provider, URL) for an embed tag's first argument."""
    arg = argument.strip().strip("\"'")
    if not arg:
        return "embed", "", ""
    if _WEB.match(arg):
        kind, provider = _host_kind(arg)
        return ("video" if tag == "video" and kind == "embed" else kind), provider, arg
    safe = quote(arg, safe="/-_.")
    if tag == "youtube":
        return "video", "YouTube", f"https://www.youtube.com/watch?v={safe}"
    if tag == "vimeo":
        return "video", "Vimeo", f"https://vimeo.com/{safe}"
    if tag in ("tweet", "twitter") and arg.isdigit():
        return "tweet", "", f"https://twitter.com/i/status/{arg}"
    if tag == "gist" and arg:
        return "gist", "GitHub", f"https://gist.github.com/{safe}"
    return "embed", "", ""


def embed_html(labels: Mapping[str, str], kind: str, provider: str, url: str) -> str:
    def label(key: str) -> str:
        return labels.get(key, DEFAULT_LABELS[key])

    name = label(kind) + (f": {provider}" if provider else "")
    link = f'<a href="{html.escape(url)}">{html.escape(url)}</a>'
    return f'<p class="embed">{html.escape(name)}{html.escape(label("dash"))}{link}</p>'


class EmbedNode(Node):
    __slots__ = ("argument", "tag")

    def __init__(self, token: Token, tag: str, argument: str | BoundTemplate) -> None:
        super().__init__(token)
        self.tag = tag
        self.argument = argument
        self.blank = False

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        env = jekyll_env(context.env)
        text = self.argument if isinstance(self.argument, str) else render_sub(self.argument, context, self.token)
        words = text.split()
        kind, provider, url = embed_target(self.tag, words[0] if words else "")
        if not url:
            if env.state is not None:
                env.state.report(self.token, f"{self.tag}: no web address or id to link to ('{text.strip()}')")
            return 0
        return buffer.write(embed_html(env.services.labels, kind, provider, url))


class EmbedTag(Tag):
    block = False

    def parse(self, stream: TokenStream) -> Node:
        tag = stream.current
        text, _token = markup(stream, tag)
        argument: str | BoundTemplate = sub_template(self.env, text, tag) if has_liquid(text) else text
        return EmbedNode(tag, self.name, argument)


def embed_tags() -> list[type[Tag]]:
    """One tag class per name: python-liquid registers tags by their class's ``name``."""
    names = ("youtube", "vimeo", "tweet", "twitter", "oembed", "gist", "video")
    return [cast("type[Tag]", type(f"{name.title()}Tag", (EmbedTag,), {"name": name})) for name in names]


class FigureNode(Node):
    __slots__ = ("attributes", "block")

    def __init__(self, token: Token, attributes: dict[str, str | BoundTemplate], block: BlockNode) -> None:
        super().__init__(token)
        self.attributes = attributes
        self.block = block
        self.blank = False

    def _attribute(self, context: RenderContext, key: str) -> str:
        value = self.attributes.get(key, "")
        return value if isinstance(value, str) else render_sub(value, context, self.token)

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        """``<figure>``, the content as Markdown between blank lines, then the caption (through
        the caller's markdownify when there is one, else as Markdown for the page's parser)."""
        services = jekyll_env(context.env).services
        inner = context.get_buffer(buffer)
        self.block.render(context, inner)
        classes = self._attribute(context, "class").strip()
        caption = self._attribute(context, "caption").strip()
        opening = f'<figure class="{html.escape(classes)}">' if classes else "<figure>"
        parts = [opening, "", inner.getvalue().strip("\n"), ""]
        if caption and services.markdownify is not None:
            parts.append(f"<figcaption>{_unwrap(services.markdownify(caption))}</figcaption>")
        elif caption:
            parts += ["<figcaption>", "", caption, "", "</figcaption>"]
        parts.append("</figure>")
        return buffer.write("\n".join(parts))


def _unwrap(fragment: str) -> str:
    text = fragment.strip()
    if text.startswith("<p>") and text.endswith("</p>") and text.count("<p>") == 1:
        return text[3:-4]
    return text


class FigureTag(Tag):
    """``{% figure [caption:"…"] [class:"…"] %}…{% endfigure %}`` (jekyll-figure)."""

    name = "figure"
    end = "endfigure"

    def parse(self, stream: TokenStream) -> Node:
        tag = stream.current
        text, _token = markup(stream, tag)
        attributes: dict[str, str | BoundTemplate] = {}
        for match in _ATTRIBUTE.finditer(text):
            value = match.group(2)
            value = value[1:-1] if value[:1] in "\"'" else value
            attributes[match.group(1)] = sub_template(self.env, value, tag) if has_liquid(value) else value
        next(stream)
        block = get_parser(self.env).parse_block(stream, (self.end,))
        stream.expect(TOKEN_TAG, value=self.end)
        return FigureNode(tag, attributes, block)
