"""``digest build SITE``: build the digest of a day, a range, today so far or everything missing."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Optional

import typer

from digest.cli.common import ConfigOpt, SiteArg, call, given, parse_day, report_problems, say_error
from digest.errors import EXIT_NOTHING, EXIT_OK, NothingToBuild


def register(app: typer.Typer) -> None:
    app.command()(build)


def build(
    site: Path = SiteArg,
    date_: Optional[str] = typer.Option(None, "--date", "-d", help="The day to build, YYYY-MM-DD (site time zone)."),
    yesterday_: bool = typer.Option(False, "--yesterday", help="Build yesterday's issue (the default)."),
    today: bool = typer.Option(False, "--today", help="Build today's issue so far (for an in-day cron refresh)."),
    from_: Optional[str] = typer.Option(None, "--from", help="First day of a range, YYYY-MM-DD."),
    to: Optional[str] = typer.Option(None, "--to", help="Last day of a range, YYYY-MM-DD."),
    formats: Optional[str] = typer.Option(None, "--format", "-f", help="Comma-separated: web (or html),epub,pdf,"
                                                                       "email, or 'all'."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default: out)."),
    theme: Optional[str] = typer.Option(None, "--theme", "-t", help="A built-in theme name or a theme folder."),
    config: Optional[Path] = ConfigOpt,
    period: str = typer.Option("day", "--period", help="day, week, month, or range (one issue for the range)."),
    strict: Optional[bool] = typer.Option(None, "--strict/--no-strict", help="Make any bad post fatal."),
    include_future: Optional[bool] = typer.Option(None, "--include-future", help="Include posts dated in the future."),
    include_unpublished: Optional[bool] = typer.Option(None, "--include-unpublished",
                                                       help="Include published: false posts."),
    embed_fonts: Optional[bool] = typer.Option(None, "--embed-fonts", help="EPUB: embed a CJK font subset."),
    page_size: Optional[str] = typer.Option(None, "--page-size", help="PDF: A4, Letter, A5 or ereader."),
    pdf_variant: Optional[str] = typer.Option(None, "--pdf-variant", help="PDF: pdf/a-2b or pdf/ua-1."),
    allow_missing_fonts: Optional[bool] = typer.Option(None, "--allow-missing-fonts",
                                                       help="PDF: build even without a CJK font."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the cache."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only errors and skipped posts (for cron)."),
    force: bool = typer.Option(False, "--force", help="Rebuild every issue, even those whose inputs did not change."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Build this many issues at once (worker processes)."),
    catch_up: bool = typer.Option(False, "--catch-up",
                                  help="Build every issue since the last complete build that is missing or outdated "
                                       "(up to --to, default yesterday)."),
    wait: float = typer.Option(600.0, "--wait", min=0,
                               help="Seconds to wait for another build on the same output folder (then exit 5)."),
) -> None:
    """Build the digest of a day (default: yesterday in the site's time zone).

    Incremental: an issue whose posts, theme, settings and formats did not change is not rebuilt.
    """
    from digest.build.dates import DateRequest
    from digest.build.run import BuildOptions, SiteBuild, build_site
    from digest.runtime.env import Environment

    fmt_list = [f.strip() for f in formats.split(",") if f.strip()] if formats else None
    request = SiteBuild(
        site, config,
        {"theme": theme, "formats": fmt_list, "strict": strict, "include_future": include_future,
         "include_unpublished": include_unpublished, "epub": given(embed_fonts=embed_fonts),
         "pdf": given(page_size=page_size, variant=pdf_variant, allow_missing_fonts=allow_missing_fonts)},
        DateRequest(parse_day(date_, "--date"), parse_day(from_, "--from"), parse_day(to, "--to"), today,
                    yesterday_, catch_up, period),
        out, BuildOptions(force=force, jobs=jobs, wait=wait, keep_digests=False), Environment.from_os(cache=not no_cache))
    say = _printer(quiet)
    try:
        result, _ = call(_quietly_empty(today and quiet, build_site), request, on_issue=_on_issue(say, quiet),
                         on_wait=None if quiet else lambda d: say_error(
                             f"waiting for another build to finish with {d} (up to {wait:g} s)…"))
    finally:
        say.close()
    report_problems(result.problems, quiet)
    if not quiet and result.unchanged:
        n = len(result.unchanged)
        what = f"{result.unchanged[0]} is" if n == 1 else f"{n} issues are"
        say(f"{what} up to date (not rebuilt)" if result.issues
            else f"nothing changed: {what} up to date (use --force to rebuild)")
    raise typer.Exit(EXIT_OK)


def _quietly_empty(silent: bool, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Early in the day there may be no posts yet: with ``--today --quiet`` that is exit 1, not worth a mail."""
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except NothingToBuild:
            if silent:
                raise typer.Exit(EXIT_NOTHING) from None
            raise
    return run


class _Printer:
    """Progress lines: through a spinner on a terminal, plain lines otherwise."""

    def __init__(self, quiet: bool):
        self.console: Any = None
        self.status: Any = None
        if not quiet and sys.stderr.isatty():
            from rich.console import Console

            self.console = Console(stderr=True)
            self.status = self.console.status("building…")
            self.status.__enter__()

    def __call__(self, line: str) -> None:
        (self.console.print if self.console else typer.echo)(line)

    def close(self) -> None:
        if self.status is not None:
            self.status.__exit__(None, None, None)
            self.status = None


def _printer(quiet: bool) -> _Printer:
    return _Printer(quiet)


def _on_issue(say: Callable[[str], None], quiet: bool) -> Callable[[Any], None]:
    def on_issue(issue: Any) -> None:
        if quiet:
            return
        dup = f", {issue.duplicates_dropped} duplicates dropped" if issue.duplicates_dropped else ""
        say(f"{issue.slug}: {issue.count} articles in {issue.sections} sections{dup}")
        for f in issue.files:
            say(f"  {f} ({f.stat().st_size:,} bytes)")
    return on_issue
