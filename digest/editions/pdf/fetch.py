"""What WeasyPrint may read while it lays out the PDF: the site's own files and the theme's, nothing else.

WeasyPrint follows every URL a document names — an image, a stylesheet, a font, and ``<link rel=attachment>``,
which embeds any file in the PDF. Its default fetcher opens ``file:`` anywhere on the disk and any host on
the network, so one value that escaped its context in a template could publish ``/etc/passwd`` as an
attachment. Escaping is the first wall; these rules are the second, and WeasyPrint's only door:

- a post's images are written as the site's URLs (``https://site/assets/x.png``, with the baseurl,
  percent-encoded names and all): they are served from the files they stand for inside the site folder;
- ``file:`` only when the real path (symlinks resolved) lies inside one of the allowed roots (the site
  folder and the theme chain's folders), is a regular file, is not hidden (no ``.name`` component below the
  root: ``.git``, ``.env``, digest's own records) and is on this host;
- ``data:`` (digest's own: formulas as SVG);
- other ``http(s)`` only with ``network.fetch_images``, through the EPUB's checked fetch (public addresses
  unless allowed, a timeout and a size cap); everything else (``ftp:``, ``file://otherhost/``…) is refused.

This module is light (no WeasyPrint): a PDF piece's cache key watches the same files (:func:`local_file`).
The fetcher itself is :class:`digest.editions.pdf.fetcher.SiteFetcher`.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from digest.config.settings import Settings

_LOCAL_HOSTS = ("", "localhost")


class Refused(ValueError):
    """A URL the PDF may not read; the message says why (one line)."""


@dataclass(frozen=True)
class FetchRules:
    """Picklable: each layout worker builds its own fetcher from these."""

    site_root: str  # resolved
    site_url: str  # the site's URL with its baseurl, no trailing slash ("" when unknown)
    roots: tuple[str, ...]  # folders whose files may be read: the site, the theme chain
    remote: bool = False  # network.fetch_images
    allow_private: bool = False
    timeout: float = 10.0
    max_bytes: int = 5_000_000
    image_max_width: int = 1600  # pixels: about 300 dpi across an A4 text column
    image_quality: int = 85


def rules_for(settings: Settings, theme_dirs: Iterable[Path]) -> FetchRules:
    """The rules of one build: the site folder and the theme chain's folders (``Theme.dirs`` and those
    reachable as ``NAME:path``), with the site's ``[network]`` settings."""
    net = settings.network
    root = settings.site_root.resolve()
    roots = tuple(sorted({str(root), *(str(Path(d).resolve()) for d in theme_dirs)}))
    return FetchRules(site_root=str(root), site_url=settings.site_url, roots=roots, remote=net.fetch_images,
                      allow_private=net.allow_private, timeout=net.timeout, max_bytes=net.max_bytes)


def short(url: str, limit: int = 200) -> str:
    """A URL fit for one line of a report: no line breaks or control characters, bounded length."""
    clean = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in url)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def local_path(url: str, rules: FetchRules, base: Path | None = None) -> Path | None:
    """The file a ``file:`` URL, a site URL or (with ``base``) a relative path stands for, checked as above;
    ``None`` when the URL names no local file (another host, another scheme); :class:`Refused` when it names
    one that may not be read."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        if scheme == "file":
            if parts.netloc.lower() not in _LOCAL_HOSTS:
                raise Refused(f"not read (a file on another host): {short(url)}")
            path = Path(url2pathname(unquote(parts.path))).resolve()
        elif scheme in ("http", "https") and rules.site_url:
            site = urlsplit(rules.site_url)
            prefix = site.path.rstrip("/") + "/"
            if parts.netloc.lower() != site.netloc.lower() or not parts.path.startswith(prefix):
                return None
            path = (Path(rules.site_root) / unquote(parts.path[len(prefix):])).resolve()
        elif not scheme and base is not None and not parts.netloc:
            path = (base / unquote(parts.path).lstrip("/")).resolve()
        else:
            return None
    except (OSError, ValueError, RuntimeError) as e:  # a loop of links, a NUL, a path too long
        if isinstance(e, Refused):
            raise
        raise Refused(f"not read (not a usable path): {short(url)}") from None
    return _allowed(path, rules, url)


def _allowed(path: Path, rules: FetchRules, url: str) -> Path:
    root = next((Path(r) for r in rules.roots if path == Path(r) or path.is_relative_to(r)), None)
    if root is None:
        raise Refused(f"not read (outside the site and the theme): {short(url)}")
    if any(part.startswith(".") for part in path.relative_to(root).parts):
        raise Refused(f"not read (a hidden file): {short(url)}")
    try:
        regular = path.is_file()
    except OSError:
        regular = False
    if not path.exists():
        raise Refused(f"not found: {short(url)}")
    if not regular:
        raise Refused(f"not read (not a regular file): {short(url)}")
    return path


def local_file(url: str, rules: FetchRules, base: Path | None = None) -> Path | None:
    """:func:`local_path`, with ``None`` for a refused file too (what a PDF piece's cache key watches)."""
    try:
        return local_path(url, rules, base)
    except Refused:
        return None
