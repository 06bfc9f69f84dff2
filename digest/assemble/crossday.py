"""Cross-day de-duplication (``dedupe_days = N``): skip articles already carried in the last N days.

An article whose original URL belongs to a post of the N days before an issue starts is left out
of the issue. The window is read from the site's posts, not from earlier output, so the result does
not depend on which issues were built before or in what order (``--jobs`` stays deterministic).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from digest.sources.collect import SourcePost, collect
from digest.render.content import ContentRenderer
from digest.render.links import absolutize
from digest.config.settings import Settings

# The front-matter keys ContentRenderer.render reads the original URL from, in order.
URL_KEYS = ("source_url", "original_url", "original", "canonical_url", "link")


def original_url(renderer: ContentRenderer, src: SourcePost) -> str | None:
    """The post's original-article URL, as :meth:`ContentRenderer.render` finds it (no rendering)."""
    front = src.front
    found = next((str(v) for k in URL_KEYS if (v := front.get(k)) not in (None, "")), None)
    if found is None:
        _, found = renderer.strip_chrome(src.body)
    if not found:
        return None
    post_url = renderer.post_url(src)
    url = absolutize(found, post_url or "", renderer.settings.site_url)
    if url and url.split(":", 1)[0].lower() in ("http", "https"):
        return url
    return None


def previous_urls(settings: Settings, start: date, *, now: datetime | None = None,
                  use_cache: bool = True) -> frozenset[str]:
    """The original URLs of the posts of the ``settings.dedupe_days`` days before ``start``."""
    n = settings.dedupe_days
    if n <= 0:
        return frozenset()
    collected = collect(settings, start - timedelta(days=n), start - timedelta(days=1), now=now,
                        use_cache=use_cache)
    renderer = ContentRenderer(settings)
    return frozenset(u for src in collected.posts if (u := original_url(renderer, src)))
