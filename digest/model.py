"""The digest model: small, typed, frozen records built once and only read by exporters."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

from digest.errors import Problem
from digest.runtime.spill import Stored, text_of

_EMPTY: Mapping[str, Any] = MappingProxyType({})
IMPLICIT = "uncategorized"  # the section of posts without a category


@dataclass(frozen=True, slots=True)
class Attribution:
    """Where an article comes from: the outlet, the original article, the post on the site."""

    outlet: str | None = None
    original_url: str | None = None
    post_url: str | None = None
    author: str | None = None


@dataclass(frozen=True, slots=True)
class Post:
    """One article, parsed, dated in the site's time zone, sanitised and attributed."""

    id: str  # unique inside a digest; safe as an HTML/XML id and as a file name
    path: Path  # the source file, relative to the site root
    title: str
    date: dt.datetime  # aware, in the site's time zone
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    body_html: str | Stored  # sanitised body (HTML fragment, ids prefixed with ``id``): read it as ``html``
    body_text: str | Stored  # plain text of the body (for search and the email text part): read it as ``text``
    summary: str
    attribution: Attribution
    slug: str
    content_hash: str  # hash of the source file's bytes
    extra: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)  # front-matter keys digest does not know
    lang: str = ""  # a language tag: the post's own ``lang``, else the site's, else found from its text
    timed: bool = True  # its date has a time of day (a date alone is shown without one)
    notices: tuple[Problem, ...] = ()  # what rendering it met (Liquid, Markdown, maths): reported with the issue

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:  # pickling: ``extra`` is a read-only mapping proxy
        fields = {f: getattr(self, f) for f in self.__dataclass_fields__}
        fields["extra"] = dict(self.extra)
        return (_make_post, (fields,))

    @property
    def html(self) -> str:
        """The body; on a huge day it is read back from disk each time (see :mod:`digest.runtime.spill`)."""
        return text_of(self.body_html)

    @property
    def text(self) -> str:
        return text_of(self.body_text)

    @property
    def category(self) -> str:
        return self.categories[0] if self.categories else IMPLICIT

    @property
    def day(self) -> dt.date:
        return self.date.date()


def _make_post(fields: dict[str, Any]) -> Post:
    return Post(**{**fields, "extra": MappingProxyType(fields["extra"])})


@dataclass(frozen=True, slots=True)
class Section:
    """The posts of one category, in reading order."""

    id: str  # the category id, e.g. ``emnews``
    title: str  # the human title, e.g. ``东财滚动新闻``
    anchor: str  # unique HTML id of the section inside the digest
    posts: tuple[Post, ...]


def issue_slug(start: dt.date, end: dt.date, period: str = "day") -> str:
    """The stable file stem of an issue: ``2021-12-08``, ``2021-W49``, ``2021-12`` or ``A_B`` for a range."""
    if period == "week":
        y, w, _ = start.isocalendar()
        return f"{y}-W{w:02d}"
    if period == "month":
        return f"{start:%Y-%m}"
    if start == end:
        return start.isoformat()
    return f"{start.isoformat()}_{end.isoformat()}"


@dataclass(frozen=True)
class Digest:
    """One issue: the posts of a day (or a range of days) grouped in sections."""

    site_title: str
    site_url: str
    lang: str
    timezone: str
    start: dt.date
    end: dt.date
    sections: tuple[Section, ...]
    generated: dt.datetime  # SOURCE_DATE_EPOCH, else the newest post's date: keeps builds reproducible
    period: str = "day"  # day | week | month | range
    duplicates_dropped: int = 0
    problems: tuple[Problem, ...] = ()

    @cached_property
    def posts(self) -> tuple[Post, ...]:
        return tuple(p for s in self.sections for p in s.posts)

    @cached_property
    def _index(self) -> dict[str, tuple[int, Section]]:
        out: dict[str, tuple[int, Section]] = {}
        i = 0
        for s in self.sections:
            for p in s.posts:
                out[p.id] = (i, s)
                i += 1
        return out

    def __iter__(self) -> Iterator[Post]:
        for s in self.sections:
            yield from s.posts

    @property
    def sectioned(self) -> bool:
        """False when the issue's only section is the implicit one (a site without categories): editions then
        show no section heading, no section count and a flat table of contents."""
        return not (len(self.sections) == 1 and self.sections[0].id == IMPLICIT)

    @property
    def count(self) -> int:
        return sum(len(s.posts) for s in self.sections)

    @property
    def slug(self) -> str:
        """The stable file stem of this issue, e.g. ``2021-12-08`` or ``2021-12-01_2021-12-07``."""
        return issue_slug(self.start, self.end, self.period)

    @property
    def date_label(self) -> str:
        if self.start == self.end:
            return self.start.isoformat()
        return f"{self.start.isoformat()} – {self.end.isoformat()}"

    @property
    def title(self) -> str:
        return f"{self.site_title} {self.date_label}"

    def top_headlines(self, n: int = 6) -> tuple[Post, ...]:
        """The issue's top ``n`` articles: each section's first, then each one's second, and so on."""
        out: list[Post] = []
        depth = 0
        while len(out) < n and any(depth < len(s.posts) for s in self.sections):
            out.extend(s.posts[depth] for s in self.sections if depth < len(s.posts))
            depth += 1
        return tuple(out[:n])

    def neighbours(self, post: Post) -> tuple[Post | None, Post | None]:
        """The previous and next article in reading order (across sections)."""
        posts = self.posts
        i = self._index[post.id][0]
        return (posts[i - 1] if i else None, posts[i + 1] if i + 1 < len(posts) else None)

    def section_of(self, post: Post | str) -> Section:
        """The section of a post (or of the post with that id)."""
        return self._index[post if isinstance(post, str) else post.id][1]

    def post(self, post_id: str) -> Post:
        """The post with that id (KeyError when the issue has none)."""
        return self.posts[self._index[post_id][0]]
