"""The whole build: every issue of a range, incrementally, under the output folder's lock; then the archive.

Each issue's build record says what its files were built from, and an issue whose inputs did not change
is skipped (``force`` rebuilds). The cheap check runs here, so only issues with work go on; with ``jobs``
they are built in worker processes, results coming back in issue order. The archive (index, Atom feed,
OPDS catalog) is refreshed at the end.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from digest import editions as registry
from digest.build.dates import DateRequest, periods, resolve
from digest.build.issue import IssueJob, IssueOutcome, IssueResult, build_issue, build_share, quick_check
from digest.config.load import output_folder
from digest.config.settings import Settings
from digest.editions import load_settings
from digest.errors import ConfigError, NothingToBuild, Problem, quoted_path
from digest.runtime import parallel
from digest.runtime.env import Environment
from digest.runtime.files import failed_folder, is_storage_error, storage_error
from digest.runtime.lock import output_lock
from digest.sources.discover import PostFiles, candidate_files, list_post_files, post_folders
from digest.theming.loader import Theme, fingerprint, load_theme


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


@dataclass(frozen=True)
class BuildOptions:
    """How to build, besides what (settings, dates, formats, output folder)."""

    period: str = "day"
    force: bool = False
    jobs: int = 1
    wait: float = 600.0  # seconds to wait for another build's lock
    archive: bool = True
    keep_digests: bool = True  # keep each issue's Digest in the result (built in this process only)


def _run_jobs(jobs: list[IssueJob], workers: int, theme: Theme) -> Iterator[IssueOutcome]:
    """Each job's outcome, in order: here, or on worker processes in shares (each loads the theme once)."""
    allowed = all(registry.get(f).parallel for f in (jobs[0].formats if jobs else ()))
    if workers <= 1 or len(jobs) <= 1 or not allowed:
        for job in jobs:
            yield build_issue(job, theme)
        return
    n = min(workers, len(jobs))
    size = max(1, -(-len(jobs) // (2 * n)))  # two shares per worker: they finish about together
    shares = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    preload = ["digest.build.issue", *(m for f in jobs[0].formats for m in registry.get(f).preload)]
    for outcomes in parallel.run_jobs(build_share, shares, n, preload):
        yield from outcomes


def build(
    settings: Settings,
    start: date,
    end: date,
    formats: Iterable[str],
    out_dir: Path,
    options: BuildOptions = BuildOptions(),
    *,
    env: Environment | None = None,
    now: datetime | None = None,
    on_issue: Callable[[IssueResult], None] | None = None,
    on_wait: Callable[[], None] | None = None,
) -> BuildResult:
    """Build every issue in [start, end] whose inputs changed (all of them with ``force``).

    Raises :class:`NothingToBuild` when no issue in the range has posts, and
    :class:`~digest.errors.BusyError` when another build keeps the folder locked past ``wait``.
    """
    env = env or Environment.from_os()
    names = tuple(registry.canonical(list(formats)))  # fails early on an unknown or unavailable format
    refuse_output_in_posts(settings, out_dir)
    theme = load_theme(settings, cache_dir=env.cache_dir)
    now = now or datetime.now(settings.tz)
    theme_key = fingerprint(theme)  # once: it reads every file of the theme chain
    todo = [IssueJob(settings, lo, hi, options.period, names, out_dir, theme_key, now, env, options.force,
                     keep_digest=options.keep_digests and options.jobs <= 1)
            for lo, hi in periods(start, end, options.period)]
    result = BuildResult()
    post_files = PostFiles(list_post_files(settings))
    if not candidate_files(settings, start, end, files=post_files):  # nothing to build: leave OUT as is
        raise _nothing(settings, start, end)
    try:
        _build_locked(todo, settings, post_files, out_dir, options, theme, result, on_issue, on_wait)
    except OSError as e:  # the disk, not digest: full, read-only, a quota (a temporary folder, a record…)
        if is_storage_error(e):
            raise storage_error(e, failed_folder(e, out_dir)) from None
        raise
    if not result.issues and not result.unchanged:
        raise _nothing(settings, start, end)
    return result


def _build_locked(todo: list[IssueJob], settings: Settings, post_files: PostFiles, out_dir: Path,
                  options: BuildOptions, theme: Theme, result: BuildResult,
                  on_issue: Callable[[IssueResult], None] | None, on_wait: Callable[[], None] | None) -> None:
    with output_lock(out_dir, options.wait, on_wait):
        pending = _pending(todo, settings, post_files, result)
        for outcome in _run_jobs(pending, options.jobs, theme):
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
        if options.archive and (result.issues or not archive_present(out_dir)) and (result.issues or result.unchanged):
            from digest.archive.catalog import write_archive

            result.archive_files = write_archive(out_dir, settings, theme)


def refuse_output_in_posts(settings: Settings, out_dir: Path) -> None:
    """An output folder inside a posts folder would have its files read back as (bad) posts by the next build."""
    out = out_dir.resolve()
    root = settings.site_root.resolve()
    for folder in post_folders(settings):
        real = folder.resolve()
        if out == real or out.is_relative_to(real):
            shown = real.relative_to(root) if real.is_relative_to(root) else real
            raise ConfigError(f"the output folder {quoted_path(out_dir)} is inside the posts folder "
                              f"{quoted_path(shown)}; the next build would read its files as posts")


def _pending(todo: list[IssueJob], settings: Settings, post_files: PostFiles, result: BuildResult) -> list[IssueJob]:
    """The issues with work: the cheap check runs here, so only those go on (to the workers)."""
    memo: dict[Path, str] = {}
    pending = []
    for job in todo:
        if not candidate_files(settings, job.start, job.end, files=post_files):
            result.empty_days.append(job.start)
            continue
        key, unchanged = quick_check(job, post_files, memo)
        if unchanged:
            result.unchanged.append(job.slug)
        else:
            names = post_files.names_between(job.start - timedelta(days=1), job.end + timedelta(days=1))
            pending.append(replace(job, probe=key, candidates=tuple(names)))
    return pending


def _nothing(settings: Settings, start: date, end: date) -> NothingToBuild:
    span = start.isoformat() if start == end else f"{start} to {end}"
    return NothingToBuild(f"no posts for {span} (time zone {settings.timezone})", settings.site_root)


def archive_present(out_dir: Path) -> bool:
    return (out_dir / "index.html").is_file()


@dataclass(frozen=True)
class SiteBuild:
    """A build as the command line asks for it: a site, the flags given, the dates, where to."""

    site: Path
    config: Path | None
    overrides: Mapping[str, Any]  # settings given as flags (None: not given)
    dates: DateRequest
    out: Path | None  # --out (None: the settings' ``out``, else ./out)
    options: BuildOptions
    env: Environment


def build_site(request: SiteBuild, *, on_issue: Callable[[IssueResult], None] | None = None,
               on_wait: Callable[[Path], None] | None = None) -> tuple[BuildResult, Path]:
    """Load the site's settings, work out the dates and the output folder, and build; (result, folder)."""
    settings = load_settings(request.site, request.config, request.overrides)
    out_dir = output_folder(request.site, settings, request.out)
    start, end = resolve(settings, request.dates, out_dir, env=request.env)
    options = replace(request.options, period=request.dates.period)
    result = build(settings, start, end, settings.formats, out_dir, options, env=request.env, on_issue=on_issue,
                   on_wait=(lambda: on_wait(out_dir)) if on_wait else None)
    return result, out_dir
