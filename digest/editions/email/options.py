"""The email edition's options: the ``[email]`` table of digest.toml (the message and its recipients)."""
from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from digest.config.settings import EditionOptions
from digest.config.values import Address, Line, check_url


class EmailOptions(EditionOptions):
    TABLE: ClassVar[str] = "email"

    subject: Line = "{site_title} {date}"
    from_addr: Address | None = None
    to: list[Address] = Field(default_factory=list)
    kindle: list[Address] = Field(default_factory=list)
    reply_to: Address | None = None
    unsubscribe: str | None = None  # an https URL or a mailto: address
    web_url: str | None = None  # where the web edition of an issue is published ({slug}, {year})
    max_html_bytes: int = 90_000
    top_n: int = 0  # 0 = as many as fit in the size budget
    # Each article's whole body ("full"), its summary ("summary"), or whole bodies when every article of
    # the issue fits the size budget that way, else summaries ("auto": a blog's few posts, a wire's many).
    content: Literal["auto", "full", "summary"] = "auto"
    attach: list[str] = Field(default_factory=list)  # editions to attach (epub, pdf)

    @field_validator("web_url")
    @classmethod
    def _web_url(cls, v: str | None) -> str | None:
        """A template: checked as the URL it gives for a sample issue."""
        if v:
            try:
                check_url(v.replace("{year}", "2000").replace("{month}", "01").replace("{slug}", "2000-01-01"))
            except PydanticCustomError as e:  # the same complaint, about the value as written
                raise PydanticCustomError(e.type, e.message_template, {"value": repr(v)}) from None
        return v

    @field_validator("unsubscribe")
    @classmethod
    def _unsubscribe(cls, v: str | None) -> str | None:
        """An http(s) URL, a ``mailto:`` address, or both (comma-separated)."""
        for item in re.split(r"[,\s]+", (v or "").strip()):
            if item.strip("<>"):
                check_url(item.strip("<>"), mailto=True)
        return v
