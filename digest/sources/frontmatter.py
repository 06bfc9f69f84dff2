"""Reading a post file's bytes: text decoding, the front matter split off and parsed, with limits.

Nothing a post says is trusted: the text is cleaned of characters XML cannot hold, the YAML is read with
the safe loader (libyaml's when present), and its size, nesting and aliases are bounded.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from digest.errors import PostError

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _FastYAML(YAMLHandler):
    """python-frontmatter's YAML handler, with libyaml's safe loader when it is there."""

    def load(self, fm: str, **kwargs: object) -> Any:
        kwargs.setdefault("Loader", _LOADER)
        return super().load(fm, **kwargs)


_HANDLER = _FastYAML()


# Limits on what one post may hold (docs/safety.md). The file size cap is ``max_post_bytes``.
MAX_FRONT_VALUES = 10_000  # values in the front matter, YAML aliases expanded ("billion laughs")
MAX_FRONT_BYTES = 1_000_000  # the front matter's text, refused before YAML builds anything
MAX_FRONT_CHARS = 1_000_000  # characters of text in its values, YAML aliases expanded (a big string aliased)
MAX_FRONT_DEPTH = 50  # lists and mappings inside each other
MAX_TITLE_CHARS = 500
MAX_NAME_CHARS = 100  # one category, tag or slug
MAX_NAMES = 50  # categories or tags per post
MIN_YEAR = 1900  # a post date outside these years is treated as invalid (a typo, garbage, or an attack:
MAX_YEAR = 2099  # year 1 or 9999 overflow a date ± a day, and ZIP timestamps end in 2107)
# Characters XML 1.0 forbids (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF), and DEL:
# removed from every text read, so that no output (EPUB XHTML, PDF, email) chokes on them.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
# In one-line fields (title, categories, slug, outlet…) also line breaks and tabs, C1 controls, and the
# bidirectional embedding/override/isolate controls, which could reorder the text around a title.
_LINE_BAD = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                       "\ud800-\udfff\ufffe\uffff]")
_BINARY_BYTES = re.compile(b"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def clean_text(text: str) -> str:
    """Text with the characters XML 1.0 cannot hold removed (tab, line feed and CR kept)."""
    return _XML_BAD.sub("", text)


def clean_line(text: str) -> str:
    """One line of plain text: controls, line breaks and bidi overrides become spaces; spaces collapsed."""
    return " ".join(_LINE_BAD.sub(" ", text).split())


def is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, date)) and not isinstance(value, bool)


def short_repr(value: Any, limit: int = 60) -> str:
    """A bounded, one-line ``repr`` for messages (never expands a huge or recursive value)."""
    if isinstance(value, (list, tuple, dict, set)):
        text = f"a {type(value).__name__}"
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = repr(value) if len(str(value)) <= limit * 4 else repr(str(value)[: limit * 4])
    text = clean_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Budget:
    """What is left of one front matter's limits while its tree is copied; aliases count each time reached."""

    def __init__(self) -> None:
        self.values = MAX_FRONT_VALUES
        self.chars = MAX_FRONT_CHARS
        self.cleaned: dict[int, str] = {}  # id of a string YAML shares between aliases → its one cleaned copy

    def spend(self, chars: int = 0) -> None:
        self.values -= 1
        self.chars -= chars
        if self.values < 0:
            raise PostError(f"front matter too large: over {MAX_FRONT_VALUES:,} values (YAML aliases?)")
        if self.chars < 0:
            raise PostError(f"front matter too large: over {MAX_FRONT_CHARS:,} characters of text "
                            "with YAML aliases expanded")

    def clean(self, text: str) -> str:
        """``text`` cleaned once however often it is aliased (a copy per alias is the memory bomb)."""
        got = self.cleaned.get(id(text))
        if got is None:
            got = self.cleaned[id(text)] = clean_text(text)
        return got


