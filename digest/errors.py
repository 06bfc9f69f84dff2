"""Errors and problem reports.

Library code raises :class:`DigestError` subclasses (never ``sys.exit``); the CLI maps
``exit_code`` to the process exit status. Problems that do not stop a build (one bad post
among hundreds) are collected as :class:`Problem` records and reported on one line each.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import ClassVar

# Exit codes, documented in the README.
EXIT_OK = 0
EXIT_NOTHING = 1
EXIT_BAD_INPUT = 2
EXIT_MISSING_DEPENDENCY = 3
EXIT_DELIVERY = 4
EXIT_BUSY = 5
EXIT_OUTPUT = 6


# Characters that would end or reorder a line of a report: line breaks, other controls, the line and paragraph
# separators, bidi embeddings/overrides/isolates. A file name may hold any of them (only / and NUL are refused).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\udc80-\udcff]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: str) -> str:
    """``text`` fit for one line of a report: each character that could break or reorder the line becomes an
    escape (``\\n``, ``\\x1b``, ``\\u202e``), so a file named ``x\\ndigest: error: …`` cannot forge a line."""
    return _UNPRINTABLE.sub(_escape, text)


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    cp = ord(ch)
    if 0xDC80 <= cp <= 0xDCFF:  # an undecodable byte of a file name (surrogateescape)
        return f"\\x{cp - 0xDC00:02x}"
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}"


def quoted_path(path: PurePath | str) -> str:
    """A path for a message: as it is, but with :func:`one_line`'s escapes."""
    return one_line(str(path))


class DigestError(Exception):
    """Base of every error the library raises on purpose; its message is one line."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, path: Path | str | None = None):
        self.path = Path(path) if path is not None else None
        self.message = message
        super().__init__(f"{quoted_path(path)}: {message}" if path is not None else message)


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


class OutputError(DigestError):
    """The output folder (or a temporary folder) cannot be written: full, read-only, no permission.

    Nothing half-written is left: every file is written under a temporary name that is removed, and the
    previous outputs stay as they were."""

    exit_code = EXIT_OUTPUT


class BusyError(DigestError):
    """Another build holds the output folder's lock."""

    exit_code = EXIT_BUSY


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C's KeyboardInterrupt, so that a build stopped by a service
    manager or ``kill`` cleans up as a Ctrl-C does: temporary files removed, workers stopped, the lock released."""


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
        where = f"{quoted_path(self.path)}:{self.line}" if self.line else quoted_path(self.path)
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Skipped(Problem):
    """The file (or the part of it named) was left out of the digest."""

    skipped: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Notice(Problem):
    """The file was used; something about it is worth knowing (a guessed date, an odd encoding)."""

    skipped: ClassVar[bool] = False
