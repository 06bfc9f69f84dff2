"""The ``teaser`` filter: a post's summary when it presents the article, nothing when it repeats it.

A short item's summary is the item itself (the first paragraph, cut at ``summary_length``): a contents or
section page that shows it above the article doubles what a reader has to get through.
"""
from __future__ import annotations

import re
import unicodedata

from digest.model import Post

_NOT_WORD = re.compile(r"[\W_]+", re.U)
_SOURCE_LINE = re.compile(r"^[（(\[【]?\s*(?:文章)?来源[:：]|^source:", re.I)
_ASCII = re.compile(r"[\x00-\x7f]")
TEASER_SHARE = 0.8  # a summary this close to the whole body (less its outlet line) repeats it


def norm(text: str) -> str:
    """Text compared for repetition: letters and digits only, case-folded, NFKC (full-width = half-width)."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text)).casefold()


def teaser(post: Post) -> str:
    """``post.summary``, or "" when the body says little more than the summary does."""
    summary = norm(post.summary.removesuffix("…"))
    if not summary:
        return ""
    lines = [line for line in post.text.splitlines() if not _SOURCE_LINE.match(line.strip())]
    text = "".join(lines)
    head = _head(text, 2 * len(summary) + 64)
    if head is not None and TEASER_SHARE * len(norm(head)) > len(summary):
        return post.summary  # the body is longer than the summary by far already in its first lines
    body = norm(text)
    if body.startswith(summary) and len(summary) >= TEASER_SHARE * len(body):
        return ""
    return post.summary


def _head(text: str, at_least: int) -> str | None:
    """The start of ``text`` cut before an ASCII character at or past ``at_least`` (None: no such cut), so that
    ``norm(text) == norm(head) + norm(rest)``: NFKC never composes an ASCII character with what comes before
    it, nor anything after it with what comes before it (it is a starter); case folding and the removal of
    non-word characters go character by character. Normalising a long article whole to learn that it is
    longer than its summary took a month's EPUB 5 s."""
    if len(text) <= at_least:
        return None
    cut = _ASCII.search(text, at_least)
    return text[: cut.start()] if cut is not None else None