def _clean_tree(value: Any, budget: _Budget, depth: int = 0) -> Any:
    """A copy of a YAML value with text cleaned, counting values and characters (aliases expanded)."""
    budget.spend(len(value) if isinstance(value, (str, bytes, bytearray)) else 0)
    if depth > MAX_FRONT_DEPTH:
        raise PostError(f"front matter nested deeper than {MAX_FRONT_DEPTH} levels (a recursive YAML alias?)")
    if isinstance(value, str):
        return budget.clean(value)
    if isinstance(value, dict):
        return {_clean_key(k, budget, depth + 1): _clean_tree(v, budget, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_tree(v, budget, depth + 1) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return clean_text(bytes(value[:4096]).decode("latin-1"))
    return value


def _clean_key(key: Any, budget: _Budget, depth: int) -> Any:
    if isinstance(key, str):
        return _clean_tree(key, budget, depth)
    budget.spend()  # a number, a date, a tuple (YAML complex key): kept as it is, counted all the same
    return key


def _precheck(fm: str) -> None:
    """Refuse a front matter too big to build, before YAML builds anything: its size, then the values and
    characters it would expand to, counted over libyaml's parser events (an alias counts the whole value it
    names, a merge key ``<<`` too) and stopped at the limit. Building first is the bomb: a 1 MB string
    aliased 9,000 times, 900,000 keys (28 s, 890 MB), a big mapping merged into many others."""
    if len(fm) > MAX_FRONT_BYTES or len(fm.encode("utf-8", "surrogatepass")) > MAX_FRONT_BYTES:
        raise PostError(f"front matter too large: over {MAX_FRONT_BYTES:,} bytes")
    if "&" not in fm and len(fm) <= min(MAX_FRONT_VALUES, MAX_FRONT_CHARS):
        return  # no anchor, so no alias expands anything: no more values or characters than the text has
    values = chars = 0
    anchors: dict[str, tuple[int, int]] = {}  # anchor → (values, characters) of the node it names
    open_nodes: list[tuple[str | None, int, int]] = []  # containers being read: anchor, totals at their start
    for event in yaml.parse(fm, Loader=_LOADER):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            open_nodes.append((event.anchor, values, chars))
            values += 1
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, v0, c0 = open_nodes.pop()
            if anchor is not None:
                anchors[anchor] = (values - v0, chars - c0)
        elif isinstance(event, yaml.ScalarEvent):
            values, chars = values + 1, chars + len(event.value)
            if event.anchor is not None:
                anchors[event.anchor] = (1, len(event.value))
        elif isinstance(event, yaml.AliasEvent):
            v, c = anchors.get(event.anchor or "", (1, 0))  # not complete yet: recursive, the depth limit stops it
            values, chars = values + v, chars + c
        if values > MAX_FRONT_VALUES:
            raise PostError(f"front matter too large: over {MAX_FRONT_VALUES:,} values (YAML aliases expanded)")
        if chars > MAX_FRONT_CHARS:
            raise PostError(f"front matter too large: over {MAX_FRONT_CHARS:,} characters of text "
                            "(YAML aliases expanded)")


def load_front_matter(fm: str) -> dict[str, Any]:
    """YAML front matter text → a dict with str keys and cleaned text; PostError with the reason."""
    try:
        _precheck(fm)
        data = _HANDLER.load(fm)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise PostError(f"invalid YAML front matter{where}: {clean_line(str(problem))[:200]}") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as e:  # a constructor: !!int x, 2022-02-30
        raise PostError(f"invalid YAML front matter: {clean_line(str(e))[:200]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PostError(f"front matter is not a mapping of keys to values (it is a {type(data).__name__})")
    data = _clean_tree(data, _Budget())
    return {clean_line(str(k)): v for k, v in data.items()}


def split_front_matter(text: str) -> tuple[str | None, str]:
    """(front matter text or None, body) of a post whose text starts at its first line."""
    if not _HANDLER.FM_BOUNDARY.match(text):
        return None, text.strip()  # no '---' first line: no front matter (Jekyll would copy the file as is)
    parts = _HANDLER.FM_BOUNDARY.split(text, 2)
    if len(parts) < 3 or parts[0].strip():
        raise PostError("front matter is not closed (no second '---' line)")
    return parts[1], parts[2].strip()


def decode(data: bytes) -> tuple[str, str | None]:
    """Bytes → text. UTF-8 (BOM allowed), else GB18030 (noted); NUL or control bytes mean a binary file.

    Characters XML cannot hold (other control characters) are removed from the text.
    """
    head = data[:8192]
    if b"\x00" in head or len(_BINARY_BYTES.findall(head)) > max(8, len(head) // 100):
        raise PostError("binary file, not a text post")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return clean_text(data.decode("utf-8")), None
    except UnicodeDecodeError as e:
        utf8_error = e
    try:
        return clean_text(data.decode("gb18030")), "decoded as GB18030 (not UTF-8)"
    except UnicodeDecodeError:
        raise PostError(f"not valid UTF-8 (byte {utf8_error.start}) nor GB18030") from None
