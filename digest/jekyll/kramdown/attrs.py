"""kramdown attribute lists: ``{: .class #id key="value" ref}`` (IALs) and ``{:ref: …}`` (ALDs).

The patterns follow kramdown's ``parser/kramdown/extensions.rb`` (ASCII ``\\w`` as in Ruby), so the
same lists mean the same attributes; references name ALDs, ``toc`` or ``footnotes``.
"""
from __future__ import annotations

import re
from typing import Any

from markdown_it.token import Token

_KEY_VALUE = r"""(\w[\w-]*)=(["'])((?:\\\}|\\["']|[^}])*?)\2"""
_ID_OR_CLASS = r"""((?:#[A-Za-z][\w:-]*|\.[^\s.#]+)+)"""
ANY_ATTR = re.compile(rf"(?:\A|\s)(?:{_KEY_VALUE}|(\w[\w-]*)|{_ID_OR_CLASS})(?=\s|\Z)", re.ASCII)
_ONE_ID_OR_CLASS = re.compile(r"#([A-Za-z][\w:-]*)|\.([^\s.#]+)", re.ASCII)
LIST_BODY = r"(?:\\\}|[^}])+"
# A whole line that is an IAL, an ALD or an extension tag (kramdown's *_START patterns).
BLOCK_IAL = re.compile(rf"\{{:(?!:|/)({LIST_BODY})\}}[ \t]*\Z")
BLOCK_ALD = re.compile(rf"\{{:(\w[\w-]*):({LIST_BODY})\}}[ \t]*\Z", re.ASCII)
EXT_START = re.compile(r"\{::(\w+)(?:\s((?:\\\}|[^}])*?)|)(/)?\}|\{:/(\w[\w-]*)?\}", re.ASCII)
IAL_SPAN = re.compile(rf"\{{:({LIST_BODY})\}}")

Attrs = dict[str, Any]  # "class", "id", other names → str; "refs" → list[str]


def parse_list(text: str, into: Attrs | None = None) -> Attrs:
    """Add the attributes of one attribute list to ``into`` (classes accumulate, the rest override)."""
    attrs: Attrs = {} if into is None else into
    if not text.strip() or text.strip() == ":":
        return attrs
    for m in ANY_ATTR.finditer(text):
        key, quote, value, ref, id_class = m.group(1, 2, 3, 4, 5)
        if ref:
            attrs.setdefault("refs", []).append(ref)
        elif id_class:
            for one in _ONE_ID_OR_CLASS.finditer(id_class):
                if one[2]:
                    attrs["class"] = f"{attrs.get('class', '')} {one[2]}".lstrip()
                else:
                    attrs["id"] = one[1]
        else:
            attrs[key] = re.sub(r"\\([}" + quote + "])", r"\1", value)
    return attrs


def merge(target: Attrs, extra: Attrs) -> Attrs:
    for key, value in extra.items():
        if key == "class":
            target["class"] = f"{target.get('class', '')} {value}".lstrip()
        elif key == "refs":
            target.setdefault("refs", []).extend(value)
        else:
            target[key] = value
    return target


def resolve(attrs: Attrs, alds: dict[str, Attrs], depth: int = 0) -> Attrs:
    """The attributes an IAL gives, its ALD references expanded first (as kramdown does)."""
    out: Attrs = {}
    for ref in attrs.get("refs", ()):
        if ref in alds and depth < 8:
            merge(out, {k: v for k, v in resolve(alds[ref], alds, depth + 1).items() if k != "refs"})
    merge(out, {k: v for k, v in attrs.items() if k != "refs"})
    if attrs.get("refs"):
        out["refs"] = list(attrs["refs"])
    return out


def apply(token: Token, attrs: Attrs) -> None:
    """Set attributes on a markdown-it token; references are kept in ``meta`` (``toc``, ``footnotes``)."""
    for key, value in attrs.items():
        if key == "refs":
            token.meta = {**(token.meta or {}), "refs": [*(token.meta or {}).get("refs", []), *value]}
        elif key == "class" and token.attrGet("class"):
            token.attrSet("class", f"{token.attrGet('class')} {value}")
        else:
            token.attrSet(key, str(value))
