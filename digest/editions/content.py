"""The stylesheet of what an article's body holds besides text — code, formulas, link cards, footnotes —
shared by every edition: the theme's ``partials/content.css``, then the code colours made by Pygments
from the theme's options (so a theme changes them in ``theme.toml``, per edition if it likes)."""
from __future__ import annotations

from functools import lru_cache

from digest.errors import ThemeError
from digest.theming.loader import Theme

CONTENT_CSS = "partials/content.css"
_CODE_OPTIONS = (("code_style", "default"), ("code_style_dark", "github-dark"),
                 ("code_background", "#ffffff"), ("code_background_dark", "#171514"))


@lru_cache(maxsize=16)
def _code_css(style: str, dark: str, background: str, dark_background: str) -> str:
    from digest.jekyll.kramdown.highlight import stylesheet  # here: Pygments loads only when a theme asks

    return stylesheet(style, dark, background, dark_background)


def content_css(theme: Theme, edition: str) -> str:
    """The body-content rules and code colours for ``edition``; a bad style name is a theme error."""
    options = theme.options_for(edition)
    values = [str(options.get(key, default)) for key, default in _CODE_OPTIONS]
    try:
        code = _code_css(*values)
    except ValueError as e:
        raise ThemeError(f"options.code_style: {e}", theme.source_file("theme.toml") or theme.name) from None
    return "\n" + theme.read_text(CONTENT_CSS) + code
