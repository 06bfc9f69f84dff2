"""The EPUB edition's options: the ``[epub]`` table of digest.toml."""
from __future__ import annotations

from typing import ClassVar

from pydantic import AliasChoices, Field

from digest.config.settings import EditionOptions


class EpubOptions(EditionOptions):
    TABLE: ClassVar[str] = "epub"

    cover: bool = True
    embed_fonts: bool = False
    image_max_width: int = 1072
    image_quality: int = Field(default=80, ge=1, le=95)
    # Send-to-Kindle's limit: a bigger book gets smaller images, then is split into parts (epub/fit.py);
    # warn_size_mb is its former name
    max_size_mb: float = Field(default=50, gt=0, validation_alias=AliasChoices("max_size_mb", "warn_size_mb"))
    cover_image: str | None = None  # a JPEG/PNG (relative to the site root) used as the cover instead
    font: str | None = None  # a CJK font file for the cover and embed_fonts (default: found by fontconfig)
    section_doc_kb: int = Field(default=100, ge=0)  # a section this small is one document, else one per article
