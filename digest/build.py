"""The library's front door: settings → collect → assemble → exporters, one issue at a time."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable, Iterable

from . import exporters
from .assemble import assemble
from .collect import Collected, collect
from .errors import NothingToBuild, PostError, Problem
from .model import Digest
from .settings import Settings
from .themes import Theme, load_theme


@dataclass
class IssueResult:
    digest: Digest
    files: list[Path] = field(default_factory=list)


@dataclass
class BuildResult:
    issues: list[IssueResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    empty_days: list[date] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        return [f for i in self.issues for f in i.files]


def yesterday(settings: Settings, now: datetime | None = None) -> date:
    return ((now or datetime.now(settings.tz)).astimezone(settings.tz) - timedelta(days=1)).date()


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def periods(start: date, end: date, period: str) -> list[tuple[date, date]]:
    """Split [start, end] into issues: single days, ISO weeks, calendar months, or one range."""
    if period == "day":
        return [(d, d) for d in days(start, end)]
    if period == "range":
        return [(start, end)]
    out: list[tuple[date, date]] = []
    d = start
    while d <= end:
        if period == "week":
            lo = d - timedelta(days=d.weekday())
            hi = lo + timedelta(days=6)
        elif period == "month":
            lo = d.replace(day=1)
            hi = (lo + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        else:
            raise ValueError(f"unknown period {period!r}")
        out.append((lo, hi))
        d = hi + timedelta(days=1)
    return out


def check_strict(settings: Settings, collected: Collected) -> None:
    bad = [p for p in collected.problems if p.skipped]
    if settings.strict and bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise PostError(bad[0].message + more, bad[0].path)


def make_digest(settings: Settings, start: date, end: date, *, period: str = "day", use_cache: bool = True,
                now: datetime | None = None) -> Digest:
    """Collect and assemble one issue (no files written)."""
    collected = collect(settings, start, end, now=now, use_cache=use_cache)
    check_strict(settings, collected)
    return assemble(settings, collected, start, end, period=period)


def write_issue(digest: Digest, formats: Iterable[str], out_dir: Path, *, theme: Theme, settings: Settings) -> list[Path]:
    files: list[Path] = []
    for fmt in formats:
        files.extend(exporters.get(fmt).write(digest, out_dir, theme=theme, settings=settings))
    return files


def build(
    settings: Settings,
    start: date,
    end: date,
    formats: Iterable[str],
    out_dir: Path,
    *,
    period: str = "day",
    use_cache: bool = True,
    on_issue: Callable[[IssueResult], None] | None = None,
) -> BuildResult:
    """Build every issue in [start, end]. Raises :class:`NothingToBuild` when no issue has posts."""
    formats = list(dict.fromkeys(formats))
    mods = [exporters.get(f) for f in formats]  # fail early on an unknown or unavailable format
    del mods
    theme = load_theme(settings)
    result = BuildResult()
    for lo, hi in periods(start, end, period):
        digest = make_digest(settings, lo, hi, period=period, use_cache=use_cache)
        result.problems.extend(digest.problems)
        if digest.count == 0:
            result.empty_days.append(lo)
            continue
        issue = IssueResult(digest, write_issue(digest, formats, out_dir, theme=theme, settings=settings))
        result.issues.append(issue)
        if on_issue:
            on_issue(issue)
    if not result.issues:
        span = start.isoformat() if start == end else f"{start} to {end}"
        raise NothingToBuild(f"no posts for {span} (time zone {settings.timezone})", settings.site_root)
    return result
