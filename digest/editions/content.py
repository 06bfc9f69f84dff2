"""The stylesheet of what an article's body holds besides text — code, formulas, link cards, footnotes —
shared by every edition: the theme's ``partials/content.css``, then the code colours made by Pygments
from the theme's options (so a theme changes them in ``theme.toml``, per edition if it likes)."""
from __future__ import annotations

import contextlib
import hashlib
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from digest.errors import ThemeError
from digest.runtime.files import atomic_write

if TYPE_CHECKING:
    from digest.theming.loader import Theme

CONTENT_CSS = "partials/content.css"
_CODE_OPTIONS = (("code_style", "default"), ("code_style_dark", "github-dark"),
                 ("code_background", "#ffffff"), ("code_background_dark", "#171514"))


@lru_cache(maxsize=16)
def _code_css(style: str, dark: str, background: str, dark_background: str) -> str:
    from digest.jekyll.kramdown.highlight import stylesheet  # here: Pygments loads only when a theme asks

    return stylesheet(style, dark, background, dark_background)


def _kept_code_css(folder: Path | None, values: list[str]) -> str:
    """The code colours, kept in the cache folder between builds (Pygments costs more to import than a build
    of a cached day takes to write its page); keyed by the options and Pygments' version."""
    if folder is None:
        return _code_css(*values)
    name = hashlib.sha256(repr((values, version("pygments"))).encode()).hexdigest()[:24]
    path = folder / f"code-{name}.css"
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        css = _code_css(*values)
        with contextlib.suppress(OSError):  # (a read-only cache: made again next time)
            atomic_write(path, css)
        return css


def content_css(theme: Theme, edition: str) -> str:
    """The body-content rules and code colours for ``edition``; a bad style name is a theme error."""
    options = theme.options_for(edition)
    values = [str(options.get(key, default)) for key, default in _CODE_OPTIONS]
    try:
        code = _kept_code_css(theme.bytecode_dir, values)
    except ValueError as e:
        raise ThemeError(f"options.code_style: {e}", theme.source_file("theme.toml") or theme.name) from None
    return "\n" + theme.read_text(CONTENT_CSS) + code
