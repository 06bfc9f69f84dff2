"""What was sent: the messages of a run, the report, and ``OUT/.sent.json``, so a cron re-run sends nothing twice."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from digest.errors import DigestError
from digest.runtime.files import atomic_write

RECORD_NAME = ".sent.json"


@dataclass(frozen=True)
class Outgoing:
    """One message for one recipient."""

    slug: str
    kind: str  # "email" | "kindle"
    recipient: str  # bare address
    message: EmailMessage

    @property
    def key(self) -> str:
        return f"{self.slug}|{self.kind}|{self.recipient}"

    @property
    def label(self) -> str:
        return f"{self.slug} {self.kind} → {self.recipient}"


@dataclass
class Report:
    sent: list[Outgoing] = field(default_factory=list)
    skipped: list[Outgoing] = field(default_factory=list)  # already in the sent record
    failed: list[tuple[Outgoing, str]] = field(default_factory=list)
    uncertain: list[tuple[Outgoing, str]] = field(default_factory=list)  # went out, no confirmation came back
    attempts: int = 0  # SMTP transactions tried, retries included


Event = Callable[[str, Outgoing, str], None]  # (what, message, detail): sent | skipped | retry | failed | maybe sent


class SentRecord:
    """``OUT/.sent.json``: {"version": 2, "sent": {"slug|kind|recipient": {"state": …, "message_id": …}}}.

    ``state`` is ``sending`` from just before a message goes out until the server has taken it, then ``sent``.
    An entry left ``sending`` (the run was killed, or the connection was lost after the message went out) is
    "maybe sent": a re-run does not send it again without ``--force``. Version 1 entries were all sent."""

    def __init__(self, path: Path):
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self.entries = {k: dict(v) for k, v in dict(data["sent"]).items()}
            except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
                raise DigestError(f"the sent record is unreadable ({e.__class__.__name__}); "
                                  "fix it or delete it to send everything again", path) from None

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def state(self, key: str) -> str | None:
        """``sent``, ``sending`` (maybe sent) or None (never tried, or known not sent)."""
        entry = self.entries.get(key)
        return None if entry is None else str(entry.get("state", "sent"))

    def attempt(self, out: Outgoing) -> None:
        self.entries[out.key] = {"state": "sending", "message_id": str(out.message["Message-ID"])}
        self._save()

    def confirm(self, out: Outgoing, size: int) -> None:
        self.entries[out.key] = {"state": "sent", "message_id": str(out.message["Message-ID"]), "bytes": size}
        self._save()

    def add(self, out: Outgoing, size: int) -> None:
        self.confirm(out, size)

    def forget(self, out: Outgoing) -> None:
        if self.entries.pop(out.key, None) is not None:
            self._save()

    def _save(self) -> None:
        data = {"version": 2, "sent": dict(sorted(self.entries.items()))}
        atomic_write(self.path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
