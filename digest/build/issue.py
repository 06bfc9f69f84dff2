"""The library's front door: settings → collect → assemble → exporters, one issue at a time.

:func:`build` is incremental: each issue's build record (:mod:`digest.manifest`) says what its files
were built from, and an issue whose inputs did not change is skipped (``force=True`` rebuilds).
Issues can be built in parallel (``jobs``): each worker process builds whole issues; results come
back to the parent in issue order. The output folder is locked for the whole build, and the archive
(index, Atom feed, OPDS catalog) is refreshed at the end.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Callable, Iterable, Iterator

from digest import __version__
from digest.editions import base as exporters
from digest.archive import records
from digest.assemble.assemble import assemble
from digest.runtime.cache import caching_set
from digest.sources.collect import Collected, collect
from digest.sources.discover import day_of_name, list_post_files
from digest.errors import NothingToBuild, PostError, Problem
from digest.model import Digest, issue_slug
from digest.config.settings import Settings
from digest.theming.loader import Theme, load_theme


@dataclass
class IssueResult:
    """One issue that was (re)built. ``digest`` is kept when built in this process (``jobs=1``)."""

    digest: Digest | None
    files: list[Path] = field(default_factory=list)
    slug: str = ""
    start: date | None = None
    end: date | None = None
    count: int = 0
    sections: int = 0
    duplicates_dropped: int = 0
    formats: list[str] = field(default_factory=list)


@dataclass
class BuildResult:
    issues: list[IssueResult] = field(default_factory=list)  # built (or rebuilt) this time
    unchanged: list[str] = field(default_factory=list)  # slugs of issues already up to date
    problems: list[Problem] = field(default_factory=list)
    empty_days: list[date] = field(default_factory=list)
    archive_files: list[Path] = field(default_factory=list)

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


def exclusions(settings: Settings, start: date, *, now: datetime | None = None,
               use_cache: bool = True) -> frozenset[str]:
    """Original URLs to leave out of an issue starting on ``start`` (``dedupe_days``)."""
    if settings.dedupe_days <= 0:
        return frozenset()
    from digest.assemble.crossday import previous_urls

    return previous_urls(settings, start, now=now, use_cache=use_cache)


def make_digest(settings: Settings, start: date, end: date, *, period: str = "day", use_cache: bool = True,
                now: datetime | None = None) -> Digest:
    """Collect and assemble one issue (no files written)."""
    collected = collect(settings, start, end, now=now, use_cache=use_cache)
    check_strict(settings, collected)
    exclude = exclusions(settings, start, now=now, use_cache=use_cache)
    return assemble(settings, collected, start, end, period=period, exclude_urls=exclude, use_cache=use_cache)


def write_issue(digest: Digest, formats: Iterable[str], out_dir: Path, *, theme: Theme, settings: Settings) -> list[Path]:
    files: list[Path] = []
    for fmt in formats:
        files.extend(exporters.get(fmt).write(digest, out_dir, theme=theme, settings=settings))
    return files


# -- one issue, incrementally ----------------------------------------------------------------------
@dataclass(frozen=True)
class IssueJob:
    settings: Settings
    start: date
    end: date
    period: str
    formats: tuple[str, ...]
    out_dir: Path
    theme_hash: str
    now: datetime
    force: bool = False
    use_cache: bool = True
    keep_digest: bool = False
    probe: str | None = None  # computed by the parent's quick check
    candidates: tuple[str, ...] | None = None  # the parent's listing of the issue's candidate files
    env: tuple[tuple[str, str | None], ...] = ()  # the parent's values of ENV_KEYS (workers start earlier)


@dataclass
class IssueOutcome:
    status: str  # "built" | "unchanged" | "empty"
    start: date
    end: date
    slug: str = ""
    problems: list[Problem] = field(default_factory=list)
    result: IssueResult | None = None


def _complete(job: IssueJob) -> bool:
    """True once the issue's last day is over: no post of it can still be dated in the future."""
    return job.now >= datetime.combine(job.end + timedelta(days=1), time(), job.settings.tz)


def _slug(job: IssueJob) -> str:
    return issue_slug(job.start, job.end, job.period)


