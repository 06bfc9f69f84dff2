"""Issue covers in the archive: ``covers/<slug>.jpg|png`` and a small ``<slug>.thumb.jpg`` for catalogs.

An edition that carries a cover says so (:meth:`~digest.editions.base.Edition.cover`); the cover is copied
out once per written file, and a rebuilt issue whose cover did not change keeps its files (so the thumbnail
stays valid). Called by the build right after an edition is written (in the worker, so covers are made in
parallel), and by the archive for issues built before.
"""
from __future__ import annotations

import io
from pathlib import Path

from digest.archive.records import EditionEntry
from digest.editions.base import Edition
from digest.runtime.files import atomic_write

COVERS = "covers"
THUMB_SIZE = (300, 480)
IMAGE_MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


def ensure_cover(out_dir: Path, slug: str, edition: Edition, entry: EditionEntry) -> tuple[str, str] | None:
    """(cover, thumbnail) of an issue, relative to OUT, made from ``edition``'s files when they changed."""
    files = [out_dir / f.path for f in entry.files]
    primary = next((f for f in files if f.name.endswith(edition.primary.suffix)), None)
    if primary is None or not primary.is_file():
        return None
    covers = out_dir / COVERS
    existing = [p for p in (covers / f"{slug}{e}" for e in (".jpg", ".png")) if p.is_file()]
    if existing and existing[0].stat().st_mtime_ns >= primary.stat().st_mtime_ns:
        source = existing[0]
    else:
        got = edition.cover(files)
        if got is None:
            return None
        data, ext = got
        target = covers / f"{slug}{'.jpg' if ext == '.jpeg' else ext}"
        if existing and existing[0] == target and target.read_bytes() == data:
            source = target  # a rebuilt file with the same cover: the thumbnail stays valid too
        else:
            source = atomic_write(target, data)
    thumb = covers / f"{slug}.thumb.jpg"
    if not thumb.is_file() or thumb.stat().st_mtime_ns < source.stat().st_mtime_ns:
        atomic_write(thumb, _thumbnail(source))
    return source.relative_to(out_dir).as_posix(), thumb.relative_to(out_dir).as_posix()


def _thumbnail(source: Path) -> bytes:
    from PIL import Image

    with Image.open(source) as im:
        im.draft("RGB", THUMB_SIZE)  # a JPEG decodes at a fraction of its size: far less work
        small = im.convert("RGB")
        small.thumbnail(THUMB_SIZE)
        buf = io.BytesIO()
        small.save(buf, "JPEG", quality=80, optimize=True)
    return buf.getvalue()
