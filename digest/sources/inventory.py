"""The whole site at a glance (``digest list``): posts per day and section, from the index alone."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from digest.config.settings import Settings
from digest.errors import Problem
from digest.runtime.env import Environment
from digest.sources.index import SEP
from digest.sources.siteindex import SiteIndex


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
    """Posts per day and section, from the index (every file checked: see :class:`SiteIndex`)."""
    env = env or Environment.from_os()
    index = SiteIndex(settings, env, full=True)
    groups, problems = index.counts()
    problems += index.problems
    lo, hi = (start or date.min).toordinal(), (end or date.max).toordinal()
    counts, tags_seen = _count(groups, settings.include_unpublished, lo, hi)
    days: dict[date, dict[str, int]] = defaultdict(dict)
    for (day, cat), n in sorted(counts.items()):
        days[date.fromordinal(day)][cat] = n
    common = _common_tags(tags_seen)
    order = [c for c in settings.section_order if c in common]
    order += sorted(c for c in common if c not in settings.section_order)
    return Inventory(days=dict(days), categories=order, titles=_titles(settings, common),
                     problems=sorted(problems, key=lambda p: p.path.as_posix()))


def _count(groups: Iterable[tuple[int, str | None, str | None, int, int]], unpublished: bool, lo: int,
           hi: int) -> tuple[Counter[tuple[int, str]], dict[tuple[str, str], None]]:
    """Posts per (day, section) in [lo, hi], and the distinct (section, tags) pairs (few, however many posts)."""
    counts: Counter[tuple[int, str]] = Counter()
    tags_seen: dict[tuple[str, str], None] = {}
    for day, cats, tags, published, n in groups:
        if not (published or unpublished) or not lo <= day <= hi:
            continue
        cat = cats.split(SEP, 1)[0] if cats else "uncategorized"
        counts[(day, cat)] += n
        tags_seen[(cat, tags or "")] = None
    return counts, tags_seen


def _common_tags(tags_seen: dict[tuple[str, str], None]) -> dict[str, set[str]]:
    """Category → the tags every one of its posts has."""
    out: dict[str, set[str]] = {}
    for cat, tags in tags_seen:
        these = set(tags.split(SEP)) if tags else set()
        out[cat] = these if cat not in out else out[cat] & these
    return out


def _titles(settings: Settings, common: dict[str, set[str]]) -> dict[str, str]:
    """A section's title: from ``[sections]``, else its posts' one common tag (as the assembled issue does)."""
    titles = {}
    for cat, tags in common.items():
        if cat in settings.sections:
            titles[cat] = settings.sections[cat]
        elif len(tags) == 1:
            titles[cat] = next(iter(tags))
    return titles
