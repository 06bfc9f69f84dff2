"""Images of the EPUB edition.

Local images (a site-URL or site-relative ``src`` that maps to a file under the site root) are
packaged: scaled down to the e-reader width and recompressed. Anything resolving outside the site
root is refused. Remote images are not fetched unless ``network.fetch_images`` is set; the fetch
then has a timeout, a size cap, a content-type check, and refuses loopback/private addresses
(unless ``network.allow_private``), also after redirects.
"""
from __future__ import annotations

import hashlib
import io
import ipaddress
import socket
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from digest.config.settings import Settings
from digest.editions.epub.options import EpubOptions

LOCAL_MAX_BYTES = 50_000_000
_FORMATS = {"JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"}
_CONTENT_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff"}


class Refused(Exception):
    """An image that is not packaged; the message says why (one line)."""


@dataclass(frozen=True)
class Packed:
    name: str  # path inside the EPUB folder, e.g. ``images/3f2a….jpg``
    media_type: str
    data: bytes


@dataclass
class Images:
    """Packs the images of one issue; each source is processed once, identical results stored once."""

    settings: Settings
    options: EpubOptions | None = None  # default: the settings' [epub] table
    items: dict[str, Packed] = field(default_factory=dict)
    _seen: dict[str, Packed | Refused] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.options is None:
            self.options = self.settings.options(EpubOptions)

    def pack(self, src: str) -> Packed:
        """The packaged image for ``src``; raises :class:`Refused` (remote not fetched, outside, broken)."""
        if src not in self._seen:
            try:
                self._seen[src] = self._pack(src)
            except Refused as e:
                self._seen[src] = e
        got = self._seen[src]
        if isinstance(got, Refused):
            raise got
        return got

    def local_path(self, src: str) -> Path | None:
        """The file a site image URL stands for (``None``: not a site URL). Refuses paths outside the site."""
        parts = urlsplit(src)
        site = urlsplit(self.settings.site_url) if self.settings.site_url else None
        if parts.scheme in ("http", "https"):
            if site is None or parts.netloc.lower() != site.netloc.lower():
                return None
            prefix = site.path.rstrip("/") + "/"
            if not (parts.path + "/").startswith(prefix):
                return None
            rel = parts.path[len(prefix):]
        elif not parts.scheme and not parts.netloc and parts.path.startswith("/"):
            rel = parts.path.lstrip("/")
            base = (site.path if site else "").strip("/")
            if base and (rel + "/").startswith(base + "/"):
                rel = rel[len(base) + 1:]
        else:
            return None
        root = self.settings.site_root.resolve()
        path = (root / unquote(rel)).resolve()
        if not path.is_relative_to(root) or path == root:
            raise Refused(f"image {src} points outside the site folder")
        return path

    def _pack(self, src: str) -> Packed:
        path = self.local_path(src)
        if path is not None:
            if not path.is_file():
                raise Refused(f"image not found: {path.relative_to(self.settings.site_root.resolve())}")
            if path.stat().st_size > LOCAL_MAX_BYTES:
                raise Refused(f"image too large: {path.name}")
            data = path.read_bytes()
        else:
            net = self.settings.network
            if not net.fetch_images:
                raise Refused(f"remote image not fetched: {src}")
            data = fetch(src, timeout=net.timeout, max_bytes=net.max_bytes, allow_private=net.allow_private)
        options = self.options or self.settings.options(EpubOptions)
        packed = compress(data, max_width=options.image_max_width, quality=options.image_quality, what=src)
        return self.items.setdefault(packed.name, packed)


def compress(data: bytes, *, max_width: int, quality: int, what: str = "image") -> Packed:
    """Scale to at most ``max_width`` pixels wide; JPEG for opaque images, PNG when there is transparency."""
    from PIL import Image, ImageOps  # here: a build with no images never loads Pillow

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                if im.format not in _FORMATS:
                    raise Refused(f"unsupported image format {im.format}: {what}")
                im.seek(0)
                im.load()
                frame = ImageOps.exif_transpose(im) or im
                alpha = frame.mode in ("RGBA", "LA", "PA") or "transparency" in frame.info
                frame = frame.convert("RGBA" if alpha else ("L" if frame.mode in ("1", "L", "I;16") else "RGB"))
                if frame.width > max_width:
                    height = max(1, round(frame.height * max_width / frame.width))
                    frame = frame.resize((max_width, height), Image.Resampling.LANCZOS)
                out = io.BytesIO()
                if alpha:
                    frame.save(out, "PNG", optimize=True)
                    ext, media = "png", "image/png"
                else:
                    frame.save(out, "JPEG", quality=quality, optimize=True)
                    ext, media = "jpg", "image/jpeg"
    except Refused:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise Refused(f"broken image {what}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    raw = out.getvalue()
    return Packed(f"images/{hashlib.sha256(raw).hexdigest()[:20]}.{ext}", media, raw)


def _check_host(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"image not fetched (only http and https): {url}")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as e:
        raise Refused(f"image not fetched ({e}): {url}") from None
    for info in infos:
        addr = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not addr.is_global:
            raise Refused(f"image not fetched (private or loopback address {addr}): {url}")


def fetch(url: str, *, timeout: float, max_bytes: int, allow_private: bool) -> bytes:
    """GET an image: http(s) only, public addresses only (unless allowed), capped and type-checked."""
    import urllib.error
    import urllib.request  # here: urllib.request costs start-up time and only an opt-in fetch needs it

    class CheckedRedirects(urllib.request.HTTPRedirectHandler):
        max_redirections = 5

        def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                             newurl: str) -> Any:
            _check_host(newurl, allow_private)  # every hop must pass the same address check
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    _check_host(url, allow_private)
    opener = urllib.request.build_opener(CheckedRedirects())
    req = urllib.request.Request(url, headers={"User-Agent": "digest (EPUB image fetch)", "Accept": "image/*"})
    try:
        with opener.open(req, timeout=timeout) as resp:
            ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype not in _CONTENT_TYPES:
                raise Refused(f"image not fetched (content type {ctype or 'missing'}): {url}")
            length = resp.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise Refused(f"image not fetched (larger than {max_bytes:,} bytes): {url}")
            data: bytes = resp.read(max_bytes + 1)
    except Refused:
        raise
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise Refused(f"image not fetched ({reason}): {url}") from None
    if len(data) > max_bytes:
        raise Refused(f"image not fetched (larger than {max_bytes:,} bytes): {url}")
    return data
