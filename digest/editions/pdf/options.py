"""The PDF edition's options: the ``[pdf]`` table of digest.toml."""
from __future__ import annotations

from typing import ClassVar, Literal

from digest.config.settings import EditionOptions


class PdfOptions(EditionOptions):
    TABLE: ClassVar[str] = "pdf"

    page_size: Literal["A4", "Letter", "A5", "ereader"] = "A4"
    section_page_break: bool = True
    variant: str | None = None  # e.g. "pdf/a-2b", "pdf/ua-1"
    allow_missing_fonts: bool = False
    workers: int = 0  # 0 = one per core