def quick_check(job: IssueJob, files: records.PostFiles | None = None,
                memo: dict[Path, str] | None = None) -> tuple[str, bool]:
    """(probe, unchanged): the cheap test, reading candidate files' bytes but parsing nothing."""
    probe = records.probe(job.settings, job.start, job.end, job.period, job.theme_hash, files=files, memo=memo)
    record = None if job.force else records.load(job.out_dir, _slug(job))
    unchanged = (record is not None and bool(record.get("final")) and record.get("probe") == probe
                 and all(records.intact(job.out_dir, record["formats"].get(f)) for f in job.formats))
    return probe, unchanged


ENV_KEYS = ("SOURCE_DATE_EPOCH", "DIGEST_CACHE_DIR", "XDG_CACHE_HOME")


def _parent_env() -> tuple[tuple[str, str | None], ...]:
    return tuple((k, os.environ.get(k)) for k in ENV_KEYS)


def build_issue(job: IssueJob, theme: Theme | None = None) -> IssueOutcome:
    """Build one issue's stale formats; skip it when its record says nothing changed."""
    for key, value in job.env:  # a worker sees the environment its parent build had
        if value is None:
            os.environ.pop(key, None)
        elif os.environ.get(key) != value:
            os.environ[key] = value
    s, out_dir = job.settings, job.out_dir
    slug = _slug(job)
    complete = _complete(job)
    probe = job.probe
    if probe is None:
        probe, unchanged = quick_check(job)
        if unchanged:
            return IssueOutcome("unchanged", job.start, job.end, slug)
    record = None if job.force else records.load(out_dir, slug)
    collected = collect(s, job.start, job.end, now=job.now, use_cache=job.use_cache, files=job.candidates)
    check_strict(s, collected)
    problems = list(collected.problems)
    if not collected.posts:
        return IssueOutcome("empty", job.start, job.end, slug, problems)
    exclude = exclusions(s, job.start, now=job.now, use_cache=job.use_cache)
    posts = [(p.path.as_posix(), p.content_hash) for p in collected.posts]
    known = dict.fromkeys([*job.formats, *(record["formats"] if record else ())])  # asked for, or built before
    keys = records.format_keys(s, known, start=job.start, end=job.end, period=job.period,
                               theme=job.theme_hash, posts=posts, exclude=exclude)
    fresh = records.fresh_formats(out_dir, record, keys)  # a format built before stays while still valid
    stale = [f for f in job.formats if f not in fresh]
    if not stale:
        if record.get("probe") != probe or record.get("final") != complete:
            records.save(out_dir, {**record, "probe": probe, "final": complete})
        return IssueOutcome("unchanged", job.start, job.end, slug)
    digest = assemble(s, collected, job.start, job.end, period=job.period, exclude_urls=exclude,
                      use_cache=job.use_cache)
    problems = list(digest.problems)  # the collector's, plus bodies past the work limits (docs/safety.md)
    check_strict(s, digest)  # with --strict, a body past those limits is fatal too
    if digest.count == 0:  # every post was a cross-day duplicate
        return IssueOutcome("empty", job.start, job.end, slug, problems)
    theme = theme or _worker_theme(s)
    files: list[Path] = []
    formats = {} if record is None else {f: e for f, e in record["formats"].items() if f in fresh}
    for fmt in stale:
        with caching_set(job.use_cache):  # exporters' made-once outputs (drawn covers) obey --no-cache
            written = write_issue(digest, [fmt], out_dir, theme=theme, settings=s)
        formats[fmt] = {"key": keys[fmt], "files": records.file_entries(out_dir, written)}
        files.extend(written)
        if fmt == "epub" and s.archive.enabled:
            from digest.archive.catalog import ensure_cover

            ensure_cover(out_dir, slug, formats[fmt]["files"])  # here, so covers are made in parallel
    records.save(out_dir, {
        "slug": slug, "period": job.period, "start": job.start, "end": job.end, "title": digest.title,
        "site_title": digest.site_title, "lang": digest.lang, "generated": digest.generated.isoformat(),
        "count": digest.count, "duplicates_dropped": digest.duplicates_dropped,
        "sections": [[sec.title, len(sec.posts)] for sec in digest.sections],
        "version": __version__, "probe": probe, "final": complete, "posts": sorted(posts),
        "theme": job.theme_hash, "settings": records.settings_hash(s), "excluded_urls": len(exclude),
        "formats": formats,
    })
    issue = IssueResult(digest if job.keep_digest else None, files, slug, job.start, job.end, digest.count,
                        len(digest.sections), digest.duplicates_dropped, stale)
    return IssueOutcome("built", job.start, job.end, slug, problems, issue)


_THEMES: dict[str, Theme] = {}


