"""The fetcher WeasyPrint lays out with (see :mod:`.fetch` for the rules); imported in the layout workers.

A refusal raises :class:`~.fetch.Refused` (a ``ValueError``): WeasyPrint leaves the resource out and logs
it; the refused URLs are also kept on the fetcher so that a build can report them, once each.
"""
from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

from digest.editions.pdf.fetch import FetchRules, Refused, local_path, short

LOCAL_MAX_BYTES = 50_000_000
_RASTER = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff"})


class SiteFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type information
    """WeasyPrint's fetcher interface (it must be a ``URLFetcher``), with :class:`FetchRules` deciding."""

    def __init__(self, rules: FetchRules) -> None:
        super().__init__(timeout=rules.timeout, allowed_protocols=("data",), allow_redirects=False)
        self.rules = rules
        self.refused: list[str] = []  # one line per refused URL, in the order asked

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        try:
            return self._fetch(url, headers)
        except Refused as e:
            self.refused.append(str(e))
            raise

    def _fetch(self, url: str, headers: Any) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        path = local_path(url, self.rules)
        if path is not None:
            if path.stat().st_size > LOCAL_MAX_BYTES:
                raise Refused(f"not read (over {LOCAL_MAX_BYTES:,} bytes): {short(url)}")
            return self._response(url, path.read_bytes(), mimetypes.guess_type(path.name)[0])
        if scheme in ("http", "https") and not self._is_site(url):
            return self._remote(url)
        if scheme in ("http", "https"):
            raise Refused(f"not found in the site folder: {short(url)}")
        raise Refused(f"not read (only the site's and the theme's files): {short(url)}")

    def _remote(self, url: str) -> URLFetcherResponse:
        if not self.rules.remote:
            raise Refused(f"remote file not fetched (network.fetch_images is off): {short(url)}")
        from digest.editions.epub import images  # the one checked fetch of the package

        try:
            data = images.fetch(url, timeout=self.rules.timeout, max_bytes=self.rules.max_bytes,
                                allow_private=self.rules.allow_private)
        except images.Refused as e:
            raise Refused(str(e)) from None
        return self._response(url, data, None)

    def _is_site(self, url: str) -> bool:
        site = urlsplit(self.rules.site_url).netloc.lower()
        return bool(site) and urlsplit(url).netloc.lower() == site

    def _response(self, url: str, data: bytes, mime: str | None) -> URLFetcherResponse:
        """Raster images are scaled to the page and recompressed (a 4,000-pixel photo is not kept whole)."""
        from digest.editions.epub.images import Refused as NotImage
        from digest.editions.epub.images import compress

        if mime is None or mime in _RASTER:
            try:
                packed = compress(data, max_width=self.rules.image_max_width, quality=self.rules.image_quality,
                                  what=url)
                data, mime = packed.data, packed.media_type
            except NotImage:
                if mime is None:
                    raise
        return _Served(url, data, {"Content-Type": mime or "application/octet-stream"})


class _Served(URLFetcherResponse):  # type: ignore[misc]
    """A response whose bytes are ours: WeasyPrint must not go back to the file behind a ``file:`` URL (it
    embeds a raster image from ``response.path`` when there is one — the original PNG under the
    recompressed JPEG's header, which no reader can draw)."""

    @property
    def path(self) -> None:
        return None
