"""``digest list SITE``: a table of days × posts per section."""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from digest.cli.common import ConfigOpt, SiteArg, call, counted, parse_day, report_problems, say_error, settings_for


def register(app: typer.Typer) -> None:
    app.command("list")(list_)


def list_(
    site: Path = SiteArg,
    config: Path | None = ConfigOpt,
    from_: str | None = typer.Option(None, "--from", help="Only days from this one."),
    to: str | None = typer.Option(None, "--to", help="Only days up to this one."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not use the cache."),
) -> None:
    """A table of days × posts per section."""
    from digest.runtime.env import Environment
    from digest.sources.inventory import inventory

    settings = settings_for(site, config)
    table = call(inventory, settings, env=Environment.from_os(cache=not no_cache), start=parse_day(from_, "--from"),
                 end=parse_day(to, "--to"))
    if not table.days:
        say_error("no posts found")
        raise typer.Exit(1)
    title = f"{settings.title}: {counted(table.total, 'post')} on {counted(len(table.days), 'day')}"
    cats = [] if table.categories == ["uncategorized"] else table.categories  # one implicit section: no column
    head = ["day", *(table.titles.get(c, c) for c in cats), "total"]
    rows = [[day.isoformat(), *(str(counts.get(c, "")) for c in cats), str(sum(counts.values()))]
            for day, counts in table.days.items()]
    _print_table(title, head, rows)
    report_problems(table.problems, quiet=True)


def _print_table(title: str, head: list[str], rows: list[list[str]]) -> None:
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
        return
    from rich.cells import cell_len  # piped or redirected: plain aligned columns, whole names, one line per day

    widths = [max(cell_len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    typer.echo(title)
    for row in [head, *rows]:
        cells = [row[0] + " " * (widths[0] - cell_len(row[0]))]
        cells += [" " * (w - cell_len(v)) + v for v, w in zip(row[1:], widths[1:], strict=True)]
        typer.echo("  ".join(cells))
