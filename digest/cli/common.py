"""What every command shares: options, parsing dates, calling the library, problems as one line each.

The library raises :class:`~digest.errors.DigestError` (never exits, never prints); :func:`call` is the
one place where such an error becomes one line on stderr and its exit code (``--debug``: the traceback).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import typer

from digest.errors import EXIT_BAD_INPUT, DigestError, Problem

T = TypeVar("T")
SiteArg = typer.Argument(..., help="The site root (the folder with _config.yml and _posts/).", exists=False,
                         file_okay=False)
ConfigOpt = typer.Option(None, "--config", "-c", help="A digest.toml to use instead of SITE/digest.toml.")
PREFIX = "digest: "


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``1 article``, ``2 articles``: a count with its noun in the right number (English messages)."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def say_error(message: str) -> None:
    typer.echo(f"{PREFIX}{message}", err=True)


def debugging() -> bool:
    """``--debug`` was given: the app's callback set the library's logger to DEBUG (see :func:`log_to_stderr`)."""
    return logging.getLogger("digest").isEnabledFor(logging.DEBUG)


def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call into the library; a DigestError becomes one line on stderr and its exit code."""
    try:
        return fn(*args, **kwargs)
    except DigestError as e:
        if debugging():
            raise
        say_error(f"error: {e}")
        raise typer.Exit(e.exit_code) from None
    except KeyboardInterrupt:
        say_error("interrupted")
        raise typer.Exit(130) from None


def parse_day(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        say_error(f"error: {flag} wants a date as YYYY-MM-DD, not {value!r}")
        raise typer.Exit(EXIT_BAD_INPUT) from None


def given(**values: Any) -> dict[str, Any] | None:
    """The flags of one settings table that the user actually gave (None: none given)."""
    out = {k: v for k, v in values.items() if v is not None}
    return out or None


def report_problems(problems: Iterable[Problem], quiet: bool) -> None:
    """Each problem once, one line: ``skipped: …`` (always) or ``note: …`` (unless quiet)."""
    seen = set()
    for p in problems:
        line = f"{'skipped' if p.skipped else 'note'}: {p}"
        if line in seen or (quiet and not p.skipped):
            continue
        seen.add(line)
        say_error(line)


class OneLine(logging.Handler):
    """Library warnings as ``digest: warning: …`` on the current stderr, like every other message."""

    def emit(self, record: logging.LogRecord) -> None:
        say_error(f"{record.levelname.lower()}: {record.getMessage()}")


def log_to_stderr(debug: bool) -> None:
    logger = logging.getLogger("digest")
    if not any(isinstance(h, OneLine) for h in logger.handlers):
        logger.addHandler(OneLine())
    logger.setLevel(logging.DEBUG if debug else logging.WARNING)


def settings_for(site: Path, config: Path | None, **overrides: Any) -> Any:
    """The site's settings with the flags given; a bad config is one line and exit 2."""
    from digest.editions import load_settings

    return call(load_settings, site, config, {k: v for k, v in overrides.items() if v is not None})


def output_dir(site: Path, settings: Any, out: Path | None) -> Path:
    from digest.config.load import output_folder

    return output_folder(site, settings, out)
