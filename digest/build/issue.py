"""One issue, incrementally: collect → assemble → each stale edition written → its record saved.

An issue whose record says nothing changed is skipped: first by the cheap probe (candidate files' bytes,
no parsing), then by each edition's exact key (the issue's posts). Only the stale editions are written.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path

from digest import editions as registry
from digest.archive import records
from digest.archive.covers import ensure_cover
from digest.archive.records import EditionEntry, IssueRecord
from digest.assemble.assemble import assemble
from digest.build.keys import IssueInputs, edition_keys, probe
from digest.config.settings import Settings
from digest.editions.base import Edition, WriteContext
from digest.errors import PostError, Problem
from digest.model import Digest, issue_slug
from digest.runtime import parallel
from digest.runtime.env import Environment
from digest.sources.collect import Collected, collect
from digest.sources.sample import settled
from digest.sources.siteindex import SiteIndex
from digest.theming.loader import Theme, load_theme


def check_strict(settings: Settings, problems: Iterable[Problem]) -> None:
    bad = [p for p in problems if p.skipped]
    if settings.strict and bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise PostError(bad[0].message + more, bad[0].path)


def exclusions(settings: Settings, start: date, *, env: Environment, now: datetime | None = None) -> frozenset[str]:
    """Original URLs to leave out of an issue starting on ``start`` (``dedupe_days``)."""
    if settings.dedupe_days <= 0:
        return frozenset()
    from digest.assemble.crossday import previous_urls

    return previous_urls(settings, start, env=env, now=now)


def make_digest(settings: Settings, start: date, end: date, *, period: str = "day",
                env: Environment | None = None, now: datetime | None = None) -> Digest:
    """Collect and assemble one issue (no files written)."""
    env = env or Environment.from_os()
    settings = settled(settings, env)
    collected = collect(settings, start, end, env=env, now=now)
    check_strict(settings, collected.problems)
    exclude = exclusions(settings, start, env=env, now=now)
    return assemble(settings, collected, start, end, period=period, exclude_urls=exclude, env=env)


def write_issue(digest: Digest, names: Iterable[str], out_dir: Path, *, settings: Settings,
                theme: Theme | None = None, env: Environment | None = None) -> list[Path]:
    """Write the named editions of an issue (no records, no archive): for callers that build one issue."""
    env = env or Environment.from_os()
    theme = (theme or load_theme(settings, cache_dir=env.cache_dir)).for_lang(digest.lang)
    ctx = WriteContext(out_dir, theme, settings, env)
    return [f for name in names for f in registry.get(name).write(digest, ctx)]


@dataclass(frozen=True)
class IssueJob:
    """One issue to build; everything a worker process needs travels in it."""

    settings: Settings
    start: date
    end: date
    period: str
    formats: tuple[str, ...]
    out_dir: Path
    theme_hash: str
    now: datetime
    env: Environment
    force: bool = False
    keep_digest: bool = False
    probe: str | None = None  # computed by the parent's quick check
    candidates: tuple[str, ...] | None = None  # the parent's listing of the issue's candidate files

    @property
    def slug(self) -> str:
        return issue_slug(self.start, self.end, self.period)

    @property
    def complete(self) -> bool:
        """True once the issue's last day is over: no post of it can still be dated in the future."""
        return self.now >= datetime.combine(self.end + timedelta(days=1), time(), self.settings.tz)

    def inputs(self) -> IssueInputs:
        return IssueInputs(self.settings, self.start, self.end, self.period, self.theme_hash,
                           self.env.source_date_epoch)


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
class IssueOutcome:
    status: str  # "built" | "unchanged" | "empty"
    start: date
    end: date
    slug: str = ""
    problems: list[Problem] = field(default_factory=list)
    result: IssueResult | None = None


def quick_check(job: IssueJob, index: SiteIndex | None = None,
                memo: dict[Path, str] | None = None) -> tuple[str, bool]:
    """(probe, unchanged): the cheap test, reading candidate files' bytes but parsing nothing."""
    key = probe(job.inputs(), index or SiteIndex(job.settings, job.env), memo=memo)
    record = None if job.force else records.load(job.out_dir, job.slug)
    unchanged = (record is not None and record.final and record.probe == key
                 and all(records.intact(job.out_dir, record.editions.get(f)) for f in job.formats))
    return key, unchanged


