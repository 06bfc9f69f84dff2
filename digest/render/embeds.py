"""Embedded players and frames, made into something every edition can show: a line with a link.

An ``<iframe>``, ``<video>``, ``<audio>``, ``<embed>`` or ``<object>`` cannot play in an e-book, a PDF or an
email, and the sanitiser removes them; left alone, a post that is only a video would be an empty article.
Before sanitising, each becomes ``Video: YouTube — https://…`` (the words from the theme's labels); the
sanitiser then checks that link like any other.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from lxml import html as lxml_html
from lxml.etree import ParserError

from digest.jekyll.liquid._embeds import embed_html, embed_target

_OPEN = re.compile(r"<(iframe|video|audio|embed|object)\b[^>]*>", re.I)
_CLOSE = re.compile(r"</(?:iframe|video|audio|object)\s*>", re.I)
_SOURCE = re.compile(r"<source\b[^>]*>", re.I)
_PLAYERS = (  # a player's frame address → the page a reader can open
    (re.compile(r"https?://(?:www\.)?youtube(?:-nocookie)?\.com/embed/([\w-]+)"), "https://www.youtube.com/watch?v={}"),
    (re.compile(r"https?://player\.vimeo\.com/video/(\d+)"), "https://vimeo.com/{}"),
)
MAX_EMBEDS = 200  # per post: each costs a small parse


def _attributes(tag: str) -> Mapping[str, str]:
    """The attributes of one opening tag, read by lxml's HTML parser."""
    name = tag[1:].split(None, 1)[0].split(">", 1)[0].lower()
    try:
        element = lxml_html.fragment_fromstring(f"{tag}</{name}>" if name != "embed" else tag)
    except (ParserError, ValueError):
        return {}
    return {str(k).lower(): str(v) for k, v in element.attrib.items()}


def _page_url(src: str) -> str:
    src = src.strip()
    if src.startswith("//"):
        src = "https:" + src
    for pattern, page in _PLAYERS:
        m = pattern.match(src)
        if m:
            return page.format(m[1])
    return src


def _card(tag: str, following: str, labels: Mapping[str, str]) -> str:
    attrs = _attributes(tag)
    name = tag[1:].split(None, 1)[0].split(">", 1)[0].lower()
    src = attrs.get("src") or attrs.get("data") or ""
    if not src and name in ("video", "audio"):
        source = _SOURCE.search(following)
        src = _attributes(source[0]).get("src", "") if source else ""
    url = _page_url(src)
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return ""
    kind, provider, url = embed_target("video" if name == "video" else "iframe", url)
    title = " ".join(attrs.get("title", "").split())
    if title and title.lower() not in ("youtube video player", "vimeo video player"):
        provider = title
    provider = provider or (urlsplit(url).hostname or "").removeprefix("www.")
    return embed_html(labels, kind, provider, url)


def link_cards(fragment: str, labels: Mapping[str, str]) -> str:
    """Each embedded frame or player replaced by a link card (its fallback content dropped with it)."""
    if "<" not in fragment or not _OPEN.search(fragment):
        return fragment
    out: list[str] = []
    pos = count = 0
    for m in _OPEN.finditer(fragment):
        if m.start() < pos:
            continue
        count += 1
        out.append(fragment[pos:m.start()])
        close = _CLOSE.search(fragment, m.end()) if m[1].lower() != "embed" else None
        end = close.end() if close else m.end()
        out.append(_card(m[0], fragment[m.end():end], labels) if count <= MAX_EMBEDS else "")
        pos = end
    out.append(fragment[pos:])
    return "".join(out)
