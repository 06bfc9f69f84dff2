"""The EPUB edition's options: the ``[epub]`` table of digest.toml."""
from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from digest.config.settings import EditionOptions


class EpubOptions(EditionOptions):
    TABLE: ClassVar[str] = "epub"

    cover: bool = True
    embed_fonts: bool = False
    image_max_width: int = 1072
    image_quality: int = Field(default=80, ge=1, le=95)
    warn_size_mb: int = 50
    cover_image: str | None = None  # a JPEG/PNG (relative to the site root) used as the cover instead
    font: str | None = None  # a CJK font file for the cover and embed_fonts (default: found by fontconfig)
    section_doc_kb: int = Field(default=100, ge=0)  # a section this small is one document, else one per article
