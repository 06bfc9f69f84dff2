"""Planning the PDF's layout: the body cut into pieces that stay the same when posts come and go.

A piece is a run of one section's articles laid out on its own (it starts on a new page), so it can be kept
in the cache and reused by the next build. Where a section is cut depends only on the articles themselves
(a hash of each article's id, as content-defined chunking does for files): adding, changing or removing an
article changes the piece it lands in, and at most its neighbour, never the cuts further on. The in-day
cron adds articles at the end of their section (or at its start, with ``article_order = "desc"``), so one
new article means one piece to lay out again.

Pieces that are missing are then grouped into jobs of about equal weight (one WeasyPrint document write
each, so a cold build pays the font work a few times, not once per piece).
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from digest.editions.pdf.merge import Mark
from digest.model import Digest, Post, Section
from digest.theming.loader import Theme

PIECE_MIN = 24_000  # body HTML bytes before a piece may end (about 8 A4 pages): the layout's fixed cost
PIECE_MAX = 72_000  # a piece ends here whatever the hashes say: bounds the work of a rebuild
CUT_ONE_IN = 3  # past PIECE_MIN, an article ends its piece when its id hashes to 0 modulo this


@dataclass(frozen=True)
class Part:
    """A run of one section's articles; ``first`` when it opens the section (and carries its heading)."""

    section: Section
    posts: tuple[Post, ...]
    first: bool

    @property
    def weight(self) -> int:
        return sum(weight(p) for p in self.posts)


def weight(post: Post) -> int:
    """What laying out an article costs, roughly: its HTML, its title and a fixed part (meta, attribution)."""
    return len(post.html) + len(post.title) * 3 + 400


def _cuts_after(post: Post) -> bool:
    h = hashlib.sha1(post.id.encode("utf-8")).digest()
    return int.from_bytes(h[:4], "big") % CUT_ONE_IN == 0


def _section_parts(section: Section, lo: int, hi: int) -> list[Part]:
    parts: list[Part] = []
    run: list[Post] = []
    acc = 0
    for post in section.posts:
        run.append(post)
        acc += weight(post)
        if acc >= hi or (acc >= lo and _cuts_after(post)):
            parts.append(Part(section, tuple(run), not parts))
            run, acc = [], 0
    if run:  # the tail: where the in-day cron adds articles (asc order), so it is cut like any other
        parts.append(Part(section, tuple(run), not parts))
    return parts


def plan_pieces(digest: Digest, lo: int | None = None, hi: int | None = None) -> list[Part]:
    """The body's pieces in reading order: every article once, each section opened by its first piece."""
    lo = PIECE_MIN if lo is None else lo
    hi = PIECE_MAX if hi is None else hi
    return [part for section in digest.sections for part in _section_parts(section, lo, hi)]


def group_jobs(weights: Sequence[int], workers: int, fixed: int = 0) -> list[list[int]]:
    """Indices of ``weights`` shared out into jobs of about equal weight: two per worker (so that the
    workers end together), each piece to the lightest job so far, heaviest pieces first. ``fixed`` is
    the weight already in the first job (the front matter)."""
    count = max(1, min(len(weights), 2 * workers if workers > 1 else 1))
    load = [fixed] + [0] * (count - 1)
    jobs: list[list[int]] = [[] for _ in range(count)]
    for i in sorted(range(len(weights)), key=lambda i: (-weights[i], i)):
        k = min(range(count), key=lambda j: (load[j], j))
        jobs[k].append(i)
        load[k] += weights[i]
    return [sorted(job) for job in jobs if job]


def outline(digest: Digest, theme: Theme) -> list[Mark]:
    marks = [Mark(theme.labels.get("contents", "Contents"), "contents")]
    for s in digest.sections:
        posts = tuple(Mark(p.title, p.id) for p in s.posts)
        if digest.sectioned:
            marks.append(Mark(s.title, s.anchor, posts))
        else:  # one implicit section: the articles are the bookmarks
            marks.extend(posts)
    return marks
