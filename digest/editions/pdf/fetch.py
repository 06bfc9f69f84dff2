"""What WeasyPrint may read while it lays out the PDF: the site's own files and the theme's, nothing else.

A post's images are written as the site's URLs (``https://site/assets/x.png``, with the baseurl,
percent-encoded names and all): they are served from the files they stand for inside the site folder,
scaled to the page and recompressed as in the EPUB. ``file:`` URLs outside the site and the theme are
refused; so is the network, unless ``network.fetch_images`` is on (then with the EPUB's checks: http(s),
public addresses, a timeout and a size cap). ``data:`` URLs are digest's own (formulas as SVG).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname


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


def inside(path: Path, roots: tuple[str, ...]) -> bool:
    return any(path == Path(r) or path.is_relative_to(r) for r in roots)


def local_file(url: str, rules: FetchRules, base: Path | None = None) -> Path | None:
    """The file a ``file:`` URL, a site URL or (with ``base``) a relative path stands for, when it is inside
    the allowed folders; else ``None`` (the fetcher's rule, and what a PDF piece's cache key watches)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        path = Path(url2pathname(parts.path)).resolve()
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
    return path if inside(path, rules.roots) and path.is_file() else None
