"""The web edition: one self-contained HTML file per issue (CSS inlined, no scripts)."""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from digest.editions.base import Edition, Output, WriteContext, base_context, output_path
from digest.editions.reading import for_reading
from digest.model import Digest
from digest.runtime.files import atomic_write


class WebEdition(Edition):
    name = "web"
    label = "Web"
    aliases = ("html",)
    outputs: ClassVar[tuple[Output, ...]] = (Output(".html", "text/html", primary=True),)
    for_readers = True
    order = 30
    previewable = True

    def page(self, digest: Digest, ctx: WriteContext) -> str:
        theme = ctx.theme
        digest = for_reading(digest, theme.labels)  # the web shows every image: only repetitions go
        return theme.render("web/digest.html.j2", css=theme.read_text("web/style.css"),
                            **base_context(digest, ctx.settings, "web"))

    def write(self, digest: Digest, ctx: WriteContext) -> list[Path]:
        path = output_path(ctx.settings, digest, ctx.out_dir, self.primary.suffix)
        return [atomic_write(path, self.page(digest, ctx))]


EDITION = WebEdition
