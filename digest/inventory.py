"""Whole-site views: ``digest list`` (days × sections) and ``digest check`` (every post validated)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from .cache import PostCache
from .collect import filename_date, find_post_files, read_posts
from .errors import Problem
from .settings import Settings


@dataclass
class Inventory:
    days: dict[date, dict[str, int]] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.days.values())


def inventory(settings: Settings, *, start: date | None = None, end: date | None = None,
              use_cache: bool = True) -> Inventory:
    files = find_post_files(settings)
    if start or end:
        lo, hi = start or date.min, end or date.max
        files = [f for f in files if (d := filename_date(f.name)) is None or lo <= d <= hi]
    cache = PostCache(settings.site_root, enabled=use_cache)
    try:
        got = read_posts(settings, files, cache)
    finally:
        cache.close()
    days: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    tags: dict[str, set[str] | None] = {}
    for p in got.posts:
        if not p.published and not settings.include_unpublished:
            continue
        d = p.date.date()
        if (start and d < start) or (end and d > end):
            continue
        cat = p.categories[0] if p.categories else "uncategorized"
        days[d][cat] += 1
        common = tags.get(cat, set(p.tags))
        tags[cat] = common & set(p.tags) if common is not None else None
    titles = {}
    for cat, common in tags.items():
        if cat in settings.sections:
            titles[cat] = settings.sections[cat]
        elif common and len(common) == 1:
            titles[cat] = next(iter(common))
    order = [c for c in settings.section_order if c in tags] + sorted(c for c in tags if c not in settings.section_order)
    return Inventory(
        days={d: dict(days[d]) for d in sorted(days)}, categories=order, titles=titles,
        problems=[p for p in got.problems if p.skipped],
    )


@dataclass
class CheckReport:
    checked: int
    problems: list[Problem]


def check_site(settings: Settings) -> CheckReport:
    """Read and render every post (no cache), and load the theme: every problem, one line each."""
    from .assemble import unique_ids
    from .content import ContentRenderer
    from .themes import load_theme

    load_theme(settings)
    files = find_post_files(settings)
    got = read_posts(settings, files, PostCache(settings.site_root, enabled=False))
    renderer = ContentRenderer(settings)
    problems = list(got.problems)
    for src, pid in zip(got.posts, unique_ids(got.posts)):
        post = renderer.render(src, pid)
        if not post.text.strip():
            problems.append(Problem(src.path, "empty body", skipped=False))
    problems.sort(key=lambda p: (p.path.as_posix(), p.message))
    return CheckReport(checked=len(files), problems=problems)
