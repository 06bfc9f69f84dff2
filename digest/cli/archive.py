"""``digest archive OUT`` (or ``digest archive SITE -o OUT``): rewrite the output folder's index.html,
feed.atom and OPDS catalog from the issue records and files in it.

``digest build`` already does this after every build that changed something; this command is for after
editing the archive templates or the ``[archive]`` settings, deleting issue files by hand, or building
issues in shards on several machines (docs/scale.md). Given an output folder alone, it uses the settings
the last build kept there; given a site, the site's.
"""
from __future__ import annotations

from pathlib import Path

import typer

from digest.cli.common import ConfigOpt, call, output_dir, settings_for


def register(app: typer.Typer) -> None:
    app.command()(archive)


def archive(
    path: Path = typer.Argument(..., help="An output folder (its kept settings are used), or the site root."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder, when PATH is the site (default: out)."),
    config: Path | None = ConfigOpt,
    wait: float = typer.Option(600.0, "--wait", min=0, help="Seconds to wait for a build on the folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only errors."),
) -> None:
    """Rewrite the archive (index.html, feed.atom, OPDS catalog) of an output folder."""
    from digest.archive.catalog import refresh
    from digest.archive.records import DIR

    if out is None and config is None and (path / DIR).is_dir():
        files = call(refresh, path, None, wait)
    else:
        settings = settings_for(path, config)
        files = call(refresh, output_dir(path, settings, out), settings, wait)
    if not quiet:
        for f in files:
            typer.echo(str(f))
