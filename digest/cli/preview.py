"""``digest preview SITE``: one day's web edition on localhost, rebuilt on change (:mod:`digest.serving.preview`)."""
from __future__ import annotations

from pathlib import Path

import typer

from digest.cli.common import ConfigOpt, call, parse_day, settings_for


def register(app: typer.Typer) -> None:
    app.command()(preview)


def preview(
    site: Path = typer.Argument(..., help="The site root.", file_okay=False),
    date_: str | None = typer.Option(None, "--date", "-d", help="The day, YYYY-MM-DD (default: the newest)."),
    port: int = typer.Option(8000, "--port", "-p", min=0, max=65535, help="Port on 127.0.0.1 (0: any free)."),
    theme: str | None = typer.Option(None, "--theme", "-t", help="A built-in theme name or a theme folder."),
    config: Path | None = ConfigOpt,
) -> None:
    """Serve one day's web edition on localhost, rebuilt when a post or theme file changes."""
    from digest.serving.preview import preview_site

    day = parse_day(date_, "--date")
    overrides = {"theme": theme} if theme else {}
    settings_for(site, config, **overrides)  # a bad site or config fails here, once, with its exit code
    if call(preview_site, site, day, config, overrides, port, log=lambda m: typer.echo(m, err=True)):
        typer.echo("stopped", err=True)
