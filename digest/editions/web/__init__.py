"""The web edition: one self-contained HTML file per digest (CSS inlined, no scripts)."""
from __future__ import annotations

from pathlib import Path

from digest.runtime.files import atomic_write
from digest.model import Digest
from digest.config.settings import Settings
from digest.theming.loader import Theme
from digest.editions.base import base_context, output_path

SUFFIX = ".html"


def render(digest: Digest, *, theme: Theme, settings: Settings) -> str:
    return theme.render("web/digest.html.j2", css=theme.read_text("web/style.css"),
                        **base_context(digest, settings, "web"))


def write(digest: Digest, out_dir: Path, *, theme: Theme, settings: Settings) -> list[Path]:
    html = render(digest, theme=theme, settings=settings)
    return [atomic_write(output_path(settings, digest, out_dir, SUFFIX), html)]
