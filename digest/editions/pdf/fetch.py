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
