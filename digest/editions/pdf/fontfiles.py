"""The original font files behind a PDF's fonts, kept so that the merged PDF embeds one subset per font.

WeasyPrint embeds, in every file it writes, a subset of each font with just the glyphs of that file (glyph
ids kept as in the original font). A PDF joined from many pieces would carry one subset per piece and per
font — for a CJK font, hundreds of KB each. So the workers keep a copy of each original font file (once,
named by a digest of its bytes: a font upgraded on the system is another file) and record, per piece, which
glyphs of which font it uses; the merge makes one subset of each font for the whole PDF
(:mod:`.glyphs`). The copies live in the cache folder (or the build's temporary folder without a cache).

Reading the font behind a WeasyPrint ``Font`` goes through its HarfBuzz face (WeasyPrint's own binding);
when that is not possible the piece keeps its embedded subset, which is larger but still correct.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAMPLE = 1 << 20  # bytes hashed from the start of a font file: its table directories and their checksums


@dataclass(frozen=True)
class FontRef:
    """A kept font file (its name in the fonts folder) and the face's index in it (TrueType collections)."""

    file: str
    index: int


def _keep_face(hb_face: Any, index: int, fonts_dir: Path) -> FontRef | None:
    from weasyprint.text.ffi import ffi, harfbuzz

    blob = harfbuzz.hb_face_reference_blob(hb_face)
    try:
        length = ffi.new("unsigned int *")
        data = harfbuzz.hb_blob_get_data(blob, length)
        if data == ffi.NULL or not length[0]:
            return None
        buffer = ffi.buffer(data, length[0])
        name = f"{length[0]}-{hashlib.sha256(buffer[:SAMPLE]).hexdigest()[:24]}.font"
        path = fonts_dir / name
        if not path.is_file():
            fonts_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
            tmp.write_bytes(buffer[:])
            os.replace(tmp, path)  # atomic: workers keeping the same font at once write the same bytes
        return FontRef(name, index)
    finally:
        harfbuzz.hb_blob_destroy(blob)


def keep_font(font: Any, fonts_dir: Path) -> FontRef | None:
    """Keep the original file of a WeasyPrint ``Font`` in ``fonts_dir`` (named by its size and a digest of
    its start, where every table's checksum is listed); ``None`` when it cannot be read."""
    try:
        return _keep_face(font.hb_face, int(font.index), fonts_dir)
    except (ImportError, AttributeError, TypeError, ValueError, OSError):
        return None


def font_path(fonts_dir: Path, ref: FontRef) -> Path:
    return fonts_dir / ref.file
