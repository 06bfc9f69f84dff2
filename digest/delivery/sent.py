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
    attempts: int = 0  # SMTP transactions tried, retries included


Event = Callable[[str, Outgoing, str], None]  # (what, message, detail): sent | skipped | retry | failed


class SentRecord:
    """``OUT/.sent.json``: {"version": 1, "sent": {"slug|kind|recipient": {...}}}."""

    def __init__(self, path: Path):
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self.entries = dict(data["sent"])
            except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
                raise DigestError(f"the sent record is unreadable ({e.__class__.__name__}); "
                                  "fix it or delete it to send everything again", path) from None

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def add(self, out: Outgoing, size: int) -> None:
        self.entries[out.key] = {"message_id": str(out.message["Message-ID"]), "bytes": size}
        data = {"version": 1, "sent": dict(sorted(self.entries.items()))}
        atomic_write(self.path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
