"""What a Jekyll site's configuration says about its Markdown (``markdown:``, ``kramdown:``, maths).

Jekyll's defaults are kramdown's with ``input: GFM``; a value digest cannot honour is an error that
names its key, so a site owner learns at once which line of ``_config.yml`` to fix.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

MAX_MARKDOWN_STEPS = 300_000
MATH_DELIMITERS = frozenset({"$$", "$", "\\(", "\\["})
_CHARS_ENTITY = re.compile(r"#?\w+")
_PROCESSORS = {"kramdown": "kramdown", "gfm": "GFM", "commonmark": "GFM", "commonmarkghpages": "GFM"}


class MarkdownConfigError(ValueError):
    """A configuration value digest cannot use; the message names the key."""


@dataclass(frozen=True)
class MarkdownOptions:
    """The options of kramdown (and of MathJax's delimiters) that change what a post shows."""

    input: Literal["GFM", "kramdown"] = "GFM"
    auto_ids: bool = True
    auto_id_prefix: str = ""
    toc_levels: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
    smart_quotes: tuple[str, str, str, str] = ("\u2018", "\u2019", "\u201c", "\u201d")
    typographic_symbols: bool = True
    hard_wrap: bool = False
    footnote_nr: int = 1
    footnote_backlink: str = "\u21a9"
    math: bool = True
    math_delimiters: frozenset[str] = field(default_factory=lambda: frozenset({"$$"}))
    line_numbers: bool = False
    parse_block_html: bool = False
    autolink_bare_urls: bool = False
    max_steps: int = MAX_MARKDOWN_STEPS

    def __post_init__(self) -> None:
        if self.input not in ("GFM", "kramdown"):
            raise MarkdownConfigError(f"kramdown.input: {self.input!r} is not GFM or kramdown")
        if not self.toc_levels or any(not 1 <= n <= 6 for n in self.toc_levels):
            raise MarkdownConfigError("kramdown.toc_levels: levels must be between 1 and 6")
        unknown = set(self.math_delimiters) - MATH_DELIMITERS
        if unknown:
            raise MarkdownConfigError(f"math_delimiters: unknown {sorted(unknown)} (known: $$, $, \\(, \\[)")
        if self.max_steps < 1:
            raise MarkdownConfigError("max_steps: must be positive")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MarkdownOptions:
        """Options from a Jekyll site configuration: ``markdown``, ``kramdown`` and the digest key
        ``math_delimiters`` (the delimiters the site's MathJax/KaTeX set-up recognises)."""
        processor = config.get("markdown")
        if processor is not None and str(processor).lower() not in _PROCESSORS:
            raise MarkdownConfigError(f"markdown: {processor!r} is not a Markdown processor digest knows "
                                      "(kramdown, GFM, CommonMark)")
        kd = config.get("kramdown") or {}
        if not isinstance(kd, Mapping):
            raise MarkdownConfigError("kramdown: expected a mapping of kramdown options")
        values: dict[str, Any] = {}
        if processor is not None and _PROCESSORS[str(processor).lower()] == "GFM":
            values["input"] = "GFM"
        for key, (field_name, convert) in _KRAMDOWN_KEYS.items():
            if key in kd:
                values[field_name] = convert(kd[key])
        if "math_engine" in kd and kd["math_engine"] in (None, False, "", "none", "nil"):
            values["math"] = False
        values.update(_highlighter(kd))
        if "math_delimiters" in config:
            values["math_delimiters"] = frozenset(_names(config["math_delimiters"], "math_delimiters"))
        return cls(**values)


def _input(value: Any) -> Literal["GFM", "kramdown"]:
    name = str(value).lower()
    if name == "gfm":
        return "GFM"
    if name == "kramdown":
        return "kramdown"
    raise MarkdownConfigError(f"kramdown.input: {value!r} is not GFM or kramdown")


def _boolean(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise MarkdownConfigError(f"{key}: expected true or false, got {value!r}")


def _integer(value: Any, key: str) -> int:
    if isinstance(value, bool):
        raise MarkdownConfigError(f"{key}: expected a whole number, got {value!r}")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise MarkdownConfigError(f"{key}: expected a whole number, got {value!r}") from None
    if number < 0:
        raise MarkdownConfigError(f"{key}: expected a whole number, got {value!r}")
    return number


def _names(value: Any, key: str) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value]
    raise MarkdownConfigError(f"{key}: expected a list of names, got {value!r}")


def _toc_levels(value: Any) -> tuple[int, ...]:
    """kramdown takes ``1..3``, ``1,2,3`` or a list."""
    key = "kramdown.toc_levels"
    if isinstance(value, int) and not isinstance(value, bool):
        levels = [value]
    elif isinstance(value, str) and ".." in value:
        low, _, high = value.partition("..")
        levels = list(range(_integer(low, key), _integer(high, key) + 1))
    elif isinstance(value, str):
        levels = [_integer(v, key) for v in value.replace(",", " ").split()]
    elif isinstance(value, (list, tuple)):
        levels = [_integer(v, key) for v in value]
    else:
        raise MarkdownConfigError(f"{key}: expected levels like 1..3 or [2, 3], got {value!r}")
    if not levels or any(not 1 <= n <= 6 for n in levels):
        raise MarkdownConfigError(f"{key}: levels must be between 1 and 6, got {value!r}")
    return tuple(sorted(set(levels)))


def _smart_quotes(value: Any) -> tuple[str, str, str, str]:
    """Four entity names or code points, as kramdown reads them (``lsquo,rsquo,ldquo,rdquo``)."""
    key = "kramdown.smart_quotes"
    names = _names(value, key) if not isinstance(value, (list, tuple)) else [str(v).strip() for v in value]
    if len(names) != 4:
        raise MarkdownConfigError(f"{key}: expected four entity names, got {value!r}")
    chars = []
    for name in names:
        char = html.unescape(f"&#{name};" if name.isdigit() else f"&{name};") if _CHARS_ENTITY.fullmatch(name) else ""
        if len(char) != 1:
            raise MarkdownConfigError(f"{key}: {name!r} is not an HTML entity name or code point")
        chars.append(char)
    return (chars[0], chars[1], chars[2], chars[3])


def _highlighter(kd: Mapping[str, Any]) -> dict[str, Any]:
    """Rouge's ``block: line_numbers`` (under ``syntax_highlighter_opts``) numbers fenced code."""
    opts = kd.get("syntax_highlighter_opts") or {}
    if not isinstance(opts, Mapping):
        raise MarkdownConfigError("kramdown.syntax_highlighter_opts: expected a mapping")
    block = opts.get("block") or {}
    if not isinstance(block, Mapping):
        raise MarkdownConfigError("kramdown.syntax_highlighter_opts.block: expected a mapping")
    if "line_numbers" in block:
        return {"line_numbers": _boolean(block["line_numbers"], "kramdown.syntax_highlighter_opts.block.line_numbers")}
    if "line_numbers" in opts:
        return {"line_numbers": _boolean(opts["line_numbers"], "kramdown.syntax_highlighter_opts.line_numbers")}
    return {}


# kramdown's options digest reads: key → (field of MarkdownOptions, how its value is read and checked)
_KRAMDOWN_KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "input": ("input", _input),
    "auto_ids": ("auto_ids", lambda v: _boolean(v, "kramdown.auto_ids")),
    "hard_wrap": ("hard_wrap", lambda v: _boolean(v, "kramdown.hard_wrap")),
    "parse_block_html": ("parse_block_html", lambda v: _boolean(v, "kramdown.parse_block_html")),
    "auto_id_prefix": ("auto_id_prefix", lambda v: "" if v is None else str(v)),
    "toc_levels": ("toc_levels", _toc_levels),
    "smart_quotes": ("smart_quotes", _smart_quotes),
    "gfm_quirks": ("typographic_symbols",
                   lambda v: "no_auto_typographic" not in _names(v, "kramdown.gfm_quirks")),
    "footnote_nr": ("footnote_nr", lambda v: _integer(v, "kramdown.footnote_nr")),
    "footnote_backlink": ("footnote_backlink", lambda v: html.unescape(str(v or ""))),
}
