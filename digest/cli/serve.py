"""``digest serve OUT``: the output folder, read-only over HTTP (the server is :mod:`digest.serving`)."""
from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        out: Path = typer.Argument(..., help="The output folder to serve (read-only)."),
        host: str = typer.Option("0.0.0.0", "--host", help="Address to listen on (0.0.0.0: the local network)."),
        port: int = typer.Option(8000, "--port", "-p", help="TCP port."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not log requests."),
    ) -> None:
        """Serve an output folder read-only over HTTP (OPDS catalog at /opds.xml for e-readers)."""
        from digest.errors import EXIT_BAD_INPUT
        from digest.serving.static import make_server

        if not out.is_dir():
            typer.echo(f"digest: error: {out}: output folder not found", err=True)
            raise typer.Exit(EXIT_BAD_INPUT)
        try:
            server = make_server(out, host, port, quiet)
        except OSError as e:
            typer.echo(f"digest: error: cannot listen on {host}:{port}: {e.strerror or e}", err=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        shown = "localhost" if host in ("0.0.0.0", "::") else host
        typer.echo(f"serving {out.resolve()} read-only at http://{shown}:{server.server_address[1]}/ "
                   f"(OPDS catalog: /opds.xml); Ctrl-C stops")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
