"""Post bodies as EPUB XHTML: sanitised HTML fragments made well-formed XML, their images packaged or replaced."""
from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from xml.parsers import expat

from digest.config.settings import Settings
from digest.editions import reading
from digest.editions.epub.images import Images, Refused
from digest.editions.epub.options import EpubOptions
from digest.model import Digest, Post, Section
from digest.runtime.spill import Spill

XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
log = logging.getLogger("digest.epub")


def xml_error(data: bytes) -> str | None:
    """Why ``data`` is not well-formed XML (``None``: it is). expat: fast, builds no tree, fetches nothing."""
    parser = expat.ParserCreate()
    try:
        parser.Parse(data, True)
    except expat.ExpatError as e:
        return f"{expat.ErrorString(e.code)}, line {e.lineno}"
    return None


class Bodies:
    """Converts sanitised HTML fragments to XHTML, packaging or replacing their images."""

    def __init__(self, settings: Settings, labels: dict[str, str], options: EpubOptions | None = None):
        self.images = Images(settings, options)
        self.labels = labels
        self.remote_skipped = 0

    def convert(self, post: Post) -> str:
        html = XML_BAD.sub("", post.html)
        if not html.strip():
            return ""
        root = reading.parse(html)
        reading.tidy_tree(root, post, self.labels, lambda src: self._packed(src, post))
        for img in root.iter("img"):
            for attr in ("width", "height"):
                img.attrib.pop(attr, None)
            img.set("alt", " ".join((img.get("alt") or "").split()))
        return reading.serialize(root, "xml")

    def _packed(self, src: str, post: Post) -> str | None:
        """The packaged image's name, or None: left out (a remote image not fetched is only counted)."""
        try:
            return self.images.pack(src).name
        except Refused as e:
            remote = src.startswith(("http://", "https://")) and not self._is_local(src)
            if remote and not self.images.settings.network.fetch_images:
                self.remote_skipped += 1
            else:
                log.warning("%s: %s", post.path, e)
            return None

    def _is_local(self, src: str) -> bool:
        try:
            return self.images.local_path(src) is not None
        except Refused:
            return True


def convert_each(digest: Digest, bodies: Bodies, folder: Path | None = None) -> Iterator[Section]:
    """The digest's sections one at a time, every post body as XHTML: only one section's converted bodies
    exist at once, and those past the memory budget wait in a temporary file in ``folder`` (a section of a
    huge day holds thousands)."""
    for s in digest.sections:
        spill = Spill(folder)
        yield replace(s, posts=tuple(replace(p, body_html=spill.keep(bodies.convert(p))) for p in s.posts))
        spill.done()
    if bodies.remote_skipped:
        log.info("%s: %d remote images not fetched (network.fetch_images is off); alt text and links kept",
                 digest.slug, bodies.remote_skipped)
