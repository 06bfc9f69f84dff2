"""Plain text of sanitised HTML, and text cut to a length the way a reader expects."""
from __future__ import annotations

import html as htmllib
import re
from typing import Any

import nh3

from digest.render.trusted import MATH_ELEMENT
from digest.sources.frontmatter import clean_line

_BLOCK_END = re.compile(r"</(?:p|div|li|h[1-6]|blockquote|tr|pre|table|ul|ol|dl|dt|dd|figure|figcaption|section|"
                        r"article)>|<br\s*/?>", re.I)
SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_MATH = MATH_ELEMENT
_LATIN = re.compile(r"[A-Za-z0-9]")


def plain_text(fragment: str) -> str:
    """Readable plain text of an HTML fragment: one line per block, entities decoded; a formula is its TeX."""
    if "<math" in fragment:
        fragment = _MATH.sub(lambda m: f" {m[2]} ", fragment)
    # nh3 writes its text with &amp; &lt; &gt; &nbsp; only, none of them a line break: decoded in one go
    text = SPACES.sub(" ", htmllib.unescape(nh3.clean(_BLOCK_END.sub("\n", fragment), tags=set())))
    return "\n".join(filter(None, (line.strip() for line in text.split("\n"))))


def cut(text: str, limit: int) -> str:
    """Cut on a character boundary; never inside a Latin word; CJK text may break anywhere."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[:limit]
    if _LATIN.match(text[limit]) and _LATIN.match(head[-1]) and " " in head:
        head = head[: head.rindex(" ")]
    return head.rstrip(" ,.;:，。；：、") + "…"


def one_line(value: Any, limit: int = 200) -> str | None:
    """A front-matter value shown on one line (outlet, author): text only, cleaned and bounded."""
    if value is None or isinstance(value, (dict, list, tuple, set, bool)):
        return None
    text = clean_line(str(value))[:limit]
    return text or None


