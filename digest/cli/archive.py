"""``digest archive SITE -o OUT``: rewrite the output folder's index.html, feed.atom and OPDS catalog.

``digest build`` already does this after every build that changed something; this command is for
after editing the archive templates or the ``[archive]`` settings, or deleting issue files by hand.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def archive(
        site: Path = typer.Argument(..., help="The site root (for its title, language and theme)."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default: out)."),
        config: Optional[Path] = typer.Option(None, "--config", "-c", help="A digest.toml to use."),
        wait: float = typer.Option(600.0, "--wait", min=0, help="Seconds to wait for a build on the folder."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only errors."),
    ) -> None:
        """Rewrite the archive (index.html, feed.atom, OPDS catalog) of an output folder."""
        from digest.archive.catalog import write_archive
        from digest.cli.app import _run, _settings
        from digest.errors import EXIT_BAD_INPUT
        from digest.runtime.lock import output_lock

        settings = _settings(site, config)
        out_dir = out if out is not None else (site / settings.out if settings.out else Path("out"))
        if not out_dir.is_dir():
            typer.echo(f"digest: error: {out_dir}: output folder not found", err=True)
            raise typer.Exit(EXIT_BAD_INPUT)

        def write() -> list[Path]:
            with output_lock(out_dir, wait):
                return write_archive(out_dir, settings)

        files = _run(write)
        if not quiet:
            for f in files:
                typer.echo(str(f))
