"""Laid-out pieces of PDFs kept between builds: files under the cache folder, found by their key.

A piece is a small PDF (its pages, no font programs) and a JSON file (:class:`~.layout.Laid`: page count,
anchors, links, number slots, glyphs used, the kept font files). Its key (:func:`piece_key`) is made the
one way every cache key of digest is made (:mod:`digest.runtime.keys`): the input — the HTML the theme's
templates made for it and its stylesheet (in it or given apart), the settings' effect and the articles — the
local files it shows (images) and the fonts installed, and the code of the editions and of the libraries they
use.
So a piece whose articles, theme, settings, fonts or code changed is simply not found.

The JSON is written after the PDF, both by renaming, so a reader never sees half a piece. Pieces unused the
longest are removed past :data:`KEEP` files (a day has a few dozen). Without a cache (``--no-cache``) the
store is the build's temporary folder: every piece is laid out, and nothing is kept.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from digest.editions.pdf.fetch import FetchRules, local_file
from digest.editions.pdf.fontfiles import font_path
from digest.editions.pdf.layout import Laid
from digest.runtime import keys
from digest.runtime.files import atomic_write

KEEP = 3000  # pieces kept (about 60 days of a 300-article day; ~20 KB each)
FOLDER = "pdf-pieces"
FONTS = "fonts"
_SRC = re.compile(r"""\bsrc=["']([^"']+)["']""", re.I)
FONTCONFIG_CACHES = (Path("/var/cache/fontconfig"), Path.home() / ".cache" / "fontconfig")


def fonts_installed() -> str:
    """A fingerprint of the installed fonts: fontconfig's caches, rewritten when fonts are added or changed."""
    seen = []
    for folder in FONTCONFIG_CACHES:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        seen += [f"{e.name}:{e.stat().st_size}:{e.stat().st_mtime_ns}" for e in entries if e.is_file()]
    return keys.digest_of(*seen)


def _local_files(html: str, rules: FetchRules) -> list[str]:
    """The site's and theme's files the HTML shows (its images), each as its name, size and time."""
    out = []
    for src in sorted(set(_SRC.findall(html))):
        path = local_file(src, rules, Path(rules.site_root))
        if path is not None:
            st = path.stat()
            out.append(f"{src}:{st.st_size}:{st.st_mtime_ns}")
    return out


def piece_key(html: str, *, rules: FetchRules, fonts: str, css: str = "") -> str:
    """``css``: the stylesheet laid out with ``html`` when it is not in it."""
    code = keys.code_fingerprint("digest.editions")
    return keys.key("pdf-piece", inputs=[html, css, repr(rules), fonts, *_local_files(html, rules)], code=code)


@dataclass
class Pieces:
    """Every piece of one PDF, laid out (now or before): the front, the body in order, the two samples."""

    front: Laid
    body: list[Laid]
    footer_sample: Laid
    number_sample: Laid
    laid_now: int  # how many were laid out by this build

    @property
    def all(self) -> list[Laid]:
        return [self.front, *self.body, self.footer_sample, self.number_sample]


class PieceStore:
    """The pieces' folder: ``<key>.pdf`` and ``<key>.json``, and the kept font files in ``fonts/``."""

    def __init__(self, root: Path):
        self.root = root
        self.fonts = root / FONTS
        root.mkdir(parents=True, exist_ok=True)

    @classmethod
    def for_cache(cls, cache_dir: Path | None, tmp: Path) -> PieceStore:
        return cls(cache_dir / FOLDER if cache_dir is not None else tmp / FOLDER)

    def pdf(self, key: str) -> Path:
        return self.root / f"{key}.pdf"

    def get(self, key: str) -> Laid | None:
        """The piece, when it and every font file it needs are there (marked used: kept longer)."""
        meta = self.root / f"{key}.json"
        try:
            laid = Laid.from_json(key, self.pdf(key), json.loads(meta.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None
        if not laid.out.is_file() or not all(font_path(self.fonts, r).is_file() for r in laid.fonts.values()):
            return None
        with contextlib.suppress(OSError):
            os.utime(meta)
        return laid

    def put(self, laid: Laid) -> None:
        atomic_write(self.root / f"{laid.name}.json", json.dumps(laid.to_json(), sort_keys=True))

    def prune(self, keep: int = KEEP, protect: Iterable[str] = ()) -> int:
        """Remove the pieces used longest ago beyond ``keep``; returns how many went."""
        try:
            metas = [(e.stat().st_mtime_ns, e.name[:-5]) for e in os.scandir(self.root) if e.name.endswith(".json")]
        except OSError:
            return 0
        kept = set(protect)
        old = [k for _, k in sorted(metas, reverse=True)[keep:] if k not in kept]
        for key in old:
            for suffix in (".json", ".pdf"):
                with contextlib.suppress(OSError):
                    (self.root / f"{key}{suffix}").unlink()
        return len(old)
