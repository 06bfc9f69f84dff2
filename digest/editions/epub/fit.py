"""Fitting an issue under ``epub.max_size_mb`` (50 MB by default: Send-to-Kindle refuses larger files).

A book over the limit is made again with its images scaled down further (half, then a quarter of
``image_max_width``, at a lower JPEG quality); if it is still too big, the issue is split into numbered
parts, each a book of its own with its own contents, cut between articles so that each part fits. An
article too big to fit alone still gets a part of its own, and the build says so: never silently too big.
"""
from __future__ import annotations

import contextlib
import io
import logging
import re
import zipfile
from dataclasses import dataclass, replace

from digest.editions.base import WriteContext
from digest.editions.epub.book import render
from digest.editions.epub.images import Images, Refused
from digest.editions.epub.options import EpubOptions
from digest.editions.reading import with_sections
from digest.model import Digest, Post, Section

log = logging.getLogger("digest.epub")
_SRC = re.compile(r"""<img\b[^>]*?\bsrc="([^"]*)\"""")
SCALES = ((2, 60), (4, 45))  # image_max_width divided by, JPEG quality
OVERHEAD = 0.9  # a part is planned to this share of the limit: the cover, styles and documents come on top


@dataclass(frozen=True)
class Fitted:
    books: tuple[bytes, ...]  # one, or the numbered parts in order
    scaled: int  # 0: images as configured; n: the n-th step of SCALES
    too_big: bool  # some part is still over the limit (an article bigger than it on its own)


def shrink(digest: Digest, ctx: WriteContext) -> Fitted:
    """The book(s) of an issue whose book as configured was too big: smaller images, then parts."""
    options = ctx.settings.options(EpubOptions)
    limit = int(options.max_size_mb * 1024 * 1024)
    smaller, data = options, b""
    for step, (divide, quality) in enumerate(SCALES, 1):
        smaller = options.model_copy(update={"image_max_width": max(200, options.image_max_width // divide),
                                             "image_quality": min(options.image_quality, quality)})
        data = render(digest, ctx, smaller)
        if len(data) <= limit:
            return Fitted((data,), step, False)
    parts = split(digest, _weights(digest, ctx, smaller), int(limit * OVERHEAD) - _cover_bytes(data))
    books = tuple(render(p, ctx, smaller, (i, len(parts))) for i, p in enumerate(parts, 1))
    return Fitted(books, len(SCALES), any(len(b) > limit for b in books))


def _cover_bytes(data: bytes) -> int:
    """Room the cover image takes in every part (each part carries the issue's cover)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = [n for n in z.namelist() if "/images/cover." in n]
        return z.getinfo(names[0]).compress_size if names else 0


def _weights(digest: Digest, ctx: WriteContext, options: EpubOptions) -> dict[str, int]:
    """Bytes each article adds to a book: its text and the images it packs (scaled as ``options`` say)."""
    images = Images(ctx.settings, options)
    out: dict[str, int] = {}
    for post in digest.posts:
        size = len(post.html.encode("utf-8")) + 2000  # the article's document, pager and navigation entries
        for src in dict.fromkeys(_SRC.findall(post.html)):
            with contextlib.suppress(Refused):  # left out: a note, a few bytes
                size += len(images.pack(src.replace("&amp;", "&")).data)
        out[post.id] = size
    return out


def split(digest: Digest, weights: dict[str, int], budget: int) -> list[Digest]:
    """The issue cut into parts of at most ``budget`` bytes each (by the articles' weights), in reading
    order; a section spread over two parts appears in both, with its own articles in each."""
    parts: list[list[Section]] = [[]]
    used = 0
    for section in digest.sections:
        run: list[Post] = []
        for post in section.posts:
            w = weights[post.id]
            if used + w > budget and (run or parts[-1]):
                if run:
                    parts[-1].append(replace(section, posts=tuple(run)))
                parts.append([])
                run, used = [], 0
            run.append(post)
            used += w
        if run:
            parts[-1].append(replace(section, posts=tuple(run)))
    return [with_sections(digest, tuple(p)) for p in parts if p]
