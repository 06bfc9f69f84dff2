"""``digest serve OUT``: the output folder, read-only over HTTP (the server is :mod:`digest.serving.static`)."""
from __future__ import annotations

from pathlib import Path

import typer

from digest.cli.common import call


def register(app: typer.Typer) -> None:
    app.command()(serve)


def serve(
    out: Path = typer.Argument(..., help="The output folder to serve (read-only)."),
    host: str = typer.Option("0.0.0.0", "--host", help="Address to listen on (0.0.0.0: the local network)."),
    port: int = typer.Option(8000, "--port", "-p", help="TCP port."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not log requests."),
) -> None:
    """Serve an output folder read-only over HTTP (OPDS catalog at /opds.xml for e-readers)."""
    from digest.serving.static import serve_folder

    call(serve_folder, out, host, port, quiet, announce=typer.echo)
