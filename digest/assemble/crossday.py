"""Cross-day de-duplication (``dedupe_days = N``): skip articles already carried in the last N days.

An article whose original URL belongs to a post of the N days before an issue starts is left out
of the issue. The window is read from the site's posts, not from earlier output, so the result does
not depend on which issues were built before or in what order (``--jobs`` stays deterministic).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from digest.config.settings import Settings
from digest.render.attribution import AttributionFinder
from digest.render.post import ContentRenderer
from digest.runtime.env import Environment
from digest.sources.collect import collect
from digest.sources.sample import settled


def previous_urls(settings: Settings, start: date, *, env: Environment,
                  now: datetime | None = None) -> frozenset[str]:
    """The original URLs of the posts of the ``settings.dedupe_days`` days before ``start``."""
    n = settings.dedupe_days
    if n <= 0:
        return frozenset()
    settings = settled(settings, env)  # (a build has settled the preset already: then this is quick)
    collected = collect(settings, start - timedelta(days=n), start - timedelta(days=1), env=env, now=now)
    finder = AttributionFinder(settings.attribution)
    urls = ContentRenderer(settings, env=env)  # for each post's own URL (relative original URLs resolve against it)
    return frozenset(u for src in collected.posts
                     if (u := finder.original_url(src.front, src.body, urls.post_url(src), settings.site_url)))
