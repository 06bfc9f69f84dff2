"""Every form of the SMTP secret a message could carry, scrubbed before anything is shown or logged.

The password is sent as base64 (AUTH PLAIN: ``\\0user\\0password``, AUTH LOGIN: the password alone), and a
server may echo what it got in its error reply; Python's ``repr`` writes non-ASCII as escapes. So the scrubber
knows the password as written, as its UTF-8 bytes' ``repr``, as the exact AUTH blobs, and as the part of any
base64 text that depends only on the password's bytes (at each of base64's three alignments), so the secret
is caught inside a longer blob too.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field

MIN_SCRUB = 4  # shorter base64 fragments would match too much ordinary text


def _b64_cores(secret: bytes) -> set[str]:
    """The base64 characters fixed by ``secret`` alone, wherever it starts in a longer text: for each alignment
    (0–2 bytes before it in its 3-byte group), the characters whose 6 bits all fall inside the secret."""
    cores = set()
    for pad in range(3):
        text = base64.b64encode(b"\0" * pad + secret + b"\0\0\0").decode()
        first = -(-8 * pad // 6)  # ceil: the first character that starts inside the secret
        last = 8 * (pad + len(secret)) // 6  # floor: past the last character that ends inside it
        if last - first >= MIN_SCRUB:
            cores.add(text[first:last])
    return cores


@dataclass(frozen=True)
class Secret:
    """The password and the user name it goes with; :meth:`scrub` removes every form of it from a text."""

    password: str | None
    username: str | None = None
    forms: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        if not self.password:
            return
        raw = self.password.encode("utf-8")
        user = (self.username or "").encode("utf-8")
        forms = {self.password, repr(self.password)[1:-1], repr(raw)[2:-1], raw.hex(),
                 base64.b64encode(raw).decode(), base64.b64encode(b"\0" + user + b"\0" + raw).decode(),
                 base64.b64encode(user + b"\0" + user + b"\0" + raw).decode(), *_b64_cores(raw)}
        object.__setattr__(self, "forms", tuple(sorted((f for f in forms if f), key=len, reverse=True)))

    def scrub(self, text: str) -> str:
        for form in self.forms:
            text = text.replace(form, "***")
        return text
