"""Front matter of one-line ``key: value`` pairs read without a YAML parse — exactly what the safe YAML parse
(:func:`~digest.sources.frontmatter.load_front_matter`) gives, or ``None`` when that is not certain.

Almost every post of a news site has the same few lines (``layout: post``, a quoted title, a date, a
category, a tag); building the index reads 100,000+ of them, and a month's build reads 9,000 in full. A
YAML parse with its limits costs ~150 µs a post; this costs a few. It takes only what it can read for
sure: no indentation, lists, flows, anchors, aliases, tags, block scalars, comments, escapes, duplicate
keys, characters YAML refuses or reads as line breaks. Each value's type is the one PyYAML's own resolver
gives it, and a timestamp is built by PyYAML's own constructor; anything else goes to the full parse.
"""
from __future__ import annotations

import re
from functools import lru_cache

import yaml

_KEY = re.compile(r"[A-Za-z_][\w-]*")
_DQ = re.compile(r'"([^"\\]*)"')
_SQ = re.compile(r"'([^']*)'")
# a plain scalar starting with an indicator, holding ": " or " #" (a mapping, a comment), or ending in ":"
_PLAIN_BAD = re.compile(r"^[\[\]{}&*!|>%@`\"',?:#-]|:[ \t]|[ \t]#|:$")
# characters YAML refuses (its reader's non-printable ones), reads as line breaks, or treats as a mark (BOM)
_UNSURE = re.compile("[^\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_STR, _NULL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
MAX_TEXT = 64 * 1024  # longer front matter takes the full parse, with its limits
MAX_LINES = 1000
_UNSURE_LINE = object()
_BLANK = ("", None)


def simple_front(fm: str) -> dict[str, object] | None:
    """The front matter ``fm`` (the text between the ``---`` lines) as the safe YAML parse gives it, or None."""
    if len(fm) > MAX_TEXT or _UNSURE.search(fm):
        return None
    lines = fm.split("\n")
    if len(lines) > MAX_LINES:
        return None
    out: dict[str, object] = {}
    for line in lines:
        got = _line(line)
        if got is None:
            return None
        key, value = got
        if not key:
            continue
        if key in out:
            return None  # a key twice: YAML keeps the last, or refuses; not worth being sure which
        out[key] = value
    return out


@lru_cache(maxsize=4096)
def _line(line: str) -> tuple[str, object] | None:
    """(key, value) of one line, ("", None) for a blank one, None when only YAML can read it. Cached: most
    lines (layout, categories, tags) repeat from post to post (their values are not mutable)."""
    if not line or line[0] in " \t":
        return None if line.strip(" ") else _BLANK  # indented, or a tab (YAML may refuse it): YAML's job
    key, sep, rest = line.partition(":")
    if not sep or (rest and rest[0] not in " \t") or not _KEY.fullmatch(key) or _resolve(key) != _STR:
        return None
    value = _value(rest.strip(" \t"))
    return None if value is _UNSURE_LINE else (key, value)


@lru_cache(maxsize=256)
def _resolve(text: str) -> str:
    return str(_RESOLVER.resolve(yaml.ScalarNode, text, (True, False)))  # type: ignore[no-untyped-call]


def _value(text: str) -> object:
    """One value as YAML reads it, or ``_UNSURE_LINE``."""
    if not text:
        return None
    if text[0] in "\"'":
        quoted = (_DQ if text[0] == '"' else _SQ).fullmatch(text)
        return _UNSURE_LINE if quoted is None else quoted.group(1)
    if _PLAIN_BAD.search(text):
        return _UNSURE_LINE
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    if tag == _STR:
        return text
    if tag == _TIMESTAMP:
        try:
            return _CONSTRUCTOR.construct_yaml_timestamp(yaml.ScalarNode(tag, text))
        except (ValueError, OverflowError):
            return _UNSURE_LINE  # (2022-02-30: the full parse says why)
    return _UNSURE_LINE  # a number, a boolean, null spelled out…: not worth being sure
