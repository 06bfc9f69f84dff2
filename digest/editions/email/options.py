"""The email edition's options: the ``[email]`` table of digest.toml (the message and its recipients)."""
from __future__ import annotations

from typing import ClassVar, Literal

from digest.config.settings import EditionOptions


class EmailOptions(EditionOptions):
    TABLE: ClassVar[str] = "email"

    subject: str = "{site_title} {date}"
    from_addr: str | None = None
    to: list[str] = []
    kindle: list[str] = []
    reply_to: str | None = None
    unsubscribe: str | None = None  # an https URL or a mailto: address
    web_url: str | None = None  # where the web edition of an issue is published ({slug}, {year})
    max_html_bytes: int = 90_000
    top_n: int = 0  # 0 = as many as fit in the size budget
    attach: list[Literal["epub", "pdf"]] = []
