"""``digest preview SITE``: one day's web edition on localhost, rebuilt on change (:mod:`digest.preview`)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def preview(
        site: Path = typer.Argument(..., help="The site root.", file_okay=False),
        date_: Optional[str] = typer.Option(None, "--date", "-d", help="The day, YYYY-MM-DD (default: the newest)."),
        port: int = typer.Option(8000, "--port", "-p", min=0, max=65535, help="Port on 127.0.0.1 (0: any free)."),
        theme: Optional[str] = typer.Option(None, "--theme", "-t", help="A built-in theme name or a theme folder."),
        config: Optional[Path] = typer.Option(None, "--config", "-c", help="A digest.toml to use instead."),
    ) -> None:
        """Serve one day's web edition on localhost, rebuilt when a post or theme file changes."""
        from digest.cli.app import _parse_day, _settings
        from digest.serving.preview import Preview, run

        day = _parse_day(date_, "--date")
        overrides = {"theme": theme} if theme else {}
        _settings(site, config, **overrides)  # a bad site or config fails here, once, with its exit code
        out = Path(tempfile.mkdtemp(prefix="digest-preview-"))
        p = Preview(site, day, out, config, overrides, log=lambda m: typer.echo(m, err=True))
        try:
            run(p, "127.0.0.1", port)
        except KeyboardInterrupt:
            typer.echo("stopped", err=True)
        except OSError as e:
            typer.echo(f"digest: error: cannot serve on 127.0.0.1:{port}: {e.strerror or e}", err=True)
            raise typer.Exit(2) from None
        finally:
            shutil.rmtree(out, ignore_errors=True)
