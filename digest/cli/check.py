"""``digest check SITE``: validate the config and every post; print each problem."""
from __future__ import annotations

from pathlib import Path

import typer

from digest.cli.common import ConfigOpt, SiteArg, call, counted, settings_for
from digest.errors import EXIT_BAD_INPUT, EXIT_OK


def register(app: typer.Typer) -> None:
    app.command()(check)


def check(site: Path = SiteArg, config: Path | None = ConfigOpt) -> None:
    """Validate the config and every post; print each problem; exit 2 if a post cannot be used (warnings
    alone exit 0)."""
    from digest.build.check import check_site

    report = call(check_site, settings_for(site, config))
    for p in report.problems:
        typer.echo(f"{'error' if p.skipped else 'warning'}: {p}")
    warnings = len(report.problems) - report.errors
    typer.echo(f"{counted(report.checked, 'post')} checked: {report.errors} with errors, "
               f"{counted(warnings, 'warning')}")
    raise typer.Exit(EXIT_BAD_INPUT if report.errors else EXIT_OK)
