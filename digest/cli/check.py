"""``digest check SITE``: validate the config and every post; print each problem."""
from __future__ import annotations

from pathlib import Path

import typer

from digest.cli.common import ConfigOpt, SiteArg, call, settings_for
from digest.errors import EXIT_BAD_INPUT, EXIT_OK, one_line


def register(app: typer.Typer) -> None:
    app.command()(check)


def check(site: Path = SiteArg, config: Path | None = ConfigOpt) -> None:
    """Validate the config and every post; print each problem; exit non-zero if any."""
    from digest.build.check import check_site

    report = call(check_site, settings_for(site, config))
    for p in report.problems:
        typer.echo(one_line(f"{'error' if p.skipped else 'warning'}: {p}"))
    typer.echo(f"{report.checked:,} posts checked: {report.errors} with errors, "
               f"{len(report.problems) - report.errors} warnings")
    raise typer.Exit(EXIT_BAD_INPUT if report.problems else EXIT_OK)
