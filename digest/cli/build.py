"""``digest build SITE``: build the digest of a day, a range, today so far or everything missing."""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from digest.cli.common import ConfigOpt, SiteArg, call, counted, given, parse_day, report_problems, say_error
from digest.errors import EXIT_NOTHING, EXIT_OK, NothingToBuild


def register(app: typer.Typer) -> None:
    app.command()(build)


Opt = typer.Option
DateOpt = Annotated[str | None, Opt("--date", "-d", help="The day to build, YYYY-MM-DD (site time zone).")]
FromOpt = Annotated[str | None, Opt("--from", help="First day of a range, YYYY-MM-DD.")]
ToOpt = Annotated[str | None, Opt("--to", help="Last day of a range, YYYY-MM-DD.")]
FormatOpt = Annotated[str | None, Opt("--format", "-f", help="Comma-separated: web (or html),epub,pdf,email, or "
                                                              "'all'.")]
Flag = Annotated[bool | None, Opt()]
SHARD = ("K/N: build only shard K (from 0) of N, a deterministic share of the range's issues balanced by posts; "
         "N shards may share the output folder (docs/scale.md).")
CATCH_UP = ("Build every issue since the last complete build that is missing or outdated (up to --to, default "
            "yesterday).")


def build(
    site: Path = SiteArg,
    date_: DateOpt = None,
    yesterday_: Annotated[bool, Opt("--yesterday", help="Build yesterday's issue (the default).")] = False,
    today: Annotated[bool, Opt("--today", help="Build today's issue so far (for an in-day cron refresh).")] = False,
    from_: FromOpt = None,
    to: ToOpt = None,
    formats: FormatOpt = None,
    out: Annotated[Path | None, Opt("--out", "-o", help="Output folder (default: out).")] = None,
    theme: Annotated[str | None, Opt("--theme", "-t", help="A built-in theme name or a theme folder.")] = None,
    config: Path | None = ConfigOpt,
    period: Annotated[str, Opt("--period", help="day, week, month, or range (one issue for the range).")] = "day",
    strict: Annotated[bool | None, Opt("--strict/--no-strict", help="Make any bad post fatal.")] = None,
    include_future: Annotated[bool | None, Opt("--include-future", help="Include posts dated in the future.")]
    = None,
    include_unpublished: Annotated[bool | None, Opt("--include-unpublished",
                                                       help="Include published: false posts.")] = None,
    embed_fonts: Annotated[bool | None, Opt("--embed-fonts", help="EPUB: embed a CJK font subset.")] = None,
    page_size: Annotated[str | None, Opt("--page-size", help="PDF: A4, Letter, A5 or ereader.")] = None,
    pdf_variant: Annotated[str | None, Opt("--pdf-variant", help="PDF: pdf/a-2b or pdf/ua-1.")] = None,
    allow_missing_fonts: Annotated[bool | None, Opt("--allow-missing-fonts",
                                                       help="PDF: build even without a CJK font.")] = None,
    no_cache: Annotated[bool, Opt("--no-cache", help="Do not read or write the cache.")] = False,
    quiet: Annotated[bool, Opt("--quiet", "-q", help="Print only errors and skipped posts (for cron).")] = False,
    force: Annotated[bool, Opt("--force", help="Rebuild every issue, even those whose inputs did not change.")]
    = False,
    jobs: Annotated[int, Opt("--jobs", "-j", min=1, help="Build this many issues at once (worker processes).")] = 1,
    catch_up: Annotated[bool, Opt("--catch-up", help=CATCH_UP)] = False,
    wait: Annotated[float, Opt("--wait", min=0, help="Seconds to wait for another build on the same output "
                                                      "folder (then exit 5).")] = 600.0,
    shard: Annotated[str | None, Opt("--shard", help=SHARD)] = None,
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
        out, BuildOptions(force=force, jobs=jobs, wait=wait, keep_digests=False),
        Environment.from_os(cache=not no_cache), shard)
    say = _printer(quiet)
    try:
        result, _ = call(_quietly_empty(today and quiet, build_site), request, on_issue=_on_issue(say, quiet),
                         on_wait=None if quiet else lambda d: say_error(
                             f"waiting for another build to finish with {d} (up to {wait:g} s)…"))
    finally:
        say.close()
    report_problems(result.problems, quiet)
    if not quiet:
        _summary(say, result)
    raise typer.Exit(EXIT_OK)


def _summary(say: Callable[[str], None], result: Any) -> None:
    if result.unchanged:
        say(_unchanged_line(result.unchanged, bool(result.issues)))
    if result.archive_deferred:
        say("archive: left to the last shard to finish (another build holds the folder now)")


def _unchanged_line(unchanged: list[str], built_some: bool) -> str:
    what = f"{unchanged[0]} is" if len(unchanged) == 1 else f"{len(unchanged)} issues are"
    if built_some:
        return f"{what} up to date (not rebuilt)"
    return f"nothing changed: {what} up to date (use --force to rebuild)"


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
        dup = f", {counted(issue.duplicates_dropped, 'duplicate')} dropped" if issue.duplicates_dropped else ""
        say(f"{issue.slug}: {counted(issue.count, 'article')} in {counted(issue.sections, 'section')}{dup}")
        for f in issue.files:
            say(f"  {f} ({f.stat().st_size:,} bytes)")
    return on_issue
