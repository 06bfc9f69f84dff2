"""Planning the PDF's layout: the body cut into chunks of about equal weight, laid out side by side."""
from __future__ import annotations

import math
from dataclasses import dataclass

from digest.editions.pdf.merge import Mark
from digest.model import Digest, Post, Section
from digest.theming.loader import Theme

CHUNK_BYTES = 400_000  # at most this much body HTML per chunk (about 160 A4 pages): bounds a worker's memory
CHUNK_MIN_BYTES = 100_000  # below this, a chunk's fixed costs (and its own font subsets) outweigh the gain


@dataclass(frozen=True)
class Part:
    """A run of one section's articles; ``first`` when it opens the section (and carries its heading)."""

    section: Section
    posts: tuple[Post, ...]
    first: bool

    @property
    def weight(self) -> int:
        return sum(_weight(p) for p in self.posts)


def _weight(post: Post) -> int:
    return len(post.html) + len(post.title) * 3 + 400


def plan_chunks(digest: Digest, workers: int = 1, max_bytes: int = CHUNK_BYTES) -> list[list[Part]]:
    """Cut the body into chunks of about equal weight (HTML size): two per worker but none under
    ``CHUNK_MIN_BYTES`` (many cores, small day), none over ``max_bytes`` (memory).

    Cuts fall between sections when one is near (sections start on a new page anyway); otherwise inside a
    section, whose remainder then starts on a new page.
    """
    total = sum(_weight(p) for p in digest.posts)
    wanted = min(2 * workers, math.ceil(total / CHUNK_MIN_BYTES)) if workers > 1 else 1
    k = max(wanted, math.ceil(total / max_bytes), 1)
    target = total / k
    chunks: list[list[Part]] = []
    cur: list[Part] = []
    acc = 0
    for section in digest.sections:
        weight = sum(_weight(p) for p in section.posts)
        if cur and acc >= 0.7 * target and acc + weight > 1.3 * target:
            chunks.append(cur)
            cur, acc = [], 0
        if acc + weight <= 1.3 * target:
            cur.append(Part(section, section.posts, True))
            acc += weight
            continue
        run: list[Post] = []
        first = True
        for post in section.posts:
            run.append(post)
            acc += _weight(post)
            if acc >= target:
                cur.append(Part(section, tuple(run), first))
                chunks.append(cur)
                cur, acc, run, first = [], 0, [], False
        if run:
            cur.append(Part(section, tuple(run), first))
    if cur:
        chunks.append(cur)
    return chunks


def outline(digest: Digest, theme: Theme) -> list[Mark]:
    marks = [Mark(theme.labels.get("contents", "Contents"), "contents")]
    for s in digest.sections:
        posts = tuple(Mark(p.title, p.id) for p in s.posts)
        if digest.sectioned:
            marks.append(Mark(s.title, s.anchor, posts))
        else:  # one implicit section: the articles are the bookmarks
            marks.extend(posts)
    return marks
