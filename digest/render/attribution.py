"""Attribution rules: where an article comes from, found in its front matter or, by the site's rules, in its body.

Front matter wins (``source``/``outlet``, ``source_url``/``original_url``/…, ``author``); otherwise the rules
of ``[attribution]`` and its preset (regular expressions): an outlet line, a bare original-URL line,
site-chrome lines removed, and the original URL's host named through the ``hosts`` table. An empty pattern
or list turns a rule off (the ``blog`` preset turns them all off).
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from digest.config.presets import resolve
from digest.config.settings import AttributionRules
from digest.render.links import absolutize
from digest.render.outlets import outlet_for_host
from digest.render.text import SPACES

OUTLET_KEYS = ("source", "outlet")
URL_KEYS = ("source_url", "original_url", "original", "canonical_url", "link")


def front_value(front: dict[str, Any], key: str) -> Any:
    """A front-matter value, or ``None`` when absent or empty."""
    value = front.get(key)
    return value if value not in (None, "") else None


class AttributionFinder:
    """The site's attribution rules, compiled once per build.

    The rules should be settled (:func:`digest.sources.sample.settled`): a rule still unset here falls back to
    the ``news`` preset's, the rules digest always had."""

    def __init__(self, rules: AttributionRules):
        self.rules = rules if rules.preset != "auto" else resolve(rules, "news")
        r = self.rules
        self._sources = [re.compile(p, re.M) for p in r.source_patterns or ()]
        self._url_line = re.compile(r.original_url_pattern, re.M) if r.original_url_pattern else None
        self._chrome = [re.compile(p, re.M) for p in r.chrome_patterns or ()]

    def strip_chrome(self, body: str) -> tuple[str, str | None]:
        """Remove site chrome lines and find the original-URL line (the last one wins; group 1 is its URL)."""
        for rx in self._chrome:
            body = rx.sub("", body)
        url: str | None = None
        found = list(self._url_line.finditer(body)) if self._url_line else []
        if found and self._url_line is not None:
            url = (found[-1].group(1) if self._url_line.groups else found[-1].group(0)).strip("<> \t") or None
            if self.rules.strip_original_url_line:  # what ``sub("", body)`` gives, without a second search
                ends = [0, *(i for m in found for i in m.span()), len(body)]
                body = "".join(body[ends[i]:ends[i + 1]] for i in range(0, len(ends), 2))
        return body, url

    def outlet_in(self, text: str) -> str | None:
        for rx in self._sources:
            m = rx.search(text)
            name = (m.group(1) if rx.groups else m.group(0)) if m else None
            if name and name.strip():
                return SPACES.sub(" ", name).strip()
        return None

    def outlet_of_host(self, url: str | None) -> str | None:
        host = (urlsplit(url).hostname or "") if url else ""
        if not host:
            return None
        name = outlet_for_host(host, self.rules.hosts)
        if name:
            return name
        return host if self.rules.host_fallback else None

    def original_url(self, front: dict[str, Any], body: str, post_url: str | None, site_url: str) -> str | None:
        """The original article's URL as the post states it (front matter, else the URL line), resolved;
        only http(s)."""
        found = next((str(v) for k in URL_KEYS if (v := front_value(front, k)) is not None), None)
        if found is None:
            _, found = self.strip_chrome(body)
        if not found:
            return None
        url = absolutize(found, post_url or "", site_url)
        if url and url.split(":", 1)[0].lower() in ("http", "https"):
            return url
        return None
