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


_TAG = re.compile(r'</?([a-z][a-z0-9]*)(?:\s+[^\s"\'<>/=]+(?:="[^"]*")?)*\s*/?>')  # (a "<" ends a tag)
# Where an HTML parser does more than drop the tags: tables move text out of them, <pre> drops a first line
# break, raw-text and foreign elements, document tags (and comments, CR, NUL, references other than the few the
# serialisers write). Elsewhere (most posts) the text is what is left once the tags are cut out.
_PARSED = frozenset({"table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "td", "th", "pre",
                     "listing", "textarea", "title", "script", "style", "xmp", "iframe", "noembed", "noframes",
                     "noscript", "plaintext", "template", "select", "option", "optgroup", "math", "svg", "isindex",
                     "html", "head", "body", "frameset"})
_OTHER_REFERENCE = re.compile(r"&(?!(?:amp|lt|gt|nbsp|quot|#39|#x27);)")


def _text(fragment: str) -> str:
    """The text of an HTML fragment, character references still in it (tests/test_render_shortcuts.py: the
    same as nh3's where the shortcut is taken)."""
    if "\r" not in fragment and "\x00" not in fragment and not _OTHER_REFERENCE.search(fragment):
        parts = _TAG.split(fragment)  # text, tag name, text, …
        text = "".join(parts[::2])
        if "<" not in text and _PARSED.isdisjoint(parts[1::2]):  # (a comment, a "<!" or "<?" is left: parsed)
            return text
    return nh3.clean(fragment, tags=set())


def plain_text(fragment: str) -> str:
    """Readable plain text of an HTML fragment: one line per block, entities decoded; a formula is its TeX."""
    if "<math" in fragment:
        fragment = _MATH.sub(lambda m: f" {m[2]} ", fragment)
    # no reference left in the text is a line break: decoded in one go
    text = htmllib.unescape(_text(_BLOCK_END.sub("\n", fragment)))
    if "  " in text or "\t" in text or "\u00a0" in text or "\u3000" in text:
        text = SPACES.sub(" ", text)
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


