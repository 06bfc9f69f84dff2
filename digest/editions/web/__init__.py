"""The web edition: one self-contained HTML file per issue (CSS inlined, no scripts)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from digest.editions.base import Edition, Output, WriteContext, base_context, output_path
from digest.editions.content import content_css
from digest.model import Digest
from digest.runtime.files import atomic_path


class WebEdition(Edition):
    name = "web"
    label = "Web"
    aliases = ("html",)
    outputs: ClassVar[tuple[Output, ...]] = (Output(".html", "text/html", primary=True),)
    for_readers = True
    order = 30
    previewable = True
    preload = ("digest.editions.reading",)  # (imported when a page is made: a worker has it ready)

    def page(self, digest: Digest, ctx: WriteContext) -> str:
        return "".join(self._pieces(digest, ctx))

    def _pieces(self, digest: Digest, ctx: WriteContext) -> Iterator[str]:
        from digest.editions.reading import for_reading  # lxml: loaded when a page is made, not by `digest list`

        theme = ctx.theme
        # the web shows every image: only repetitions go
        digest = for_reading(digest, theme.labels, folder=ctx.env.cache_dir)
        return theme.stream("web/digest.html.j2", css=theme.read_text("web/style.css") + content_css(theme, "web"),
                            **base_context(digest, ctx.settings, "web"))

    def write(self, digest: Digest, ctx: WriteContext) -> list[Path]:
        """Written as the template makes it, in pieces of about 1 MB: a month of posts is never one string."""
        path = output_path(ctx.settings, digest, ctx.out_dir, self.primary.suffix)
        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="", buffering=1 << 20) as f:
            for piece in self._pieces(digest, ctx):
                f.write(piece)
        return [path]


EDITION = WebEdition
