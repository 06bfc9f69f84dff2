"""The one URL fetcher of the PDF edition: WeasyPrint reads the theme's and the site's own files, nothing else.

WeasyPrint follows every URL a document names — an image, a stylesheet, a font, and ``<link rel=attachment>``,
which embeds any file in the PDF. Its default fetcher opens ``file:`` anywhere on the disk and any host on
the network, so one value that escaped its context in a template (a site title closing ``<style>``) could
publish ``/etc/passwd`` as an attachment. Escaping is the first wall; this fetcher is the second, and the
only door WeasyPrint has:

- ``file:`` only when the real path (symlinks resolved) lies inside one of the allowed roots (the theme
  chain's folders and the site folder), is a regular file, is not hidden (no ``.name`` component below the
  root: ``.git``, ``.env``, digest's own records) and is at most :data:`LOCAL_MAX_BYTES`;
- ``data:`` (the document's own bytes, already in memory);
- ``http(s)`` only with ``[network] fetch_images = true``, through the EPUB's checked fetch (public
  addresses only unless allowed, every redirect checked, timeout, size cap, image types only);
- everything else (``ftp:``, ``file://otherhost/``, …) is refused.

A refusal raises :class:`Refused` (a ``ValueError``): WeasyPrint leaves the resource out and logs it; the
refused URLs are also kept on the fetcher so that a build can report them. :class:`FetchPolicy` is the
picklable description handed to worker processes; :meth:`FetchPolicy.fetcher` builds the fetcher there.
"""
from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint import URLFetcher
from weasyprint.urls import URLFetcherResponse

from digest.config.settings import NetworkSettings, Settings

LOCAL_MAX_BYTES = 50_000_000
_LOCAL_HOSTS = ("", "localhost")


class Refused(ValueError):
    """A URL the PDF may not read; the message says why (one line)."""


@dataclass(frozen=True)
class FetchPolicy:
    """What the PDF may read: files under ``roots`` (absolute, resolved) and, if ``remote``, public images."""

    roots: tuple[str, ...]
    remote: bool = False
    allow_private: bool = False
    timeout: float = 10.0
    max_bytes: int = 5_000_000

    def fetcher(self) -> SiteFetcher:
        return SiteFetcher(self)


def policy_for(settings: Settings, theme_dirs: Iterable[Path]) -> FetchPolicy:
    """The policy of one build: the site folder and the theme chain's folders (``Theme.dirs`` and the
    folders reachable as ``NAME:path``), with the site's ``[network]`` settings."""
    roots = sorted({str(Path(d).resolve()) for d in (settings.site_root, *theme_dirs)})
    net: NetworkSettings = settings.network
    return FetchPolicy(tuple(roots), remote=net.fetch_images, allow_private=net.allow_private,
                       timeout=net.timeout, max_bytes=net.max_bytes)


class SiteFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type information
    """WeasyPrint's fetcher interface (it must be a ``URLFetcher``), with :class:`FetchPolicy` deciding."""

    def __init__(self, policy: FetchPolicy):
        super().__init__(timeout=policy.timeout, allow_redirects=False)
        self.policy = policy
        self.refused: list[str] = []  # one line per refused URL, in the order asked

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        try:
            return self._fetch(url)
        except Refused as e:
            self.refused.append(str(e))
            raise

    def _fetch(self, url: str) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url)
        if scheme == "file":
            path = self.local_path(url)
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})
        if scheme in ("http", "https"):
            return self._remote(url)
        raise Refused(f"not read (only the site's and the theme's files): {_short(url)}")

    def local_path(self, url: str) -> Path:
        """The file a ``file:`` URL names, if the policy allows it; else :class:`Refused`."""
        parts = urlsplit(url)
        if parts.netloc.lower() not in _LOCAL_HOSTS:
            raise Refused(f"not read (a file on another host): {_short(url)}")
        try:
            path = Path(url2pathname(unquote(parts.path))).resolve()
        except (OSError, ValueError, RuntimeError):
            raise Refused(f"not read (not a usable path): {_short(url)}") from None
        root = next((Path(r) for r in self.policy.roots if path.is_relative_to(r)), None)
        if root is None:
            raise Refused(f"not read (outside the site and the theme): {_short(url)}")
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            raise Refused(f"not read (a hidden file): {_short(url)}")
        try:
            st = path.stat()
        except OSError:
            raise Refused(f"not found: {_short(url)}") from None
        if not path.is_file():
            raise Refused(f"not read (not a regular file): {_short(url)}")
        if st.st_size > LOCAL_MAX_BYTES:
            raise Refused(f"not read (over {LOCAL_MAX_BYTES:,} bytes): {_short(url)}")
        return path

    def _remote(self, url: str) -> URLFetcherResponse:
        if not self.policy.remote:
            raise Refused(f"remote file not fetched (network.fetch_images is off): {_short(url)}")
        from digest.editions.epub import images  # the one checked fetch of the package

        try:
            data = images.fetch(url, timeout=self.policy.timeout, max_bytes=self.policy.max_bytes,
                                allow_private=self.policy.allow_private)
        except images.Refused as e:
            raise Refused(str(e)) from None
        return URLFetcherResponse(url, data, {})


def _short(url: str, limit: int = 200) -> str:
    """A URL fit for one line of a report: no line breaks or control characters, bounded length."""
    clean = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in url)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"
