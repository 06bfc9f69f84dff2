"""Post bodies as EPUB XHTML: sanitised HTML fragments made well-formed XML, their images packaged or replaced."""
from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from html import escape as html_escape
from typing import Any
from xml.parsers import expat

from lxml import etree
from lxml import html as lxml_html

from digest.config.settings import Settings
from digest.editions.epub.images import Images, Refused
from digest.model import Digest, Post, Section

XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# HTML5 void elements libxml2's HTML parser (HTML 4) does not know: written ``<wbr>``, it would hold the text that
# follows (``<wbr>text</wbr>``, which EPUBCheck refuses); written ``<wbr/>``, libxml2 closes it.
_VOID5 = re.compile(r"<(wbr)((?:\s+[^\s\"'>/=]+(?:=\"[^\"]*\")?)*)\s*>")
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

    def __init__(self, settings: Settings, labels: dict[str, str]):
        self.images = Images(settings)
        self.labels = labels
        self.remote_skipped = 0

    def convert(self, post: Post) -> str:
        html = XML_BAD.sub("", post.html)
        if not html.strip():
            return ""
        if "<img" not in html and xml_error(f"<div>{html}</div>".encode()) is None:
            return html  # already well-formed XML (no void tags, no HTML-only entities): use it as is
        root = lxml_html.fragment_fromstring(_VOID5.sub(r"<\1\2/>", html), create_parent="div")
        for img in list(root.iter("img")):
            self._image(img, post)
        parts = [html_escape(root.text or "", quote=False)]
        parts.extend(etree.tostring(child, encoding="unicode", method="xml") for child in root)
        return "".join(parts)

    def _image(self, img: Any, post: Post) -> None:
        src = (img.get("src") or "").strip()
        alt = " ".join((img.get("alt") or "").split())
        try:
            if not src:
                raise Refused("image without a source")
            packed = self.images.pack(src)
        except Refused as e:
            remote = src.startswith(("http://", "https://")) and not self._is_local(src)
            if remote and not self.images.settings.network.fetch_images:
                self.remote_skipped += 1
            else:
                log.warning("%s: %s", post.path, e)
            text = self.labels["image_alt"].format(alt=alt) if alt else self.labels["image"]
            new = lxml_html.Element("a" if remote else "span")
            new.set("class", "image-link" if remote else "image-alt")
            if remote:
                new.set("href", src)
            new.text = text
            new.tail = img.tail
            img.getparent().replace(img, new)
            return
        for attr in ("width", "height"):
            img.attrib.pop(attr, None)
        img.set("src", packed.name)
        img.set("alt", alt)

    def _is_local(self, src: str) -> bool:
        try:
            return self.images.local_path(src) is not None
        except Refused:
            return True


def convert_each(digest: Digest, bodies: Bodies) -> Iterator[Section]:
    """The digest's sections one at a time, every post body as XHTML: only one section's converted bodies
    exist at once."""
    for s in digest.sections:
        yield replace(s, posts=tuple(replace(p, html=bodies.convert(p)) for p in s.posts))
    if bodies.remote_skipped:
        log.info("%s: %d remote images not fetched (network.fetch_images is off); alt text and links kept",
                 digest.slug, bodies.remote_skipped)
