"""CSS templates escape every value, the way HTML templates do: a value cannot leave the CSS it lands in.

``pdf/print.css`` is a Jinja template that puts the site's title into ``content: "…"`` and labels into
``string-set``; the rendered CSS then goes into the PDF's ``<style>``. A title such as
``Daily</style><link rel=attachment href=file:///etc/passwd>`` used to close the style element and
attach a file to the PDF. Jinja's autoescape knows only HTML, so CSS templates get a *finalize* that runs on
every ``{{ … }}`` of every template whose name ends in ``.css`` (:func:`finalize`): a theme author cannot
forget it. What it does with a value:

- a number is written as it is (``{{ total }}``, page counters);
- a :class:`CssSafe` string is written as it is: the theme's own options (colours, font stacks), checked
  once by :func:`trusted` to hold no character that ends a declaration, a block, a string or the element;
- anything else — the site's title, labels, a post's text, a template literal — is escaped with
  :func:`escape`: every character that could end a CSS string or identifier, start a comment, a function
  or an at-rule, or close ``<style>`` becomes a ``\\HEX`` escape. The result is the same text inside a
  CSS string (``content: "…"``) and one harmless run of identifiers and numbers outside one.
"""
from __future__ import annotations

import re
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from digest.errors import ThemeError

# Kept as they are: letters and digits, space, `.` `,` `%` `#` `-` `_` `+` (so a literal such as `1.1em`,
# `18mm 16mm`, `#666` still reads as CSS) and printable characters past U+00A0 except the line and
# paragraph separators, bidi controls and the BOM. Everything else is escaped.
_UNSAFE = re.compile("[^A-Za-z0-9 .,%#_+\\-\u00a1-\u2027\u202f-\u2065\u206a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                     "\U00010000-\U0010ffff]")
# What a trusted value (a theme option) may not hold: the end of a declaration or block, an escape, the end
# of the style element, a comment, a line break or other control characters.
_NOT_TRUSTED = re.compile(r"[;{}<>\\@\x00-\x1f\x7f]|/\*|\*/")


class CssSafe(str):
    """A string already fit for a CSS template (a theme option checked by :func:`trusted`)."""

    __slots__ = ()


def escape(text: str) -> str:
    """``text`` as CSS that stays one string or one run of identifiers: see the module's docstring."""
    return _UNSAFE.sub(_hex, text)


def _hex(m: re.Match[str]) -> str:
    cp = ord(m.group())
    return "\ufffd" if cp == 0 else f"\\{cp:x} "  # NUL is not allowed even escaped; the space ends the escape


def finalize(value: Any) -> Any:
    """What a CSS template writes for ``{{ value }}``."""
    if isinstance(value, CssSafe) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    return escape(str(value))


def trusted(value: Any, where: str) -> Any:
    """A theme's options for a CSS template: strings become :class:`CssSafe` once checked, recursively.

    Raises :class:`ThemeError` naming the option when a string could leave its declaration."""
    if isinstance(value, str):
        bad = _NOT_TRUSTED.search(value)
        if bad or value.count('"') % 2 or value.count("'") % 2:
            what = repr(bad.group()) if bad else "an unbalanced quote"
            raise ThemeError(f"theme option {where} holds {what}, which CSS templates do not take")
        return CssSafe(value)
    if isinstance(value, dict):
        return {k: trusted(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [trusted(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


@pass_context
def css_filter(context: Context, value: Any) -> Any:
    """The ``css`` filter of HTML templates, for a theme value written into ``<style>`` (``{{ theme.ink | css }}``):
    checked as :func:`trusted` checks it, then marked safe for HTML (``| safe`` would let ``</style>`` through).
    A refused value is named by its option (found in the template's ``theme``), so the message says what to fix."""
    from markupsafe import Markup

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    name = _option_name(context.get("theme"), value)
    try:
        return Markup(trusted(str(value), name or f"value {str(value)[:40]!r}"))
    except ThemeError as e:  # a ValueError: the theme's error names the template and the line
        raise ValueError(e.message) from None


def _option_name(options: Any, value: Any, prefix: str = "") -> str | None:
    """The dotted name of the theme option that holds ``value`` (None: the value is no option's)."""
    if not isinstance(options, dict):
        return None
    for key, held in options.items():
        if isinstance(held, dict):
            found = _option_name(held, value, f"{prefix}{key}.")
            if found:
                return found
        elif held == value:
            return f"{prefix}{key}"
    return None
