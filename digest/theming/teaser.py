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
    body = norm("".join(lines))
    if body.startswith(summary) and len(summary) >= TEASER_SHARE * len(body):
        return ""
    return post.summary
