"""Code blocks highlighted with Pygments the way a Jekyll site's Rouge would colour them: short
token classes (``k``, ``s2``…), language names as Rouge/Jekyll users write them, and a stylesheet
whose colours keep WCAG AA contrast on the theme's light and dark backgrounds."""
from __future__ import annotations

import html
import re

import pygments
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.token import Token as PygmentsToken
from pygments.util import ClassNotFound

# Rouge names (and Jekyll habits) that Pygments spells differently.
_ALIASES = {
    "terminal": "console", "shell_session": "console", "shell-session": "console", "obj_c": "objc",
    "objective_c": "objc", "plist": "xml", "conf": "ini", "apache": "apacheconf", "viml": "vim",
    "golang": "go", "shell": "bash", "c++": "cpp", "jinja": "django", "batchfile": "batch", "yml": "yaml",
    "rb": "ruby", "md": "markdown", "mkd": "markdown", "ps1": "powershell", "dockerfile": "docker",
}
# Not code for a highlighter: diagrams, charts and "no highlighting" markers.
PLAIN = frozenset({"", "none", "text", "plain", "plaintext", "txt", "nohighlight", "mermaid", "chart", "math"})
MAX_HIGHLIGHT = 200_000  # characters: longer code is shown plain (lexers are not all linear)
AA_CONTRAST = 4.5
_COLOR = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
_TEXT_COLOR = re.compile(r"((?<![-\w])color:\s*)(#[0-9a-fA-F]{3,6})\b")
_BACKGROUND = re.compile(r"background(?:-color)?:[^;}]*;?\s*")


def lexer_for(lang: str | None) -> Lexer | None:
    """The Pygments lexer for a fence's language word, or None for plain text."""
    name = (lang or "").strip().lower()
    name = _ALIASES.get(name, name)
    if name in PLAIN:
        return None
    try:
        return get_lexer_by_name(name, stripnl=False, ensurenl=True)
    except ClassNotFound:
        return None


def highlight(code: str, lang: str | None, linenos: bool = False) -> str:
    """``<pre class="highlight"><code>`` with token spans; line numbers as ``<span class="ln">``."""
    lexer = lexer_for(lang) if len(code) <= MAX_HIGHLIGHT else None
    code = code.removesuffix("\n")
    if lexer is None:
        body = html.escape(code, quote=False)
    else:
        body = pygments.highlight(code, lexer, HtmlFormatter(nowrap=True)).removesuffix("\n")
    if linenos:
        lines = body.split("\n")
        width = len(str(len(lines)))
        body = "\n".join(f'<span class="ln">{n:>{width}} </span>{line}' for n, line in enumerate(lines, 1))
    name = (lang or "").strip().lower()
    lang_class = f' class="language-{html.escape(name)}"' if name and re.fullmatch(r"[\w#+.-]+", name) else ""
    return f'<pre class="highlight"><code{lang_class}>{body}</code></pre>'


def _luminance(hex6: str) -> float:
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex6[i:i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours."""
    la, lb = sorted((_luminance(_hex6(a)), _luminance(_hex6(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _hex6(color: str) -> str:
    c = color.lstrip("#")
    return "".join(ch * 2 for ch in c) if len(c) == 3 else c


def readable(color: str, background: str) -> str:
    """``color`` moved towards black or white (whichever the background is far from) until it
    reaches AA contrast on ``background``; unchanged when it already does."""
    target = (0, 0, 0) if _luminance(_hex6(background)) > 0.18 else (255, 255, 255)
    rgb = [int(_hex6(color)[i:i + 2], 16) for i in (0, 2, 4)]
    for step in range(21):
        t = step / 20
        mixed = "#" + "".join(f"{round(c + (g - c) * t):02x}" for c, g in zip(rgb, target, strict=True))
        if contrast(mixed, background) >= AA_CONTRAST:
            return mixed
    return "#000000" if target == (0, 0, 0) else "#ffffff"


def _rules(style: str, background: str, scope: str) -> str:
    try:
        formatter = HtmlFormatter(style=get_style_by_name(style))
    except ClassNotFound:
        raise ValueError(f"unknown Pygments style {style!r}") from None
    defs = formatter.get_style_defs(scope).splitlines()
    # Token rules only, their own backgrounds dropped (ours is the one contrast is measured on).
    kept = [_BACKGROUND.sub("", line) for line in defs if line.startswith(scope + " .")]
    kept = [line for line in kept if not re.search(r"\{\s*\}", line)]
    css = "\n".join(_TEXT_COLOR.sub(lambda m: m[1] + readable(m[2], background), line) for line in kept)
    text = readable(_hex6(_text_color(style)), background)
    return (f"{scope} {{ background: {background}; color: {text}; }}\n"
            f"{scope} .ln {{ color: {readable('#808080', background)}; user-select: none; }}\n{css}\n")


def _text_color(style: str) -> str:
    color = get_style_by_name(style).styles.get(PygmentsToken, "") or ""
    m = _COLOR.search(color)
    return "#" + _hex6(m[0]) if m else "#000000"


def stylesheet(light_style: str = "default", dark_style: str = "github-dark", light_background: str = "#ffffff",
               dark_background: str = "#171514", scope: str = ".highlight") -> str:
    """CSS for the token classes: the light style, then the dark one under ``prefers-color-scheme:
    dark``; in print, long lines wrap (``white-space: pre-wrap``) instead of running off the page."""
    dark = _rules(dark_style, dark_background, scope).replace("\n", "\n  ").rstrip()
    return (f"{scope} {{ overflow-x: auto; }}\n"
            f"{_rules(light_style, light_background, scope)}"
            f"@media (prefers-color-scheme: dark) {{\n  {dark}\n}}\n"
            f"@media print {{\n  {scope}, {scope} code {{ white-space: pre-wrap; overflow-wrap: anywhere; }}\n}}\n")
