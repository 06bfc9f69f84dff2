"""``digest send``: build the email edition of an issue and send it by SMTP (subscribers, Kindles)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def register(app: typer.Typer) -> None:
    from digest.cli.app import ConfigOpt, SiteArg, _date_range, _err, _run, _settings

    @app.command()
    def send(
        site: Path = SiteArg,
        date_: Optional[str] = typer.Option(None, "--date", "-d", help="The issue's day, YYYY-MM-DD (default: yesterday)."),
        yesterday_: bool = typer.Option(False, "--yesterday", help="Send yesterday's issue (the default)."),
        period: str = typer.Option("day", "--period", help="day, week or month: the issue that holds --date."),
        to: Optional[List[str]] = typer.Option(None, "--to", help="A recipient (repeat for more); replaces email.to and email.kindle."),
        kindle: Optional[List[str]] = typer.Option(None, "--kindle", help="A Send-to-Kindle address (repeat for more); gets the EPUB."),
        attach: Optional[List[str]] = typer.Option(None, "--attach", help="Attach the epub or pdf edition (repeat for both)."),
        no_attach: bool = typer.Option(False, "--no-attach", help="Attach nothing, whatever email.attach says."),
        force: bool = typer.Option(False, "--force", help="Send again what the sent record says was sent."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Build and show what would be sent; send nothing."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default: out); holds .sent.json."),
        theme: Optional[str] = typer.Option(None, "--theme", "-t", help="A built-in theme name or a theme folder."),
        config: Optional[Path] = ConfigOpt,
        no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the parsed-post cache."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only errors (for cron)."),
    ) -> None:
        """Send an issue by email (default: yesterday's), to email.to and email.kindle or to --to/--kindle."""
        from digest.build.issue import periods
        from digest.delivery.smtp import send_issue

        if period not in ("day", "week", "month"):
            _err(f"error: --period must be day, week or month, not {period!r}")
            raise typer.Exit(2)
        settings = _settings(site, config, theme=theme)
        day, _ = _date_range(settings, date_, None, None, yesterday_)
        start, end = periods(day, day, period)[0]
        out_dir = out if out is not None else (site / settings.out if settings.out else Path("out"))
        if to is None and kindle is None:
            recipients = (None, None)
        else:
            recipients = (list(to or []), list(kindle or []))
        attach_list: list[str] | None = [] if no_attach else (list(attach) if attach else None)

        def on_event(what: str, out_msg, detail: str) -> None:
            if what == "failed" or (what == "retry" and not quiet):
                _err(f"{what}: {out_msg.label}: {detail}")
            elif not quiet:
                typer.echo(f"{what}: {out_msg.label} ({detail})")

        result = _run(send_issue, settings, start, end, out_dir, period=period, to=recipients[0],
                      kindle=recipients[1], attach=attach_list, force=force, dry_run=dry_run,
                      use_cache=not no_cache, on_event=on_event)
        if dry_run and not quiet:
            for o in result.planned:
                parts = [p.get_filename() for p in o.message.iter_attachments()]
                extra = f", attached: {', '.join(parts)}" if parts else ""
                typer.echo(f"would send: {o.label}: {o.message['Subject']}{extra}")
        if not quiet and not dry_run:
            r = result.report
            typer.echo(f"{result.slug}: {len(r.sent)} sent, {len(r.skipped)} already sent")
        raise typer.Exit(0)
