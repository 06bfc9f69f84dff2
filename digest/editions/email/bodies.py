"""Whole articles in the email, made for mail clients: formulas as PNG and the site's own images travel
inside the message (``multipart/related`` parts referred to by ``cid:``, which Gmail, Outlook and Apple
Mail show, where they drop SVG, MathML and ``data:`` images); a remote image becomes the honest note the
EPUB and the PDF show (a scraped post's images are not fetched, nor left to track the reader; never a
link inside a link), and the body is tidied as in every edition (:mod:`digest.editions.reading`); code
keeps its token classes, whose colours css-inline writes into each span.

The ``.email.html`` file written beside the message is for a browser: there the same parts are ``data:``
URLs.
"""
from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from digest.config.settings import Settings
from digest.editions import reading
from digest.editions.drawn_maths import Drawing, Png, png_image, replace_formulas
from digest.editions.epub.images import Images, Refused, compress
from digest.model import Post

FONT_PX = 15.0  # the email's body text size: formulas are drawn to match it
IMAGE_WIDTH = 1104  # pixels: the 552-pixel text column at twice the density, for sharp screens
_CID = re.compile(r'"cid:([^"]+)"')


@dataclass(frozen=True)
class Part:
    """A file inside the message (an image a body shows), referred to as ``cid:<cid>``."""

    cid: str
    mime: str
    data: bytes


@dataclass
class EmailBodies:
    """Each post's body made for the email, and the parts they refer to."""

    settings: Settings
    labels: dict[str, str]
    parts: dict[str, Part] = field(default_factory=dict)
    _bodies: dict[str, str] = field(default_factory=dict)
    _images: Images | None = None

    def body(self, post: Post) -> str:
        if post.id not in self._bodies:
            self._bodies[post.id] = self._tidied(post, replace_formulas(post.html, self._formula))
        return self._bodies[post.id]

    def _formula(self, tex: str, display: bool, drawing: Drawing) -> str:
        pngs: dict[str, Png] = {}
        out = png_image(tex, display, drawing, font_px=FONT_PX, pngs=pngs)
        for png in pngs.values():
            self.parts.setdefault(png.cid, Part(png.cid, "image/png", png.data))
        return out

    def _tidied(self, post: Post, fragment: str) -> str:
        if not fragment.strip():
            return fragment
        root = reading.parse(fragment)
        packed: set[str] = set()
        reading.tidy_tree(root, post, self.labels, lambda src: self._packed(src, packed))
        for img in root.iter("img"):
            if img.get("src") in packed:
                img.set("style", "max-width:100%;height:auto;border:0")
                img.set("alt", " ".join((img.get("alt") or "").split()))
        return reading.serialize(root)

    def _packed(self, src: str, packed: set[str]) -> str | None:
        """``cid:`` of the site's image as a part of the message; a formula's kept; else None (a note)."""
        if src.startswith("cid:"):
            return src  # a formula drawn above
        try:
            path = self._local(src)
            if path is None or not path.is_file():
                return None
            data = compress(path.read_bytes(), max_width=IMAGE_WIDTH, quality=80, what=src)
        except (Refused, OSError):
            return None
        cid = f"img-{hashlib.sha256(data.data).hexdigest()[:16]}@digest"
        self.parts.setdefault(cid, Part(cid, data.media_type, data.data))
        packed.add(f"cid:{cid}")
        return f"cid:{cid}"

    def _local(self, src: str) -> Path | None:
        if self._images is None:
            self._images = Images(self.settings)
        return self._images.local_path(src)


def with_data_urls(text: str, parts: dict[str, Part]) -> str:
    """The HTML with each ``cid:`` reference as a ``data:`` URL (for the file a browser opens)."""
    def one(m: re.Match[str]) -> str:
        part = parts.get(m[1])
        if part is None:
            return m[0]
        return f'"data:{part.mime};base64,{base64.b64encode(part.data).decode("ascii")}"'
    return _CID.sub(one, text) if "cid:" in text else text
