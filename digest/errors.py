"""Errors and problem reports.

Library code raises :class:`DigestError` subclasses (never ``sys.exit``); the CLI maps
``exit_code`` to the process exit status. Problems that do not stop a build (one bad post
among hundreds) are collected as :class:`Problem` records and reported on one line each.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

# Exit codes, documented in the README.
EXIT_OK = 0
EXIT_NOTHING = 1
EXIT_BAD_INPUT = 2
EXIT_MISSING_DEPENDENCY = 3
EXIT_DELIVERY = 4
EXIT_BUSY = 5


class DigestError(Exception):
    """Base of every error the library raises on purpose; its message is one line."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, path: Path | str | None = None):
        self.path = Path(path) if path is not None else None
        self.message = message
        super().__init__(f"{path}: {message}" if path is not None else message)


class ConfigError(DigestError):
    """The configuration (``_config.yml``, ``digest.toml`` or flags) is invalid."""


class PostError(DigestError):
    """A post cannot be read or parsed."""


class ThemeError(DigestError):
    """A theme is missing, or one of its templates fails to load or render."""


class NothingToBuild(DigestError):
    """No posts matched the requested dates."""

    exit_code = EXIT_NOTHING


class MissingDependency(DigestError):
    """A system dependency (a CJK font, an edition not available yet) is missing."""

    exit_code = EXIT_MISSING_DEPENDENCY


class DeliveryError(DigestError):
    """Sending the digest failed permanently."""

    exit_code = EXIT_DELIVERY


class BusyError(DigestError):
    """Another build holds the output folder's lock."""

    exit_code = EXIT_BUSY


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem with one input file that does not stop the build, reported on one line.

    Use one of the two kinds: :class:`Skipped` (the file was left out) or :class:`Notice` (it was used,
    with a note). ``line`` is the line of the file the problem is on, when known.
    """

    path: Path
    message: str
    line: int | None = None
    skipped: ClassVar[bool] = True

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Skipped(Problem):
    """The file (or the part of it named) was left out of the digest."""

    skipped: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Notice(Problem):
    """The file was used; something about it is worth knowing (a guessed date, an odd encoding)."""

    skipped: ClassVar[bool] = False
