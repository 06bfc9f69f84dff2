"""A post's body as Jekyll renders it, then made safe: Liquid → kramdown Markdown → link cards for
embeds → the sanitiser → formulas and highlighted code filled in.

The order is Jekyll's (Liquid runs over the Markdown before the Markdown parser sees it). Formulas and code
blocks cross the sanitiser as placeholder tokens (private-use characters it keeps as text) and come back as
HTML digest generates from data it recorded itself (:mod:`digest.render.trusted`), so the allowlist stays as
strict as it is. Every Liquid and Markdown problem is a :class:`~digest.errors.Notice` naming the post's
file and line; a post past the work limits raises :class:`~digest.errors.PostError` (it is skipped).
"""
from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digest.config.settings import Settings
from digest.errors import Notice, PostError
from digest.jekyll.kramdown.markdown import MarkdownError, MarkdownRenderer, fill
from digest.jekyll.liquid.engine import DEFAULT_LABELS, LiquidRenderer
from digest.jekyll.liquid.site import JekyllSite, load_site_data
from digest.render.embeds import link_cards
from digest.render.markdown import site_markdown
from digest.render.sanitize import Sanitizer
from digest.render.site import PostUrl, SiteInputs, SiteLinks
from digest.render.trusted import code_block, post_formulas
from digest.render.words import EMBED_LABELS
from digest.sources.posts import SourcePost


@dataclass(frozen=True)
class Body:
    html: str  # sanitised, formulas and code filled in
    notices: tuple[Notice, ...]


def embed_labels(theme_labels: Mapping[str, str]) -> dict[str, str]:
    """The link cards' words from a theme's labels (English where the theme has none)."""
    return {key: theme_labels.get(name, DEFAULT_LABELS[key]) for key, name in EMBED_LABELS.items()}


def _line_of(text: str, needle: str, first_line: int) -> int | None:
    at = text.find(needle) if needle else -1
    return first_line + text.count("\n", 0, at) if at >= 0 else None


class BodyRenderer:
    """One per build: the site's Liquid (includes parsed once), its Markdown options, the sanitiser."""

    def __init__(self, settings: Settings, url_of: PostUrl, labels: Mapping[str, str] | None = None):
        self.settings = settings
        self.inputs = SiteInputs.read(settings)
        self.labels = embed_labels(labels or {})
        self.markdown, self.config_notices = site_markdown(self.inputs.config)
        self._plain = MarkdownRenderer(self.markdown.options)  # markdownify's (nested in a post's Liquid)
        self.sanitizer = Sanitizer(settings.site_url)
        self._url_of = url_of
        self._liquid: LiquidRenderer | None = None

    @property
    def liquid(self) -> LiquidRenderer:
        """Built on the first post with Liquid: a day of plain posts never reads ``_data/`` or the includes."""
        if self._liquid is None:
            links = SiteLinks(self.settings, self._url_of, self.inputs.config)
            data = load_site_data(self.inputs.root, self.inputs.config)
            self.config_notices.extend(data.problems)
            site = JekyllSite.from_config(self.inputs.root, self.inputs.config, resolve_post=links.post,
                                          resolve_link=links.link, data=data.data)
            self._liquid = LiquidRenderer(site, markdownify=self.markdownify, labels=self.labels)
        return self._liquid

    def markdownify(self, text: str) -> str:
        """Liquid's ``markdownify``: finished HTML, its formulas as TeX and its code plain (the post's own
        Markdown parse and the sanitiser see it next)."""
        result = self._plain.render(text)
        maths = [f"<code>{html.escape(m.tex, quote=False)}</code>" for m in result.maths]
        codes = [f"<pre><code>{html.escape(c.text, quote=False)}</code></pre>" for c in result.codes]
        return fill(result.html, maths, codes)

    def run_liquid(self, src: SourcePost, page: Mapping[str, Any]) -> tuple[str, list[Notice]]:
        """The body with its Liquid done, and its problems with their lines in the file."""
        body = src.body
        if "{%" not in body and "{{" not in body:
            return body, []
        rel = self._source_path(src.path)
        result = self.liquid.render(body, page=page, path=rel, first_line=1)
        if not result.problems:
            return result.text, []
        first = self._first_line(src)
        return result.text, [Notice(src.path, p.message, p.line + first - 1 if p.line else None)
                             for p in result.problems]

    def html(self, src: SourcePost, markdown: str, post_id: str, base_url: str) -> Body:
        """Markdown → sanitised HTML with its formulas and code filled in."""
        try:
            result = self.markdown.render(markdown)
        except MarkdownError as e:
            raise PostError(str(e)) from None
        notices = [Notice(src.path, p) for p in result.problems]
        clean = self.sanitizer.sanitize(link_cards(result.html, self.labels), post_id, base_url)
        maths = []
        for m, got in zip(result.maths, post_formulas((m.tex, m.display, m.raw) for m in result.maths), strict=True):
            for problem in ((got.problem,) if got.problem else ()) + got.notes:
                notices.append(Notice(src.path, problem, _line_of(src.body, m.tex, self._first_line(src))))
            maths.append(got.html)
        codes = [code_block(c.text, c.lang, c.linenos) for c in result.codes]
        return Body(fill(clean, maths, codes), tuple(notices))

    def _source_path(self, path: Path) -> str:
        """The post's path relative to Jekyll's source folder (include_relative, ``sample``'s seed)."""
        full = (self.settings.site_root / path).resolve()
        root = self.inputs.root.resolve()
        return full.relative_to(root).as_posix() if full.is_relative_to(root) else path.as_posix()

    def _first_line(self, src: SourcePost) -> int:
        """The file's line where the body starts (found only when a problem needs it)."""
        try:
            text = (self.settings.site_root / src.path).read_bytes().decode("utf-8", "replace")
        except OSError:
            return 1
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        at = text.find(src.body[:200]) if src.body else -1
        return text.count("\n", 0, at) + 1 if at >= 0 else 1


def page_variables(src: SourcePost, url_path: str | None) -> dict[str, Any]:
    """``page.*``: the front matter, and what Jekyll adds (url, date, title, categories, tags, path…)."""
    return {**src.front, "url": url_path or "", "date": src.date, "title": src.title, "slug": src.slug,
            "categories": list(src.categories), "tags": list(src.tags), "path": src.path.as_posix()}

