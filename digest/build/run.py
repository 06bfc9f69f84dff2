"""The whole build: every issue of a range, incrementally, under the output folder's lock; then the archive.

Each issue's build record says what its files were built from, and an issue whose inputs did not change
is skipped (``force`` rebuilds). The cheap check runs here, so only issues with work go on; with ``jobs``
they are built in worker processes, results coming back in issue order. The archive (index, Atom feed,
OPDS catalog) is refreshed at the end.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from digest import editions as registry
from digest.build.dates import DateRequest, periods, resolve
from digest.build.issue import IssueJob, IssueOutcome, IssueResult, build_issue, build_share, quick_check
from digest.build.shards import Shard, parse_shard, split
from digest.config.load import output_folder
from digest.config.settings import Settings
from digest.editions import load_settings
from digest.errors import BusyError, ConfigError, NothingToBuild, Problem, quoted_path
from digest.runtime import parallel, zygote
from digest.runtime.env import Environment
from digest.runtime.files import failed_folder, is_storage_error, storage_error
from digest.runtime.lock import output_lock, remove_stale_temp_files
from digest.sources.sample import settled
from digest.sources.siteindex import SiteIndex, dated_between
from digest.theming.loader import Theme, fingerprint, load_theme


@dataclass
class BuildResult:
    issues: list[IssueResult] = field(default_factory=list)  # built (or rebuilt) this time
    unchanged: list[str] = field(default_factory=list)  # slugs of issues already up to date
    problems: list[Problem] = field(default_factory=list)
    empty_days: list[date] = field(default_factory=list)
    archive_files: list[Path] = field(default_factory=list)
    archive_deferred: bool = False  # a shard left the archive to the last one to finish (another was busy)

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
    shard: Shard | None = None  # build only this shard's issues (``--shard K/N``; docs/scale.md)


def _run_jobs(jobs: list[IssueJob], workers: int, theme: Theme) -> Iterator[IssueOutcome]:
    """Each job's outcome, in order: here, or on worker processes in shares (each loads the theme once)."""
    if _built_here(jobs, workers):
        for job in jobs:
            yield build_issue(job, theme)
        return
    n = min(workers, len(jobs))
    size = max(1, -(-len(jobs) // (2 * n)))  # two shares per worker: they finish about together
    shares = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    preload = ["digest.build.issue", *(m for f in jobs[0].formats for m in registry.get(f).preload)]
    for outcomes in parallel.run_jobs(build_share, shares, n, preload):
        yield from outcomes


def _built_here(jobs: list[IssueJob], workers: int) -> bool:
    """Whether the issues are built in this process (else in worker processes, by shares)."""
    allowed = all(registry.get(f).parallel for f in (jobs[0].formats if jobs else ()))
    return workers <= 1 or len(jobs) <= 1 or not allowed


def _start_workers(settings: Settings, jobs: list[IssueJob], workers: int) -> None:
    """The editions that will fork workers from this process have the process they fork from started now,
    importing what they need on another core while this one collects the issue (a PDF's layouts:
    WeasyPrint). Only once an issue is known to need building: a build that finds nothing new starts none."""
    if not jobs or not _built_here(jobs, workers):
        return
    preload = [m for f in jobs[0].formats for m in registry.get(f).forks(settings)]
    if preload:
        zygote.start(list(dict.fromkeys(preload)))


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
    theme = load_theme(settings, cache_dir=env.cache_dir)
    now = now or datetime.now(settings.tz)
    index = SiteIndex(settings, env)
    refuse_output_in_posts(index, out_dir)
    if not dated_between(index, start, end):  # nothing to build: leave OUT as is
        raise _nothing(settings, start, end)
    settings = settled(settings, env, index)  # the attribution preset, once for every issue
    theme_key = fingerprint(theme)  # once: it reads every file of the theme chain
    todo = [IssueJob(settings, lo, hi, options.period, names, out_dir, theme_key, now, env, options.force,
                     keep_digest=options.keep_digests and options.jobs <= 1)
            for lo, hi in periods(start, end, options.period)]
    if options.shard is not None:
        todo = _shard_jobs(todo, options.shard, index)
    result = BuildResult()
    try:
        _build_locked(todo, settings, index, out_dir, options, theme, result, on_issue, on_wait)
    except OSError as e:  # the disk, not digest: full, read-only, a quota (a temporary folder, a record…)
        if is_storage_error(e):
            raise storage_error(e, failed_folder(e, out_dir)) from None
        raise
    if options.shard is not None:
        return result
    if not result.issues and not result.unchanged:
        raise _nothing(settings, start, end)
    return result


def _build_locked(todo: list[IssueJob], settings: Settings, index: SiteIndex, out_dir: Path,
                  options: BuildOptions, theme: Theme, result: BuildResult,
                  on_issue: Callable[[IssueResult], None] | None, on_wait: Callable[[], None] | None) -> None:
    with output_lock(out_dir, options.wait, on_wait, shared=options.shard is not None):
        pending = _pending(todo, index, result)
        _start_workers(settings, pending, options.jobs)
        try:
            for outcome in _run_jobs(pending, options.jobs, theme):
                _record(result, outcome, on_issue)
        except BaseException:  # Ctrl-C, SIGTERM, a failure: the workers were killed mid-write
            if options.shard is None:  # (the lock is ours alone: every temporary file here is of this build)
                remove_stale_temp_files(out_dir)
            raise
        result.unchanged.sort()
        result.empty_days.sort()
        if options.shard is None and _archive_due(options, out_dir, result):
            result.archive_files = _write_archive(out_dir, settings, theme)
    if options.shard is not None:
        _shard_archive(out_dir, settings, theme, options, result)


def refuse_output_in_posts(index: SiteIndex, out_dir: Path) -> None:
    """An output folder inside a posts folder would have its files read back as (bad) posts by the next build."""
    out = out_dir.resolve()
    root = index.layout.root
    for tree in index.trees:
        real = (root / tree.path).resolve()
        if out == real or out.is_relative_to(real):
            shown = real.relative_to(root) if real.is_relative_to(root) else real
            raise ConfigError(f"the output folder {quoted_path(out_dir)} is inside the posts folder "
                              f"{quoted_path(shown)}; the next build would read its files as posts")


def _record(result: BuildResult, outcome: IssueOutcome, on_issue: Callable[[IssueResult], None] | None) -> None:
    result.problems.extend(outcome.problems)
    if outcome.status == "empty":
        result.empty_days.append(outcome.start)
    elif outcome.status == "unchanged":
        result.unchanged.append(outcome.slug)
    elif outcome.result is not None:
        result.issues.append(outcome.result)
        if on_issue:
            on_issue(outcome.result)


def _archive_due(options: BuildOptions, out_dir: Path, result: BuildResult) -> bool:
    return options.archive and bool(result.issues or result.unchanged) and (
        bool(result.issues) or not archive_present(out_dir))


def _write_archive(out_dir: Path, settings: Settings, theme: Theme) -> list[Path]:
    from digest.archive.catalog import write_archive
    from digest.archive.snapshot import save_snapshot

    save_snapshot(out_dir, settings)
    return write_archive(out_dir, settings, theme)


def _shard_jobs(todo: list[IssueJob], shard: Shard, index: SiteIndex) -> list[IssueJob]:
    """This shard's issues (see :mod:`.shards`): weighted by their posts, split the same way by all."""
    weights = [(job.slug, len(dated_between(index, job.start, job.end))) for job in todo]
    mine = set(split(weights, shard.count)[shard.index])
    return [job for job in todo if job.slug in mine]


def _shard_archive(out_dir: Path, settings: Settings, theme: Theme, options: BuildOptions,
                   result: BuildResult) -> None:
    """After its issues, a shard rewrites the archive if no other build holds the folder now (it then sees
    every record written so far); else it leaves that to the last shard to finish, which will."""
    if not options.archive:
        return
    try:
        with output_lock(out_dir, timeout=0):
            result.archive_files = _write_archive(out_dir, settings, theme)
    except BusyError:
        result.archive_deferred = True


def _pending(todo: list[IssueJob], index: SiteIndex, result: BuildResult) -> list[IssueJob]:
    """The issues with work: the cheap check runs here, so only those go on (to the workers)."""
    memo: dict[Path, str] = {}
    pending = []
    for job in todo:
        names = dated_between(index, job.start, job.end)
        if not names:
            result.empty_days.append(job.start)
            continue
        key, unchanged = quick_check(job, index, memo)
        if unchanged:
            result.unchanged.append(job.slug)
        else:
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
    shard: str | None = None  # --shard K/N as given


def build_site(request: SiteBuild, *, on_issue: Callable[[IssueResult], None] | None = None,
               on_wait: Callable[[Path], None] | None = None) -> tuple[BuildResult, Path]:
    """Load the site's settings, work out the dates and the output folder, and build; (result, folder)."""
    settings = load_settings(request.site, request.config, request.overrides)
    out_dir = output_folder(request.site, settings, request.out)
    shard = parse_shard(request.shard) if request.shard is not None else request.options.shard
    if shard is not None and request.dates.catch_up:
        raise ConfigError("--shard needs the dates given (--date, or --from/--to): with --catch-up each shard "
                          "would work out its own range from records the others are writing")
    start, end = resolve(settings, request.dates, out_dir, env=request.env)
    options = replace(request.options, period=request.dates.period, shard=shard)
    result = build(settings, start, end, settings.formats, out_dir, options, env=request.env, on_issue=on_issue,
                   on_wait=(lambda: on_wait(out_dir)) if on_wait else None)
    return result, out_dir