def _worker_theme(settings: Settings) -> Theme:
    key = settings.model_dump_json()
    if key not in _THEMES:
        _THEMES[key] = load_theme(settings)
    return _THEMES[key]


def _run_jobs(jobs: list[IssueJob], workers: int, theme: Theme) -> Iterator[IssueOutcome]:
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield build_issue(job, theme)
        return
    from digest.runtime import parallel

    pool = parallel.pool(min(workers, len(jobs)), ["digest.build.issue", "digest.assemble.assemble", "digest.render.content",
                         *(exporters.BUILTIN[f] for f in jobs[0].formats if f in exporters.BUILTIN)])
    assert pool is not None  # two or more workers, and not fork-only: a pool is always made
    try:
        yield from pool.map(build_issue, jobs)  # in issue order, whatever order they finish in
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# -- the whole build ------------------------------------------------------------------------------
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
    force: bool = False,
    jobs: int = 1,
    now: datetime | None = None,
    wait: float = 600.0,
    on_wait: Callable[[], None] | None = None,
    archive: bool = True,
    keep_digests: bool = True,
) -> BuildResult:
    """Build every issue in [start, end] whose inputs changed (all of them with ``force``).

    Raises :class:`NothingToBuild` when no issue in the range has posts, and
    :class:`~digest.errors.BusyError` when another build keeps the folder locked past ``wait``.
    """
    from digest.runtime.lock import output_lock

    formats = tuple(dict.fromkeys(formats))
    for f in formats:
        exporters.get(f)  # fail early on an unknown or unavailable format
    theme = load_theme(settings)
    now = now or datetime.now(settings.tz)
    theme_hash, env = records.theme_hash(theme), _parent_env()
    todo = [IssueJob(settings, lo, hi, period, formats, out_dir, theme_hash, now, force, use_cache,
                     keep_digest=keep_digests and jobs <= 1, env=env) for lo, hi in periods(start, end, period)]
    result = BuildResult()
    post_files = records.PostFiles(list_post_files(settings))
    if not records.candidate_files(settings, start, end, files=post_files):  # nothing to build: leave OUT as is
        raise _nothing(settings, start, end)
    with output_lock(out_dir, wait, on_wait):
        memo: dict[Path, str] = {}
        pending = []
        for job in todo:  # the cheap check runs here, so only issues with work go to the workers
            if not records.candidate_files(settings, job.start, job.end, files=post_files):
                result.empty_days.append(job.start)
                continue
            probe, unchanged = quick_check(job, post_files, memo)
            if unchanged:
                result.unchanged.append(_slug(job))
            else:
                names = post_files.names_between(job.start - timedelta(days=1), job.end + timedelta(days=1))
                pending.append(replace(job, probe=probe, candidates=tuple(names)))
        for outcome in _run_jobs(pending, jobs, theme):
            result.problems.extend(outcome.problems)
            if outcome.status == "empty":
                result.empty_days.append(outcome.start)
            elif outcome.status == "unchanged":
                result.unchanged.append(outcome.slug)
            elif outcome.result is not None:
                result.issues.append(outcome.result)
                if on_issue:
                    on_issue(outcome.result)
        result.unchanged.sort()
        result.empty_days.sort()
        if archive and (result.issues or not archive_present(out_dir)) and (result.issues or result.unchanged):
            from digest.archive.catalog import write_archive

            result.archive_files = write_archive(out_dir, settings)
    if not result.issues and not result.unchanged:
        raise _nothing(settings, start, end)
    return result


def _nothing(settings: Settings, start: date, end: date) -> NothingToBuild:
    span = start.isoformat() if start == end else f"{start} to {end}"
    return NothingToBuild(f"no posts for {span} (time zone {settings.timezone})", settings.site_root)


def archive_present(out_dir: Path) -> bool:
    return (out_dir / "index.html").is_file()


def catch_up_start(settings: Settings, out_dir: Path, period: str = "day") -> date | None:
    """Where a catch-up starts: the newest issue built after its last day ended, else the first post.

    Every issue from there on is checked (each is rebuilt only if missing or outdated).
    """
    finals = [r for r in records.all_records(out_dir) if r.get("period") == period and r.get("final")]
    if finals:
        return date.fromisoformat(str(finals[-1]["start"]))
    dated = [d for f in list_post_files(settings) if (d := day_of_name(f))]
    if dated:
        return min(dated)
    from digest.sources.inventory import inventory

    table = inventory(settings)
    return next(iter(table.days), None)
