"""Markdown with raw HTML → sanitised HTML; attribution, summary and site-chrome removal.

Every format shows the same sanitised fragment; nothing a post says is trusted: nh3 (ammonia)
keeps an allowlist of tags and attributes and the http(s)/mailto URL schemes only.
"""
from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any, Callable
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt

from .collect import SourcePost
from .links import absolutize, permalink_path
from .model import Attribution, Post
from .settings import Settings

TAGS = frozenset(nh3.ALLOWED_TAGS - {"acronym", "center", "strike", "tt", "map", "area", "rtc"})
ATTRIBUTES = {
    "*": {"id", "lang", "title", "dir"},
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "headers", "scope"},
    "ol": {"start", "reversed"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "time": {"datetime"},
}
URL_SCHEMES = {"http", "https", "mailto"}
# Front-matter keys digest understands; every other key goes to ``Post.extra``.
KNOWN_KEYS = frozenset({
    "layout", "title", "date", "categories", "category", "tags", "tag", "published", "slug", "permalink",
    "source", "outlet", "source_url", "original_url", "original", "canonical_url", "link", "author",
    "excerpt", "description", "summary",
})
_OUTLET_KEYS = ("source", "outlet")
_URL_KEYS = ("source_url", "original_url", "original", "canonical_url", "link")
_SUMMARY_KEYS = ("excerpt", "description", "summary")
_BLOCK_END = re.compile(r"</(?:p|div|li|h[1-6]|blockquote|tr|pre|table|ul|ol|dl|dt|dd|figure|figcaption|section|article)>|<br\s*/?>", re.I)
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_ID_BAD = re.compile(r"[^A-Za-z0-9_.\-]")
_LEAD_QUOTE = re.compile(r"^\s*<blockquote>(.*?)</blockquote>", re.S)
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
_LATIN = re.compile(r"[A-Za-z0-9]")


