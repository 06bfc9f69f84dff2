"""The email edition: an inlined-CSS HTML part, a plain-text part and a ready-to-send ``.eml``.

Python chooses what the message shows (:mod:`.render`): every article if the HTML fits the size budget
(``email.max_html_bytes``; Gmail clips messages near 102 KB), else the first N articles of each section
and "N more in this section" lines. :mod:`.mime` composes the message; :mod:`digest.delivery` sends it.
"""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from digest.editions.base import Edition, Output, WriteContext
from digest.editions.email.options import EmailOptions
from digest.model import Digest


class EmailEdition(Edition):
    name = "email"
    label = "Email"
    outputs: ClassVar[tuple[Output, ...]] = (
        Output(".eml", "message/rfc822", primary=True),
        Output(".email.html", "text/html"),
        Output(".email.txt", "text/plain"),
    )
    options = EmailOptions
    shaped_by = ("epub", "pdf")  # attachments
    order = 40
    preload = ("digest.editions.email.render", "css_inline")

    def write(self, digest: Digest, ctx: WriteContext) -> list[Path]:
        from digest.editions.email.render import render, write_edition

        return write_edition(render(digest, theme=ctx.theme, settings=ctx.settings), ctx.out_dir, ctx.settings)


EDITION = EmailEdition
