"""``digest archive SITE -o OUT``: rewrite the output folder's index.html, feed.atom and OPDS catalog.

``digest build`` already does this after every build that changed something; this command is for after
editing the archive templates or the ``[archive]`` settings, or deleting issue files by hand.
"""
from __future__ import annotations

from pathlib import Path

import typer

from digest.cli.common import ConfigOpt, call, output_dir, settings_for


def register(app: typer.Typer) -> None:
    app.command()(archive)


def archive(
    site: Path = typer.Argument(..., help="The site root (for its title, language and theme)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (default: out)."),
    config: Path | None = ConfigOpt,
    wait: float = typer.Option(600.0, "--wait", min=0, help="Seconds to wait for a build on the folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only errors."),
) -> None:
    """Rewrite the archive (index.html, feed.atom, OPDS catalog) of an output folder."""
    from digest.archive.catalog import refresh

    settings = settings_for(site, config)
    files = call(refresh, output_dir(site, settings, out), settings, wait)
    if not quiet:
        for f in files:
            typer.echo(str(f))
