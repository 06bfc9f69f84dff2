"""The PDF's bodies as a reader sees them: tidied (:mod:`digest.editions.reading`), with the images WeasyPrint
can draw and an honest note for the others.

WeasyPrint reads ``file:`` URLs only (and http(s) when ``network.fetch_images`` is on): a site image found
under the site folder is given as its file; a remote image that will not be fetched, or a local one that
is missing or outside the site, becomes the note ("图片未收录，原文可见") instead of a bare alt text.
"""
from __future__ import annotations

from pathlib import Path

from digest.config.settings import Settings
from digest.editions.epub.images import Images, Refused
from digest.editions.reading import ImagePolicy, for_reading
from digest.model import Digest


def image_policy(settings: Settings) -> ImagePolicy:
    finder = Images(settings)
    fetch = settings.network.fetch_images

    def decide(src: str) -> str | None:
        try:
            path = finder.local_path(src)
        except Refused:
            return None
        if path is not None:
            return path.as_uri() if path.is_file() else None
        return src if fetch and src.startswith(("http://", "https://")) else None

    return decide


def prepare(digest: Digest, settings: Settings, labels: dict[str, str], folder: Path | None = None) -> Digest:
    return for_reading(digest, labels, image_policy(settings), folder)
