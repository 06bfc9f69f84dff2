"""Whole articles in the email, made for mail clients: formulas as PNG and the site's own images travel
inside the message (``multipart/related`` parts referred to by ``cid:``, which Gmail, Outlook and Apple
Mail show, where they drop SVG, MathML and ``data:`` images); remote images become links (a scraped post's
images are not fetched, nor left to track the reader); code keeps its token classes, whose colours
css-inline writes into each span.

The ``.email.html`` file written beside the message is for a browser: there the same parts are ``data:``
URLs.
"""
from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from digest.config.settings import Settings
from digest.editions.drawn_maths import Drawing, Png, png_image, replace_formulas
from digest.editions.epub.images import Images, Refused, compress
from digest.model import Post

FONT_PX = 15.0  # the email's body text size: formulas are drawn to match it
IMAGE_WIDTH = 1104  # pixels: the 552-pixel text column at twice the density, for sharp screens
_IMG = re.compile(r"<img\b[^>]*>")
_ATTR = re.compile(r'\s(src|alt)="([^"]*)"')
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
            self._bodies[post.id] = _IMG.sub(self._image, replace_formulas(post.html, self._formula))
        return self._bodies[post.id]

    def _formula(self, tex: str, display: bool, drawing: Drawing) -> str:
        pngs: dict[str, Png] = {}
        out = png_image(tex, display, drawing, font_px=FONT_PX, pngs=pngs)
        for png in pngs.values():
            self.parts.setdefault(png.cid, Part(png.cid, "image/png", png.data))
        return out

    def _image(self, m: re.Match[str]) -> str:
        attrs = {k: html.unescape(v) for k, v in _ATTR.findall(m[0])}
        src, alt = attrs.get("src", ""), " ".join(attrs.get("alt", "").split())
        if src.startswith("cid:"):
            return m[0]  # a formula drawn above
        text = self.labels["image_alt"].format(alt=alt) if alt else self.labels["image"]
        try:
            path = self._local(src)
        except Refused:
            path = None
        if path is None or not path.is_file():
            shown = html.escape(text)
            link = f'<a href="{html.escape(src)}">{shown}</a>' if src.startswith("http") else shown
            return f'<span class="image-link">{link}</span>'
        try:
            packed = compress(path.read_bytes(), max_width=IMAGE_WIDTH, quality=80, what=src)
        except (Refused, OSError):
            return f'<span class="image-alt">{html.escape(text)}</span>'
        cid = f"img-{hashlib.sha256(packed.data).hexdigest()[:16]}@digest"
        self.parts.setdefault(cid, Part(cid, packed.media_type, packed.data))
        return f'<img src="cid:{cid}" alt="{html.escape(alt)}" style="max-width:100%;height:auto;border:0">'

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
