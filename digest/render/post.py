"""One post rendered: a :class:`~digest.sources.posts.SourcePost` becomes a :class:`~digest.model.Post`.

Its body goes through Markdown and the sanitiser; it is attributed (front matter, else the site's rules)
and summarised (front matter, else the lead quote, else the first paragraph that is not an outlet line).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from digest.config.settings import Settings
from digest.model import Attribution, Post
from digest.render.attribution import OUTLET_KEYS, URL_KEYS, AttributionFinder, front_value
from digest.render.body import BodyRenderer, page_variables
from digest.render.language import post_lang
from digest.render.links import PostRef, absolutize, post_path
from digest.render.sanitize import safe_link
from digest.render.text import cut, one_line, plain_text
from digest.runtime.env import Environment
from digest.sources.discover import base_of
from digest.sources.frontmatter import clean_line, is_scalar
from digest.sources.posts import SourcePost
from digest.sources.sample import settled

# Front-matter keys digest understands; every other key goes to ``Post.extra``.
KNOWN_KEYS = frozenset({
    "layout", "title", "date", "categories", "category", "tags", "tag", "published", "slug", "permalink",
    "source", "outlet", "source_url", "original_url", "original", "canonical_url", "link", "author",
    "excerpt", "description", "summary", "lang",
})
_SUMMARY_KEYS = ("excerpt", "description", "summary")
_LEAD_QUOTE = re.compile(r"^\s*<blockquote>(.*?)</blockquote>", re.S)
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)


def post_path_of(src: SourcePost, settings: Settings, base: str | None = None) -> str:
    """The post's URL path without ``baseurl``, as Jekyll makes it: its own ``permalink`` (front matter,
    or front-matter ``defaults``), else the site's posts permalink. (``base``: :func:`base_of` the settings.)"""
    custom = src.front.get("permalink")
    template = clean_line(str(custom)) if is_scalar(custom) and str(custom).strip() else settings.permalink
    base = base_of(settings) if base is None else base
    rel = src.path.as_posix()
    inside = rel[len(base) + 1:] if base and rel.startswith(base + "/") else rel
    return post_path(template, PostRef(src.date, src.slug, src.categories, inside))


class ContentRenderer:
    """Turns a :class:`SourcePost` into a :class:`Post`; one instance per build (compiled rules)."""

    def __init__(self, settings: Settings, labels: Mapping[str, str] | None = None, env: Environment | None = None):
        """``settings`` whose attribution preset is still ``auto`` is settled here from the site's posts
        (a build settles it once, before: :func:`digest.sources.sample.settled`)."""
        if settings.attribution.preset == "auto":
            settings = settled(settings, env or Environment.from_os())
        self.settings = settings
        self.base = base_of(settings)
        self.body = BodyRenderer(settings, self.post_url, labels)
        self.sanitizer = self.body.sanitizer
        self.attribution = AttributionFinder(settings.attribution)

    def sanitize(self, fragment: str, post_id: str, base_url: str) -> str:
        return self.sanitizer.sanitize(fragment, post_id, base_url)

    def summary_of(self, front: dict[str, Any], html: str, text: str) -> str:
        limit = self.settings.summary_length
        for key in _SUMMARY_KEYS:
            value = front_value(front, key)
            if value:
                return cut(plain_text(self.sanitize(str(value), "s", "")), limit)
        m = _LEAD_QUOTE.match(html)
        if m:
            quoted = plain_text(m.group(1))
            if quoted:
                return cut(quoted, limit)
        for m in _PARAGRAPH.finditer(html):
            para = plain_text(m.group(1))
            if para and not self.attribution.outlet_in(para):
                return cut(para, limit)
        return cut(text, limit)

    def post_url(self, src: SourcePost) -> str | None:
        """The post's URL on the site (its permalink under ``url`` and ``baseurl``); None without a ``url``."""
        if not self.settings.url:
            return None
        return safe_link(self.settings.site_url + post_path_of(src, self.settings, self.base))

    def render(self, src: SourcePost, post_id: str) -> Post:
        front = src.front
        post_url = self.post_url(src)
        url_path = post_url[len(self.settings.site_url):] if post_url else None
        markdown, liquid_notices = self.body.run_liquid(src, page_variables(src, url_path))
        body, url_line = self.attribution.strip_chrome(markdown)
        rendered = self.body.html(src, body, post_id, post_url or self.settings.site_url + "/")
        html = rendered.html
        text = plain_text(html)
        attribution = self.attribute(front, url_line, text, post_url)
        extra = {k: v for k, v in front.items() if k not in KNOWN_KEYS}
        return Post(
            id=post_id, path=src.path, title=src.title, date=src.date, categories=src.categories,
            tags=src.tags, body_html=html, body_text=text, summary=self.summary_of(front, html, text),
            attribution=attribution, slug=src.slug, content_hash=src.content_hash,
            extra=MappingProxyType(extra), notices=(*liquid_notices, *rendered.notices),
            lang=post_lang(front, self.settings.lang, src.title, text), timed=src.timed,
        )

    def attribute(self, front: dict[str, Any], url_line: str | None, text: str, post_url: str | None) -> Attribution:
        """Front matter first; then the preset's rules (outlet line, original-URL line, host); the author is
        the post's, else — for a blog — the site's."""
        original = next((str(v) for k in URL_KEYS if (v := front_value(front, k))), None) or url_line
        if original:
            original = safe_link(absolutize(original, post_url or "", self.settings.site_url))
        named = (one_line(front_value(front, k)) for k in OUTLET_KEYS)
        outlet = (next(filter(None, named), None) or self.attribution.outlet_in(text)
                  or self.attribution.outlet_of_host(original))
        author = one_line(front_value(front, "author"))
        if author is None and self.settings.attribution.preset == "blog":
            author = one_line(self.settings.author)
        return Attribution(outlet=one_line(outlet), original_url=original, post_url=post_url, author=author)
