"""Jekyll permalinks and link resolution against the site URL."""
from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote, urljoin, urlsplit

_STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
_PLACEHOLDER = re.compile(r":(categories|year|short_year|month|i_month|short_month|long_month|day|i_day|"
                          r"y_day|week|short_day|long_day|hour|minute|second|title|slug|output_ext)")


def slugify(text: str) -> str:
    """Jekyll's default slugify: lower-case, runs of non-alphanumerics become one hyphen (CJK kept)."""
    return re.sub(r"[^\w]+", "-", text.lower()).strip("-")


def permalink_path(pattern: str, *, when: datetime, categories: tuple[str, ...], title: str, slug: str) -> str:
    """The URL path Jekyll gives a post, for a ``permalink`` style name or template."""
    template = _STYLES.get(pattern, pattern)
    values = {
        "categories": "/".join(c.lower() for c in categories),
        "year": f"{when:%Y}", "short_year": f"{when:%y}", "month": f"{when:%m}", "i_month": str(when.month),
        "short_month": f"{when:%b}", "long_month": f"{when:%B}", "day": f"{when:%d}", "i_day": str(when.day),
        "y_day": f"{when:%j}", "week": f"{when.isocalendar()[1]:02d}", "short_day": f"{when:%a}",
        "long_day": f"{when:%A}", "hour": f"{when:%H}", "minute": f"{when:%M}", "second": f"{when:%S}",
        "title": title, "slug": slugify(slug), "output_ext": ".html",
    }
    path = _PLACEHOLDER.sub(lambda m: values[m[1]], template)
    path = re.sub(r"/{2,}", "/", "/" + path)
    return quote(path, safe="/:@!$&'()*+,;=-._~%")


def absolutize(url: str, base: str, site_url: str) -> str | None:
    """Resolve a relative, site-relative or protocol-relative URL; ``None`` when it cannot be."""
    url = url.strip()
    if not url:
        return None
    if url.startswith("//"):
        scheme = urlsplit(site_url).scheme or "https"
        return f"{scheme}:{url}"
    if urlsplit(url).scheme:
        return url
    if not base:
        return None
    return urljoin(base, url)
