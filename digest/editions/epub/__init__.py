"""The EPUB edition: an EPUB 3 (with an EPUB 2 NCX for older readers) laid out like a periodical."""
from __future__ import annotations

import logging
import posixpath
import zipfile
from pathlib import Path
from typing import ClassVar

from digest.editions.base import Edition, Output, WriteContext, output_path
from digest.editions.epub.options import EpubOptions
from digest.model import Digest
from digest.runtime.files import atomic_path

log = logging.getLogger("digest.epub")
COVER_TYPES = (".jpg", ".jpeg", ".png")


class EpubEdition(Edition):
    name = "epub"
    label = "EPUB"
    outputs: ClassVar[tuple[Output, ...]] = (Output(".epub", "application/epub+zip", primary=True),)
    options = EpubOptions
    for_readers = True
    order = 10
    preload = ("digest.editions.epub.book", "lxml.etree", "PIL.Image")

    def write(self, digest: Digest, ctx: WriteContext) -> list[Path]:
        """The issue's book, written as it is made; one over ``epub.max_size_mb`` is made again to fit
        (smaller images, then numbered parts: ``2021-12-08.epub`` is part 1, ``2021-12-08.part2.epub``
        part 2…)."""
        from digest.editions.epub.book import write_to
        from digest.editions.epub.fit import too_big_by_its_text

        first = output_path(ctx.settings, digest, ctx.out_dir, self.primary.suffix)
        limit = ctx.settings.options(EpubOptions).max_size_mb
        if too_big_by_its_text(digest, int(limit * 1024 * 1024)):
            return self._done(first, self._fit(digest, ctx, first, limit, written=False))
        with atomic_path(first) as tmp, open(tmp, "wb") as f:
            write_to(digest, ctx, f)
        paths = [first]
        if first.stat().st_size > limit * 1024 * 1024:
            paths = self._fit(digest, ctx, first, limit)
        return self._done(first, paths)

    @staticmethod
    def _done(first: Path, paths: list[Path]) -> list[Path]:
        """``paths``, with the parts of an earlier, bigger build of this issue removed."""
        for stale in first.parent.glob(f"{first.stem}.part*{first.suffix}"):
            if stale not in paths:
                stale.unlink()
        return paths

    @staticmethod
    def _fit(digest: Digest, ctx: WriteContext, first: Path, limit: float, written: bool = True) -> list[Path]:
        from digest.editions.epub.fit import shrink

        fitted = shrink(digest, ctx, first, written=written)
        done = [f"images scaled down to 1/{2 ** fitted.scaled} of epub.image_max_width"] if fitted.scaled else []
        if len(fitted.books) > 1:
            done.append(f"the issue split into {len(fitted.books)} parts")
        log.warning("%s: above %g MB (the Send-to-Kindle limit): %s", first, limit,
                    ", and ".join(done) or "it cannot be made smaller")
        if fitted.too_big:
            log.warning("%s: an article is above %g MB on its own; its part is still too big for Send-to-Kindle",
                        first, limit)
        return list(fitted.books)

    def cover(self, files: list[Path]) -> tuple[bytes, str] | None:
        """The cover image inside the EPUB: the EPUB 3 ``cover-image`` item, else the EPUB 2 ``cover`` meta."""
        epub = next((f for f in files if f.suffix == ".epub"), None)
        return None if epub is None else cover_of(epub)


def cover_of(epub: Path) -> tuple[bytes, str] | None:
    from lxml import etree

    try:
        with zipfile.ZipFile(epub) as z:
            container = etree.fromstring(z.read("META-INF/container.xml"))
            rootfile = container.find(".//{*}rootfile")
            opf_path = rootfile.get("full-path") if rootfile is not None else None
            if opf_path is None:
                return None
            opf = etree.fromstring(z.read(opf_path))
            items = opf.findall(".//{*}manifest/{*}item")
            item = next((i for i in items if "cover-image" in (i.get("properties") or "").split()), None)
            if item is None:
                meta = next((m for m in opf.iter("{*}meta") if m.get("name") == "cover"), None)
                if meta is not None:
                    item = next((i for i in items if i.get("id") == meta.get("content")), None)
            if item is None or item.get("href") is None:
                return None
            href = posixpath.normpath(posixpath.join(posixpath.dirname(opf_path), str(item.get("href"))))
            ext = Path(href).suffix.lower()
            if ext not in COVER_TYPES:
                return None
            return z.read(href), ext
    except (OSError, KeyError, AttributeError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return None


EDITION = EpubEdition
