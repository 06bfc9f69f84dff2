"""Fitting an issue under ``epub.max_size_mb`` (50 MB by default: Send-to-Kindle refuses larger files).

A book over the limit is made again with its images scaled down further (half, then a quarter of
``image_max_width``, at a lower JPEG quality) when its images are what puts it over; if it is still too
big (or its text alone is), the issue is split into numbered parts, each a book of its own with its own
contents, cut between articles so that each part fits. An article too big to fit alone still gets a part of
its own, and the build says so: never silently too big. Every book is written to its file as it is made:
a huge day's book (hundreds of megabytes) is never held in memory.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from digest.editions.base import WriteContext
from digest.editions.epub.book import write_to
from digest.editions.epub.images import Images, Refused
from digest.editions.epub.options import EpubOptions
from digest.editions.reading import with_sections
from digest.model import Digest, Post, Section
from digest.runtime.files import TEMP_PREFIX, TEMP_SUFFIX, atomic_path
from digest.runtime.spill import size_of

log = logging.getLogger("digest.epub")
_SRC = re.compile(r"""<img\b[^>]*?\bsrc="([^"]*)\"""")
SCALES = ((2, 60), (4, 45))  # image_max_width divided by, JPEG quality
MIN_RATIO = 0.1  # XHTML prose never compresses below a tenth of its size in the zip (Chinese: about a half)
SAMPLE_BYTES = 4 * 2**20  # text of the book measured for cutting a huge issue into parts
OVERHEAD = 0.9  # a part is planned to this share of the limit: the cover, styles and documents come on top
_PER_ARTICLE = (".xhtml", ".ncx", ".opf")  # the documents that grow with the articles a part holds


@dataclass(frozen=True)
class Fitted:
    books: tuple[Path, ...]  # one, or the numbered parts in order, written
    scaled: int  # 0: images as configured; n: the n-th step of SCALES
    too_big: bool  # some part is still over the limit (an article bigger than it on its own)


def too_big_by_its_text(digest: Digest, limit: int) -> bool:
    """Whether the issue's text alone, however well it compresses, is over ``limit`` bytes (a day of tens of
    thousands of posts): then its book is not made whole only to learn that, its parts are made at once."""
    return sum(size_of(p.body_html) for p in digest) * MIN_RATIO > limit


def shrink(digest: Digest, ctx: WriteContext, first: Path, *, written: bool = True) -> Fitted:
    """The book(s) of an issue whose book as configured (written at ``first``, unless not ``written``: its
    text alone is over) was too big: smaller images, then parts. Each candidate is written to its file as it
    is made and measured there: a book of a huge day (hundreds of megabytes) is never held in memory, and
    smaller images are tried only when the book's images are what puts it over the limit."""
    options = ctx.settings.options(EpubOptions)
    limit = int(options.max_size_mb * 1024 * 1024)
    if not written:
        with _sample(digest, ctx, options, first) as (sample, sampled):
            return _parts(digest, ctx, first, options, (sample, sampled), 0)
    images = _image_bytes(first)
    smaller, scaled = options, 0
    for step, (divide, quality) in enumerate(SCALES, 1):
        smaller = options.model_copy(update={"image_max_width": max(200, options.image_max_width // divide),
                                             "image_quality": min(options.image_quality, quality)})
        scaled = step if images else 0
        if first.stat().st_size - images > limit:
            continue  # the book without its articles' images is over: smaller ones cannot make it fit
        if _write(first, digest, ctx, smaller) <= limit:
            return Fitted((first,), step, False)
    return _parts(digest, ctx, first, smaller, (first, digest), scaled)


def _parts(digest: Digest, ctx: WriteContext, first: Path, options: EpubOptions, measured: tuple[Path, Digest],
           scaled: int) -> Fitted:
    """The issue in numbered parts, cut by what its articles take in a book of them (``measured``: the book and
    what it holds: the whole issue, or its first articles); part 1 is written at ``first``."""
    limit = int(options.max_size_mb * 1024 * 1024)
    book, held = measured
    ratio, fixed = _text_ratio(book), _fixed_bytes(book) + _image_bytes(book, cover=True)
    text = sum(size_of(p.body_html) for p in held)
    each = max(0, book.stat().st_size - fixed - _image_bytes(book) - int(text * ratio)) // max(1, held.count)
    weights = _weights(digest, ctx, options, ratio, each)
    budget = int(limit * OVERHEAD) - fixed
    parts = split(digest, weights, budget)
    books = tuple(first.with_name(f"{first.stem}.part{n}{first.suffix}") if n > 1 else first
                  for n in range(1, len(parts) + 1))
    sizes = [_write(path, part, ctx, options, (n, len(parts)))
             for n, (path, part) in enumerate(zip(books, parts, strict=True), 1)]
    return Fitted(books, scaled, any(size > limit for size in sizes))


@contextlib.contextmanager
def _sample(digest: Digest, ctx: WriteContext, options: EpubOptions, first: Path) -> Iterator[tuple[Path, Digest]]:
    """A book of the issue's first articles (``SAMPLE_BYTES`` of text), in a temporary file beside ``first``
    (removed after; one left by ``kill -9`` is cleared as every temporary file of an output folder is)."""
    sections, used = [], 0
    for section in digest.sections:
        posts = []
        for post in section.posts:
            if used > SAMPLE_BYTES:
                break
            posts.append(post)
            used += size_of(post.body_html)
        if posts:
            sections.append(replace(section, posts=tuple(posts)))
    first.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{first.name}.", suffix=TEMP_SUFFIX, dir=first.parent)
    try:
        sampled = with_sections(digest, tuple(sections))
        with os.fdopen(fd, "wb") as f:
            write_to(sampled, ctx, f, options)
        yield Path(name), sampled
    finally:
        Path(name).unlink(missing_ok=True)


def _write(path: Path, digest: Digest, ctx: WriteContext, options: EpubOptions,
           part: tuple[int, int] | None = None) -> int:
    """Write the book (or part) to ``path``, replacing it whole; its size."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        write_to(digest, ctx, f, options, part)
    return path.stat().st_size


def _image_bytes(book: Path, *, cover: bool = False) -> int:
    """Bytes the book's images take in it: the articles' (or, with ``cover``, the cover's: each part carries
    the issue's cover)."""
    with zipfile.ZipFile(book) as z:
        return sum(i.compress_size for i in z.infolist()
                   if "/images/" in i.filename and ("/images/cover." in i.filename) == cover)


def _fixed_bytes(book: Path) -> int:
    """Room every part takes whatever its articles: the styles, fonts and the package's own files (the heads of
    its contents, navigation and manifest: their entries are counted with the articles)."""
    with zipfile.ZipFile(book) as z:
        return 4 * 1024 + sum(i.compress_size for i in z.infolist()
                              if not i.filename.endswith(_PER_ARTICLE) and "/images/" not in i.filename)


def _text_ratio(book: Path) -> float:
    """How much the book's documents shrink in its zip (about a half for Chinese text, a quarter for English):
    an article weighs its compressed text, so that parts come out near the limit, not at half of it."""
    with zipfile.ZipFile(book) as z:
        docs = [i for i in z.infolist() if i.filename.endswith(".xhtml")]
        return sum(i.compress_size for i in docs) / max(1, sum(i.file_size for i in docs))


def _weights(digest: Digest, ctx: WriteContext, options: EpubOptions, ratio: float, each: int) -> dict[str, int]:
    """Bytes each article adds to a book: its text (compressed by ``ratio``), what every article adds besides
    (``each``: its pager, its entries in the contents, section page, navigation, manifest and zip, as measured),
    and the images it packs (scaled as ``options`` say)."""
    images = Images(ctx.settings, options)
    out: dict[str, int] = {}
    for post in digest.posts:
        size = int(size_of(post.body_html) * ratio) + each
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
