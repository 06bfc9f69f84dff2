"""The email edition's options: the ``[email]`` table of digest.toml (the message and its recipients)."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from digest.config.settings import EditionOptions


class EmailOptions(EditionOptions):
    TABLE: ClassVar[str] = "email"

    subject: str = "{site_title} {date}"
    from_addr: str | None = None
    to: list[str] = Field(default_factory=list)
    kindle: list[str] = Field(default_factory=list)
    reply_to: str | None = None
    unsubscribe: str | None = None  # an https URL or a mailto: address
    web_url: str | None = None  # where the web edition of an issue is published ({slug}, {year})
    max_html_bytes: int = 90_000
    top_n: int = 0  # 0 = as many as fit in the size budget
    # Each article's whole body ("full"), its summary ("summary"), or whole bodies when every article of
    # the issue fits the size budget that way, else summaries ("auto": a blog's few posts, a wire's many).
    content: Literal["auto", "full", "summary"] = "auto"
    attach: list[str] = Field(default_factory=list)  # editions to attach (epub, pdf)
