"""The whole site at a glance (``digest list``): posts per day and section, from the index alone."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from pathlib import Path

from digest.config.settings import Settings
from digest.errors import Problem, Skipped
from digest.runtime.env import Environment
from digest.sources.discover import list_post_files, name_filter, stat_entries
from digest.sources.index import SEP, scan_rows


@dataclass
class Inventory:
    days: dict[date, dict[str, int]] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.days.values())


def inventory(settings: Settings, *, env: Environment | None = None, start: date | None = None,
              end: date | None = None) -> Inventory:
    env = env or Environment.from_os()
    listing = list_post_files(settings)
    if start or end:
        listing = list(filter(name_filter(start or date.min, end or date.max), listing))
    entries, problems = stat_entries(settings.site_root, listing)
    rows = scan_rows(settings, entries, env=env, all_entries=not (start or end))
    lo, hi = (start or date.min).toordinal(), (end or date.max).toordinal()
    counts: Counter[tuple[int, str]] = Counter()
    tag_sets: dict[str, set[str] | None] = {}
    tags_seen: dict[tuple[str, str], None] = {}  # distinct (category, tags) pairs: few, however many posts
    for path, _m, _s, day, _ts, cats, tags, published, error in rows.values():
        if error is not None:
            problems.append(Skipped(Path(path), error))
            continue
        if not published and not settings.include_unpublished:
            continue
        if not lo <= day <= hi:
            continue
        cat = cats.split(SEP, 1)[0] if cats else "uncategorized"
        counts[(day, cat)] += 1
        tags_seen[(cat, tags)] = None
    for cat, tags in tags_seen:
        these = set(tags.split(SEP)) if tags else set()
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
