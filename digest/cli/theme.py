"""``digest theme new NAME`` / ``digest theme list``: scaffold a theme, name the built-in ones."""
from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Make and list themes.", no_args_is_help=True)

    @group.command("new")
    def new(
        name: str = typer.Argument(..., help="The new theme's name (also its folder's name)."),
        from_: str = typer.Option("default", "--from", help="The theme to extend: a built-in name or a folder."),
        dir_: Path = typer.Option(Path("."), "--dir", help="Where to create the theme folder."),
    ) -> None:
        """Scaffold a theme folder that extends another theme (default: the built-in one)."""
        from digest.cli.app import _run
        from digest.theming.scaffold import scaffold

        target = _run(scaffold, name, from_, dir_)
        typer.echo(f"created {target}/ (extends {from_}); build with: digest build SITE --theme {target}")

    @group.command("list")
    def list_() -> None:
        """The built-in themes."""
        from digest.theming.loader import builtin_themes, themes_root

        for name in builtin_themes():
            typer.echo(f"{name}\t{themes_root() / name}")

    app.add_typer(group, name="theme")