def build_issue(job: IssueJob, theme: Theme | None = None) -> IssueOutcome:
    """Build one issue's stale editions; skip it when its record says nothing changed."""
    s, out_dir, slug = job.settings, job.out_dir, job.slug
    key = job.probe
    if key is None:
        key, unchanged = quick_check(job)
        if unchanged:
            return IssueOutcome("unchanged", job.start, job.end, slug)
    record = None if job.force else records.load(out_dir, slug)
    collected = collect(s, job.start, job.end, env=job.env, now=job.now, files=job.candidates)
    check_strict(s, collected.problems)
    if not collected.posts:
        return IssueOutcome("empty", job.start, job.end, slug, list(collected.problems))
    exclude = exclusions(s, job.start, env=job.env, now=job.now)
    posts = [(p.path.as_posix(), p.content_hash) for p in collected.posts]
    known = [registry.get(n) for n in dict.fromkeys([*job.formats, *(record.editions if record else ())])
             if _installed(n)]  # asked for, or built before
    keys = edition_keys(job.inputs(), known, posts=posts, exclude=exclude)
    fresh = records.fresh_editions(out_dir, record, keys)  # an edition built before stays while still valid
    stale = [f for f in job.formats if f not in fresh]
    if not stale:
        if record is not None and (record.probe != key or record.final != job.complete):
            records.save(out_dir, replace(record, probe=key, final=job.complete))
        return IssueOutcome("unchanged", job.start, job.end, slug)
    return _write(job, collected, exclude, stale, keys, fresh, record, key, theme)


def _write(job: IssueJob, collected: Collected, exclude: frozenset[str], stale: list[str], keys: dict[str, str],
           fresh: set[str], record: IssueRecord | None, key: str, theme: Theme | None) -> IssueOutcome:
    s, out_dir = job.settings, job.out_dir
    sources = tuple(sorted((p.path.as_posix(), p.content_hash) for p in collected.posts))
    # assemble takes the raw posts, each freed once rendered: a month's are not kept while the editions write
    digest = assemble(s, collected, job.start, job.end, period=job.period, exclude_urls=exclude, env=job.env)
    problems = list(digest.problems)  # the collector's, plus bodies past the work limits (docs/safety.md)
    check_strict(s, problems)  # with --strict, a body past those limits is fatal too
    if digest.count == 0:  # every post was a cross-day duplicate
        return IssueOutcome("empty", job.start, job.end, job.slug, problems)
    theme = (theme or load_theme(s, cache_dir=job.env.cache_dir)).for_lang(digest.lang)  # the issue's words
    ctx = WriteContext(out_dir, theme, s, job.env)
    editions = {} if record is None else {f: e for f, e in record.editions.items() if f in fresh}
    files: list[Path] = []
    for name, written in write_editions(digest, ctx, stale).items():
        edition = registry.get(name)
        editions[name] = EditionEntry(keys[name], records.file_entries(out_dir, written))
        files.extend(written)
        if s.archive.enabled:
            ensure_cover(out_dir, job.slug, edition, editions[name])  # here, so covers are made in parallel
    records.save(out_dir, IssueRecord(
        slug=job.slug, period=job.period, start=job.start, end=job.end, title=digest.title,
        site_title=digest.site_title, lang=digest.lang, generated=digest.generated, count=digest.count,
        duplicates_dropped=digest.duplicates_dropped,
        sections=tuple((sec.title, len(sec.posts)) for sec in digest.sections), probe=key, final=job.complete,
        posts=sources, editions=editions,
    ))
    issue = IssueResult(digest if job.keep_digest else None, files, job.slug, job.start, job.end, digest.count,
                        len(digest.sections), digest.duplicates_dropped, stale)
    return IssueOutcome("built", job.start, job.end, job.slug, problems, issue)


def write_editions(digest: Digest, ctx: WriteContext, names: list[str]) -> dict[str, list[Path]]:
    """Each edition's files, in the order of ``names``. For a big issue, with a spare core, the editions that
    make no cover of their own are written by a forked child while this process writes the others (a month's
    EPUB and web page took 11 s and 4 s one after the other); covers are then made here, in order, as before."""
    aside = [n for n in names if _may_go_aside(registry.get(n))]
    here = [n for n in names if n not in aside]
    side_by_side = aside and here and digest.count >= parallel.EDITIONS.fork_from
    child = parallel.alongside(partial(_write_each, digest, ctx), aside) if side_by_side else None
    try:
        done = _write_each(digest, ctx, here if child is not None else names)
        if child is not None:
            done.update(child.result())
    finally:
        if child is not None:
            child.cancel()
    return {name: done[name] for name in names}


def _may_go_aside(edition: Edition) -> bool:
    """Written in a child: allowed in a worker, and no cover (which edition's cover an issue keeps depends on
    the order they are written in)."""
    return edition.parallel and type(edition).cover is Edition.cover


def _write_each(digest: Digest, ctx: WriteContext, names: list[str]) -> dict[str, list[Path]]:
    return {name: registry.get(name).write(digest, ctx) for name in names}


def _installed(name: str) -> bool:
    return any(e.name == name for e in registry.all_editions())


def build_share(jobs: list[IssueJob]) -> list[IssueOutcome]:
    """Several issues in a row, in a worker process: the theme is loaded once for all of them."""
    if not jobs:
        return []
    theme = load_theme(jobs[0].settings, cache_dir=jobs[0].env.cache_dir)
    return [build_issue(job, theme) for job in jobs]
