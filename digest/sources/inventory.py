"""Whole-site views: ``digest list`` (days × sections) and ``digest check`` (every post validated)."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from pathlib import Path

from digest.runtime.cache import PostCache
from digest.sources.collect import read_posts
from digest.sources.discover import find_post_files, list_post_files, name_filter, stat_entries
from digest.sources.index import _SEP, scan_rows
from digest.errors import PostError, Problem
from digest.config.settings import Settings


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
    listing = list_post_files(settings)
    if start or end:
        listing = list(filter(name_filter(start or date.min, end or date.max), listing))
    entries, problems = stat_entries(settings.site_root, listing)
    rows = scan_rows(settings, entries, use_cache=use_cache, all_entries=not (start or end))
    lo, hi = (start or date.min).toordinal(), (end or date.max).toordinal()
    counts: Counter[tuple[int, str]] = Counter()
    tag_sets: dict[str, set[str] | None] = {}
    tags_seen: dict[tuple[str, str], None] = {}  # distinct (category, tags) pairs: few, however many posts
    for path, _m, _s, day, _ts, cats, tags, published, error in rows.values():
        if error is not None:
            problems.append(Problem(Path(path), error))
            continue
        if not published and not settings.include_unpublished:
            continue
        if not lo <= day <= hi:
            continue
        cat = cats.split(_SEP, 1)[0] if cats else "uncategorized"
        counts[(day, cat)] += 1
        tags_seen[(cat, tags)] = None
    for cat, tags in tags_seen:
        these = set(tags.split(_SEP)) if tags else set()
        common = tag_sets.get(cat)
        tag_sets[cat] = these if common is None else common & these
    days: dict[date, dict[str, int]] = defaultdict(dict)
    for (day, cat), n in sorted(counts.items()):
        days[date.fromordinal(day)][cat] = n
    tags = tag_sets
    titles = {}
    for cat, common in tags.items():
        if cat in settings.sections:
            titles[cat] = settings.sections[cat]
        elif common and len(common) == 1:
            titles[cat] = next(iter(common))
    order = [c for c in settings.section_order if c in tags] + sorted(c for c in tags if c not in settings.section_order)
    return Inventory(
        days=dict(days), categories=order, titles=titles,
        problems=sorted(problems, key=lambda p: p.path.as_posix()),
    )


@dataclass
class CheckReport:
    checked: int
    problems: list[Problem]


def check_site(settings: Settings) -> CheckReport:
    """Read and render every post (no cache), and load the theme: every problem, one line each."""
    from digest.assemble.assemble import unique_ids
    from digest.render.content import ContentRenderer
    from digest.theming.loader import load_theme

    load_theme(settings)
    files = find_post_files(settings)
    got = read_posts(settings, files, PostCache(settings.site_root, enabled=False))
    renderer = ContentRenderer(settings)
    problems = list(got.problems)
    for src, pid in zip(got.posts, unique_ids(got.posts)):
        try:
            post = renderer.render(src, pid)
        except PostError as e:
            problems.append(Problem(src.path, e.message))
            continue
        if not post.text.strip():
            problems.append(Problem(src.path, "empty body", skipped=False))
    problems.sort(key=lambda p: (p.path.as_posix(), p.message))
    return CheckReport(checked=len(files), problems=problems)
