"""Which days a build covers: a day, a range, today so far, yesterday, or everything since the last
complete build (``--catch-up``); and how a range splits into issues (days, ISO weeks, months, one range)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from digest.archive import records
from digest.config.settings import Settings
from digest.errors import ConfigError
from digest.runtime.env import Environment

PERIODS = ("day", "week", "month", "range")


@dataclass(frozen=True)
class DateRequest:
    """The dates a user asked for (each ``None``/``False`` when not given)."""

    day: date | None = None  # --date
    start: date | None = None  # --from
    end: date | None = None  # --to
    today: bool = False  # --today: today's issue so far (an in-day cron refresh)
    yesterday: bool = False  # --yesterday (also what nothing else asks for)
    catch_up: bool = False  # --catch-up: every issue since the last complete build, up to --to
    period: str = "day"


_CONFLICTS: tuple[tuple[Callable[[DateRequest], Any], Callable[[DateRequest], Any], str], ...] = (
    # (what is given, what it cannot go with, the message)
    (lambda r: r.today, lambda r: r.day or r.start or r.end or r.catch_up or r.yesterday,
     "--today cannot be combined with --date, --from, --to, --yesterday or --catch-up"),
    (lambda r: r.yesterday, lambda r: r.day or r.start or r.end or r.catch_up,
     "--yesterday cannot be combined with --date, --from, --to or --catch-up"),
    (lambda r: r.day, lambda r: r.start or r.end, "give either --date or --from/--to, not both"),
    (lambda r: r.day, lambda r: r.catch_up, "give either --date or --catch-up, not both"),
)


def check(request: DateRequest) -> None:
    """Refuse combinations that ask for two different things (one line each)."""
    if request.period not in PERIODS:
        raise ConfigError(f"--period must be one of {', '.join(PERIODS)}, not {request.period!r}")
    for given, clashes, message in _CONFLICTS:
        if given(request) and clashes(request):
            raise ConfigError(message)
    if request.start and request.end and request.end < request.start:
        raise ConfigError("--to is before --from")


def yesterday(settings: Settings, now: datetime | None = None) -> date:
    return ((now or datetime.now(settings.tz)).astimezone(settings.tz) - timedelta(days=1)).date()


def resolve(settings: Settings, request: DateRequest, out_dir: Path, *, env: Environment,
            now: datetime | None = None) -> tuple[date, date]:
    """The first and last day the request covers, in the site's time zone."""
    check(request)
    now = now or datetime.now(settings.tz)
    if request.today:
        today = now.astimezone(settings.tz).date()
        return today, today
    if request.day:
        return request.day, request.day
    if request.catch_up:
        end = request.end or yesterday(settings, now)
        first = catch_up_start(settings, out_dir, request.period, env=env)
        start = max(d for d in (first, request.start) if d is not None) if (first or request.start) else end
        return min(start, end), end
    if request.start or request.end:
        lo = request.start or request.end
        hi = request.end or request.start
        assert lo is not None and hi is not None
        return lo, hi
    y = yesterday(settings, now)
    return y, y


def catch_up_start(settings: Settings, out_dir: Path, period: str = "day", *,
                   env: Environment) -> date | None:
    """Where a catch-up starts: the newest issue built after its last day ended, else the first post.

    Every issue from there on is checked (each is rebuilt only if missing or outdated)."""
    finals = [r for r in records.all_records(out_dir) if r.period == period and r.final]
    if finals:
        return finals[-1].start
    from digest.sources.siteindex import SiteIndex

    return SiteIndex(settings, env).first_day()


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
