"""The ``digest`` command: parses options, calls the library, maps DigestError to exit codes."""
from __future__ import annotations

import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any, Optional

import typer

from digest.errors import EXIT_BAD_INPUT, EXIT_NOTHING, EXIT_OK, DigestError, NothingToBuild

app = typer.Typer(
    name="digest",
    help="Turn a Jekyll site's Markdown posts into a daily digest: web page, EPUB, PDF and email.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

SiteArg = typer.Argument(..., help="The site root (the folder with _config.yml and _posts/).",
                         exists=False, file_okay=False)
ConfigOpt = typer.Option(None, "--config", "-c", help="A digest.toml to use instead of SITE/digest.toml.")


class _State:
    debug = False


def _err(message: str) -> None:
    typer.echo(f"digest: {message}", err=True)


def _run(fn, *args: Any, **kwargs: Any) -> Any:
    """Call into the library; a DigestError becomes one line on stderr and its exit code."""
    try:
        return fn(*args, **kwargs)
    except DigestError as e:
        if _State.debug:
            raise
        _err(f"error: {e}")
        raise typer.Exit(e.exit_code) from None
    except KeyboardInterrupt:
        _err("interrupted")
        raise typer.Exit(130) from None


def _parse_day(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _err(f"error: {flag} wants a date as YYYY-MM-DD, not {value!r}")
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _settings(site: Path, config: Optional[Path], **overrides: Any):
    from digest.config.settings import load_settings

    return _run(load_settings, site, config, {k: v for k, v in overrides.items() if v is not None})


def _given(**values: Any) -> dict[str, Any] | None:
    """The flags of one settings section that the user actually gave (None: none given)."""
    given = {k: v for k, v in values.items() if v is not None}
    return given or None


def _date_range(settings, day: str | None, from_: str | None, to: str | None, yesterday_flag: bool) -> tuple[date, date]:
    from digest.build.issue import yesterday

    one = _parse_day(day, "--date")
    lo, hi = _parse_day(from_, "--from"), _parse_day(to, "--to")
    if one and (lo or hi):
        _err("error: give either --date or --from/--to, not both")
        raise typer.Exit(EXIT_BAD_INPUT)
    if one:
        return one, one
    if lo or hi:
        lo = lo or hi
        hi = hi or lo
        if hi < lo:
            _err("error: --to is before --from")
            raise typer.Exit(EXIT_BAD_INPUT)
        return lo, hi
    y = yesterday(settings)
    return y, y


def _report_problems(problems, quiet: bool) -> None:
    seen = set()
    for p in problems:
        line = f"{'skipped' if p.skipped else 'note'}: {p}"
        if line in seen or (quiet and not p.skipped):
            continue
        seen.add(line)
        _err(line)


@app.callback()
def _main(debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of one-line errors.")) -> None:
    _State.debug = debug
    _log_to_stderr(debug)


class _OneLine(logging.Handler):
    """Library warnings as ``digest: warning: …`` on the current stderr, like every other message."""

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(f"digest: {record.levelname.lower()}: {record.getMessage()}", err=True)


def _log_to_stderr(debug: bool) -> None:
    logger = logging.getLogger("digest")
    if not any(isinstance(h, _OneLine) for h in logger.handlers):
        logger.addHandler(_OneLine())
    logger.setLevel(logging.DEBUG if debug else logging.WARNING)


@app.command()
def build(
    site: Path = SiteArg,
    date_: Optional[str] = typer.Option(None, "--date", "-d", help="The day to build, YYYY-MM-DD (site time zone)."),
    yesterday_: bool = typer.Option(False, "--yesterday", help="Build yesterday's issue (the default)."),
    today: bool = typer.Option(False, "--today", help="Build today's issue so far (for an in-day cron refresh)."),
    from_: Optional[str] = typer.Option(None, "--from", help="First day of a range, YYYY-MM-DD."),
    to: Optional[str] = typer.Option(None, "--to", help="Last day of a range, YYYY-MM-DD."),
    formats: Optional[str] = typer.Option(None, "--format", "-f", help="Comma-separated: html,epub,pdf,email, or 'all'."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default: out)."),
    theme: Optional[str] = typer.Option(None, "--theme", "-t", help="A built-in theme name or a theme folder."),
    config: Optional[Path] = ConfigOpt,
    period: str = typer.Option("day", "--period", help="day, week, month, or range (one issue for the range)."),
    strict: Optional[bool] = typer.Option(None, "--strict/--no-strict", help="Make any bad post fatal."),
    include_future: Optional[bool] = typer.Option(None, "--include-future", help="Include posts dated in the future."),
    include_unpublished: Optional[bool] = typer.Option(None, "--include-unpublished", help="Include published: false posts."),
    embed_fonts: Optional[bool] = typer.Option(None, "--embed-fonts", help="EPUB: embed a CJK font subset."),
    page_size: Optional[str] = typer.Option(None, "--page-size", help="PDF: A4, Letter, A5 or ereader."),
    pdf_variant: Optional[str] = typer.Option(None, "--pdf-variant", help="PDF: pdf/a-2b or pdf/ua-1."),
    allow_missing_fonts: Optional[bool] = typer.Option(None, "--allow-missing-fonts",
                                                       help="PDF: build even without a CJK font."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the parsed-post cache."),
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
    from digest.build.issue import build as run_build
    from digest.build.issue import catch_up_start
    from digest.editions.base import available

    if period not in ("day", "week", "month", "range"):
        _err(f"error: --period must be day, week, month or range, not {period!r}")
        raise typer.Exit(EXIT_BAD_INPUT)
    fmt_list = None
    if formats:
        fmt_list = available() if formats.strip() == "all" else [f.strip() for f in formats.split(",") if f.strip()]
    settings = _settings(site, config, theme=theme, formats=fmt_list, strict=strict,
                         include_future=include_future, include_unpublished=include_unpublished,
                         epub=_given(embed_fonts=embed_fonts),
                         pdf=_given(page_size=page_size, variant=pdf_variant, allow_missing_fonts=allow_missing_fonts))
    out_dir = out if out is not None else (site / settings.out if settings.out else Path("out"))
    if today:
        if date_ or from_ or to or catch_up:
            _err("error: --today cannot be combined with --date, --from, --to or --catch-up")
            raise typer.Exit(EXIT_BAD_INPUT)
        from datetime import datetime

        date_ = datetime.now(settings.tz).date().isoformat()
    if catch_up:
        if date_:
            _err("error: give either --date or --catch-up, not both")
            raise typer.Exit(EXIT_BAD_INPUT)
        _, end = _date_range(settings, None, None, to, False)
        first = _run(catch_up_start, settings, out_dir, period)
        floor = _parse_day(from_, "--from")
        start = max(d for d in (first, floor, None) if d is not None) if (first or floor) else end
        if start > end:
            start = end
    else:
        start, end = _date_range(settings, date_, from_, to, yesterday_)
    progress = None
    if not quiet and sys.stderr.isatty():
        from rich.console import Console

        progress = Console(stderr=True)

    def say(line: str) -> None:
        (progress.print if progress else typer.echo)(line)

    def on_issue(issue) -> None:
        if quiet:
            return
        dup = f", {issue.duplicates_dropped} duplicates dropped" if issue.duplicates_dropped else ""
        say(f"{issue.slug}: {issue.count} articles in {issue.sections} sections{dup}")
        for f in issue.files:
            say(f"  {f} ({f.stat().st_size:,} bytes)")

    def on_wait() -> None:
        if not quiet:
            _err(f"waiting for another build to finish with {out_dir} (up to {wait:g} s)…")

    kwargs = dict(period=period, use_cache=not no_cache, on_issue=on_issue, force=force, jobs=jobs, wait=wait,
                  on_wait=on_wait, keep_digests=False)

    def go():
        try:
            return run_build(settings, start, end, settings.formats, out_dir, **kwargs)
        except NothingToBuild:
            if today and quiet:  # early in the day there may be no posts yet: not worth a cron mail
                raise typer.Exit(EXIT_NOTHING) from None
            raise

    if progress:
        with progress.status("building…"):
            result = _run(go)
    else:
        result = _run(go)
    _report_problems(result.problems, quiet)
    if not quiet and result.unchanged:
        n = len(result.unchanged)
        what = f"{result.unchanged[0]} is" if n == 1 else f"{n} issues are"
        if result.issues:
            say(f"{what} up to date (not rebuilt)")
        else:
            say(f"nothing changed: {what} up to date (use --force to rebuild)")
    raise typer.Exit(EXIT_OK)


@app.command("list")
def list_(
    site: Path = SiteArg,
    config: Optional[Path] = ConfigOpt,
    from_: Optional[str] = typer.Option(None, "--from", help="Only days from this one."),
    to: Optional[str] = typer.Option(None, "--to", help="Only days up to this one."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not use the parsed-post cache."),
) -> None:
    """A table of days × posts per section."""
    from digest.sources.inventory import inventory

    settings = _settings(site, config)
    table = _run(inventory, settings, start=_parse_day(from_, "--from"), end=_parse_day(to, "--to"),
                 use_cache=not no_cache)
    if not table.days:
        _err("no posts found")
        raise typer.Exit(1)
    title = f"{settings.title}: {table.total:,} posts on {len(table.days):,} days"
    head = ["day", *(table.titles.get(c, c) for c in table.categories), "total"]
    rows = [[day.isoformat(), *(str(counts.get(c, "")) for c in table.categories), str(sum(counts.values()))]
            for day, counts in table.days.items()]
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        t = Table(title=title)
        t.add_column("day", no_wrap=True, min_width=10)
        for name in head[1:]:
            t.add_column(name, justify="right")
        for row in rows:
            t.add_row(*row)
        Console().print(t)
    else:  # piped or redirected: plain aligned columns, whole names, one line per day
        from rich.cells import cell_len

        widths = [max(cell_len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        typer.echo(title)
        for row in [head, *rows]:
            cells = [row[0] + " " * (widths[0] - cell_len(row[0]))]
            cells += [" " * (w - cell_len(v)) + v for v, w in zip(row[1:], widths[1:])]
            typer.echo("  ".join(cells))
    _report_problems(table.problems, quiet=True)


@app.command()
def check(site: Path = SiteArg, config: Optional[Path] = ConfigOpt) -> None:
    """Validate the config and every post; print each problem; exit non-zero if any."""
    from digest.sources.inventory import check_site

    settings = _settings(site, config)
    report = _run(check_site, settings)
    for p in report.problems:
        typer.echo(f"{'error' if p.skipped else 'warning'}: {p}")
    errors = sum(1 for p in report.problems if p.skipped)
    typer.echo(f"{report.checked:,} posts checked: {errors} with errors, "
               f"{len(report.problems) - errors} warnings")
    raise typer.Exit(EXIT_BAD_INPUT if report.problems else EXIT_OK)


def _register_commands() -> None:
    import importlib

    for mod in ("archive", "preview", "send", "serve", "theme"):
        importlib.import_module(f"digest.cli.{mod}").register(app)


_register_commands()


def main() -> None:
    app()
