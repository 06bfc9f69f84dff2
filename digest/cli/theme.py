"""``digest theme new NAME`` / ``digest theme list``: scaffold a theme, name the built-in ones."""
from __future__ import annotations

from pathlib import Path

import typer

from digest.cli.common import call


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Make and list themes.", no_args_is_help=True)
    group.command("new")(new)
    group.command("list")(list_)
    app.add_typer(group, name="theme")


def new(
    name: str = typer.Argument(..., help="The new theme's name (also its folder's name)."),
    from_: str = typer.Option("default", "--from", help="The theme to extend: a built-in name or a folder."),
    dir_: Path = typer.Option(Path("."), "--dir", help="Where to create the theme folder."),
) -> None:
    """Scaffold a theme folder that extends another theme (default: the built-in one)."""
    from digest.editions import all_editions
    from digest.theming.scaffold import scaffold

    target = call(scaffold, name, from_, dir_, editions=[e.theme_dir for e in all_editions()])
    typer.echo(f"created {target}/ (extends {from_}); build with: digest build SITE --theme {target}")


def list_() -> None:
    """The built-in themes."""
    from digest.theming.loader import builtin_themes, themes_root

    for name in builtin_themes():
        typer.echo(f"{name}\t{themes_root() / name}")