def plain_text(fragment: str) -> str:
    """Readable plain text of an HTML fragment: one line per block, entities decoded."""
    text = nh3.clean(_BLOCK_END.sub("\n", fragment), tags=set())
    lines = (_SPACES.sub(" ", htmllib.unescape(line)).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def cut(text: str, limit: int) -> str:
    """Cut on a character boundary; never inside a Latin word; CJK text may break anywhere."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[:limit]
    if _LATIN.match(text[limit]) and _LATIN.match(head[-1]) and " " in head:
        head = head[: head.rindex(" ")]
    return head.rstrip(" ,.;:，。；：、") + "…"


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    text: str


class ContentRenderer:
    """Turns a :class:`SourcePost` into a :class:`Post`; one instance per build (compiled rules)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        rules = settings.attribution
        self._sources = [re.compile(p, re.M) for p in rules.source_patterns]
        self._url_line = re.compile(rules.original_url_pattern, re.M)
        self._chrome = [re.compile(p, re.M) for p in rules.chrome_patterns]

    @cached_property
    def _md(self) -> MarkdownIt:
        return MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable("table")

    # -- body ------------------------------------------------------------------------------------
    def strip_chrome(self, body: str) -> tuple[str, str | None]:
        """Remove site chrome lines and find the original-URL line (the last one wins)."""
        for rx in self._chrome:
            body = rx.sub("", body)
        url: str | None = None
        found = list(self._url_line.finditer(body))
        if found:
            url = found[-1].group(1) or None
            if self.settings.attribution.strip_original_url_line:
                body = self._url_line.sub("", body)
        return body, url

    def sanitize(self, fragment: str, post_id: str, base_url: str) -> str:
        site_url = self.settings.site_url
        seen: set[str] = set()

        def relative(url: str) -> str | None:
            if url.startswith("#"):
                return f"#{post_id}-{_ID_BAD.sub('_', url[1:])}" if len(url) > 1 else None
            return absolutize(url, base_url, site_url)

        def attribute(tag: str, attr: str, value: str) -> str | None:
            if attr == "id":
                new = f"{post_id}-{_ID_BAD.sub('_', value)}"
                while new in seen:
                    new += "_"
                seen.add(new)
                return new
            if attr in ("width", "height", "colspan", "rowspan", "start"):
                return value if value.strip().isdigit() else None
            if attr == "dir":
                return value if value in ("ltr", "rtl", "auto") else None
            return value

        return nh3.clean(
            fragment, tags=set(TAGS), attributes={k: set(v) for k, v in ATTRIBUTES.items()},
            attribute_filter=attribute, url_relative=relative, url_schemes=set(URL_SCHEMES),
            link_rel="noopener noreferrer", strip_comments=True,
        )

    def render_body(self, body: str, post_id: str, base_url: str) -> Rendered:
        clean = self.sanitize(self._md.render(body), post_id, base_url)
        return Rendered(clean, plain_text(clean))

    # -- attribution and summary -----------------------------------------------------------------
    def outlet_in(self, text: str) -> str | None:
        for rx in self._sources:
            m = rx.search(text)
            if m and m.group(1).strip():
                return _SPACES.sub(" ", m.group(1)).strip()
        return None

    def outlet_of_host(self, url: str | None) -> str | None:
        rules = self.settings.attribution
        host = (urlsplit(url).hostname or "") if url else ""
        if not host:
            return None
        labels = host.split(".")
        for i in range(len(labels) - 1):
            name = rules.hosts.get(".".join(labels[i:]))
            if name:
                return name
        return host if rules.host_fallback else None

    def summary_of(self, front: dict[str, Any], html: str, text: str, lookup: Callable[[str], Any]) -> str:
        limit = self.settings.summary_length
        for key in _SUMMARY_KEYS:
            value = lookup(key)
            if value:
                return cut(plain_text(self.sanitize(str(value), "s", "")), limit)
        m = _LEAD_QUOTE.match(html)
        if m:
            quoted = plain_text(m.group(1))
            if quoted:
                return cut(quoted, limit)
        for m in _PARAGRAPH.finditer(html):
            para = plain_text(m.group(1))
            if para and not self.outlet_in(para):
                return cut(para, limit)
        return cut(text, limit)

    def post_url(self, src: SourcePost) -> str | None:
        if not self.settings.url:
            return None
        custom = src.front.get("permalink")
        path = str(custom) if custom else permalink_path(
            self.settings.permalink, when=src.date, categories=src.categories,
            title=src.slug, slug=src.slug,
        )
        return self.settings.site_url + "/" + path.lstrip("/")

    def render(self, src: SourcePost, post_id: str) -> Post:
        front = src.front

        def lookup(key: str) -> Any:
            v = front.get(key)
            return v if v not in (None, "") else None

        post_url = self.post_url(src)
        body, url_line = self.strip_chrome(src.body)
        rendered = self.render_body(body, post_id, post_url or self.settings.site_url + "/")
        original = next((str(lookup(k)) for k in _URL_KEYS if lookup(k)), None) or url_line
        if original:
            original = absolutize(original, post_url or "", self.settings.site_url)
            if original and original.split(":", 1)[0].lower() not in ("http", "https"):
                original = None
        outlet = next((str(lookup(k)).strip() for k in _OUTLET_KEYS if lookup(k)), None)
        outlet = outlet or self.outlet_in(rendered.text) or self.outlet_of_host(original)
        author = lookup("author")
        attribution = Attribution(
            outlet=outlet, original_url=original, post_url=post_url,
            author=str(author) if author and not isinstance(author, (dict, list)) else None,
        )
        extra = {k: v for k, v in front.items() if k not in KNOWN_KEYS}
        return Post(
            id=post_id, path=src.path, title=src.title, date=src.date, categories=src.categories,
            tags=src.tags, html=rendered.html, text=rendered.text,
            summary=self.summary_of(front, rendered.html, rendered.text, lookup),
            attribution=attribution, slug=src.slug, content_hash=src.content_hash,
            extra=MappingProxyType(extra),
        )
