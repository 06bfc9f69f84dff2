"""The fetcher WeasyPrint lays out with (see :mod:`.fetch` for the rules); imported in the layout workers."""
from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

from digest.editions.pdf.fetch import FetchRules, local_file

LOCAL_MAX_BYTES = 50_000_000
_RASTER = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff"})


class SiteFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type information
    """WeasyPrint's fetcher, limited to the rules above."""

    def __init__(self, rules: FetchRules) -> None:
        super().__init__(timeout=rules.timeout, allowed_protocols=("data",))
        self.rules = rules

    def local(self, url: str) -> Path | None:
        """The file a ``file:`` URL or a site URL stands for, when it is inside the allowed folders."""
        return local_file(url, self.rules)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        path = self.local(url)
        if path is not None:
            if path.stat().st_size > LOCAL_MAX_BYTES:
                raise ValueError(f"file too large: {path.name}")
            return self._response(url, path.read_bytes(), mimetypes.guess_type(path.name)[0])
        if scheme in ("http", "https") and self.rules.remote and not self._is_site(url):
            from digest.editions.epub.images import fetch

            data = fetch(url, timeout=self.rules.timeout, max_bytes=self.rules.max_bytes,
                         allow_private=self.rules.allow_private)
            return self._response(url, data, None)
        raise ValueError(f"not read (outside the site and the theme): {url}")

    def _is_site(self, url: str) -> bool:
        site = urlsplit(self.rules.site_url).netloc.lower()
        return bool(site) and urlsplit(url).netloc.lower() == site

    def _response(self, url: str, data: bytes, mime: str | None) -> URLFetcherResponse:
        """Raster images are scaled to the page and recompressed (a 4,000-pixel photo is not kept whole)."""
        from digest.editions.epub.images import Refused, compress

        if mime is None or mime in _RASTER:
            try:
                packed = compress(data, max_width=self.rules.image_max_width, quality=self.rules.image_quality,
                                  what=url)
                data, mime = packed.data, packed.media_type
            except Refused:
                if mime is None:
                    raise
        return URLFetcherResponse(url, data, {"Content-Type": mime or "application/octet-stream"})
