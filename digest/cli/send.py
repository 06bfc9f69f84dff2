"""``digest send``: build the email edition of an issue and send it by SMTP (subscribers, Kindles)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from digest.cli.common import ConfigOpt, SiteArg, call, parse_day, say_error


def register(app: typer.Typer) -> None:
    app.command()(send)


def send(
    site: Path = SiteArg,
    date_: str | None = typer.Option(None, "--date", "-d", help="The issue's day, YYYY-MM-DD (default: yesterday)."),
    yesterday_: bool = typer.Option(False, "--yesterday", help="Send yesterday's issue (the default)."),
    period: str = typer.Option("day", "--period", help="day, week or month: the issue that holds --date."),
    to: list[str] | None = typer.Option(None, "--to",
                                           help="A recipient (repeat for more); replaces email.to and email.kindle."),
    kindle: list[str] | None = typer.Option(None, "--kindle",
                                               help="A Send-to-Kindle address (repeat for more); gets the EPUB."),
    attach: list[str] | None = typer.Option(None, "--attach",
                                               help="Attach the epub or pdf edition (repeat for both)."),
    no_attach: bool = typer.Option(False, "--no-attach", help="Attach nothing, whatever email.attach says."),
    force: bool = typer.Option(False, "--force", help="Send again what the sent record says was sent."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Build and show what would be sent; send nothing."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (default: out); holds .sent.json."),
    theme: str | None = typer.Option(None, "--theme", "-t", help="A built-in theme name or a theme folder."),
    config: Path | None = ConfigOpt,
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the cache."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only errors (for cron)."),
) -> None:
    """Send an issue by email (default: yesterday's), to email.to and email.kindle or to --to/--kindle."""
    from digest.delivery.send import SiteSend, send_site
    from digest.runtime.env import Environment

    day = parse_day(date_, "--date")
    if yesterday_ and day:
        say_error("error: give either --date or --yesterday, not both")
        raise typer.Exit(2)
    recipients = (None, None) if to is None and kindle is None else (list(to or []), list(kindle or []))
    request = SiteSend(site, config, theme, day, period, out, recipients[0], recipients[1],
                       [] if no_attach else (list(attach) if attach else None), force, dry_run,
                       Environment.from_os(cache=not no_cache))

    def on_event(what: str, message: Any, detail: str) -> None:
        if what == "failed" or (what == "retry" and not quiet):
            say_error(f"{what}: {message.label}: {detail}")
        elif not quiet:
            typer.echo(f"{what}: {message.label} ({detail})")

    result = call(send_site, request, on_event=on_event)
    if dry_run and not quiet:
        for o in result.planned:
            parts = [p.get_filename() or "" for p in o.message.iter_attachments()]
            extra = f", attached: {', '.join(parts)}" if parts else ""
            typer.echo(f"would send: {o.label}: {o.message['Subject']}{extra}")
    if not quiet and not dry_run:
        typer.echo(f"{result.slug}: {len(result.report.sent)} sent, {len(result.report.skipped)} already sent")
    raise typer.Exit(0)
