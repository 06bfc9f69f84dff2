"""Compose the email edition as a MIME message (stdlib ``email``): headers, parts, attachments.

Everything is deterministic: the Date comes from ``digest.generated``, the Message-ID and the MIME
boundaries are derived from the site, the issue, the recipients and the content, so the same issue
composed twice gives the same bytes (and a re-sent message keeps its Message-ID).
"""
from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from digest.config.settings import Settings
from digest.editions.email.bodies import Part
from digest.editions.email.options import EmailOptions
from digest.errors import ConfigError
from digest.model import Digest

# CRLF line ends (the wire format) and 7-bit transfer encodings (base64 / quoted-printable),
# so the message passes unchanged through servers without 8BITMIME.
POLICY = policy.SMTP.clone(cte_type="7bit")
Kind = Literal["email", "kindle"]
_TYPES = {".epub": "application/epub+zip", ".pdf": "application/pdf", ".html": "text/html"}


@dataclass(frozen=True)
class RenderedEmail:
    """One issue rendered for email: both parts, the subject and what was left for the web edition."""

    digest: Digest
    subject: str
    html: str
    text: str
    per_section: int  # articles shown per section (the largest N that fits)
    hidden: int  # articles not shown in the message (each counted in an "N more" line)
    web_url: str | None
    parts: tuple[Part, ...] = ()  # images the HTML shows (cid:), sent as parts related to it

    @property
    def html_bytes(self) -> int:
        return len(self.html.encode("utf-8"))


def check_address(value: str, key: str) -> str:
    """A single address (``name <user@host>`` or ``user@host``) or a ConfigError naming the setting."""
    if "\n" in value or "\r" in value:
        raise ConfigError(f"{key}: {value.splitlines()[0]!r}… holds a line break, not one email address")
    _name, addr = parseaddr(value)
    if not addr or "@" not in addr or addr.startswith("@") or addr.endswith("@") or " " in addr:
        raise ConfigError(f"{key}: {value!r} is not an email address")
    return value.strip()


def bare_address(value: str) -> str:
    return parseaddr(value)[1].lower()


def unsubscribe_links(value: str | None) -> tuple[str | None, str | None]:
    """``email.unsubscribe`` → (https URL or None, mailto URL or None); both may be given, comma-separated."""
    https = mailto = None
    for item in re.split(r"[,\s]+", (value or "").strip()):
        item = item.strip("<>")
        if not item:
            continue
        if item.lower().startswith("mailto:") and "@" in item:
            mailto = item
        elif item.lower().startswith(("https://", "http://")) and urlsplit(item).netloc:
            https = item
        else:
            raise ConfigError(f"email.unsubscribe: {item!r} is neither an http(s) URL nor a mailto: address")
    return https, mailto


def mail_domain(settings: Settings) -> str:
    """The right-hand side of Message-IDs: the site's host, else the sender's domain."""
    host = urlsplit(settings.site_url).hostname
    sender = settings.options(EmailOptions).from_addr
    if not host and sender:
        host = bare_address(sender).rpartition("@")[2]
    return host or "digest.invalid"


def message_id(settings: Settings, slug: str, kind: str, to: Iterable[str]) -> str:
    """Stable per issue, kind and recipients: a re-sent message keeps its id (clients de-duplicate)."""
    who = ",".join(sorted(bare_address(a) for a in to))
    token = hashlib.sha256(f"{settings.site_url}|{slug}|{kind}|{who}".encode()).hexdigest()[:16]
    return f"<digest.{slug}.{kind}.{token}@{mail_domain(settings)}>"


def _sender(settings: Settings) -> str | None:
    """``email.from_addr``; None when it is not set: an address is never made up (``send`` requires one)."""
    sender = settings.options(EmailOptions).from_addr
    return check_address(sender, "email.from_addr") if sender else None


def one_line(text: str) -> str:
    """A header value: line breaks and runs of white space become one space (no header injection)."""
    return " ".join(str(text).split())


def _attach(msg: EmailMessage, path: Path) -> None:
    ctype = _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    maintype, subtype = ctype.split("/", 1)
    msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)


def _fix_boundaries(msg: EmailMessage) -> None:
    """Replace the random MIME boundaries by ones derived from the content (reproducible bytes)."""
    parts = [p for p in msg.walk() if p.is_multipart()]
    if not parts:
        return
    h = hashlib.sha256()
    for p in msg.walk():
        if not p.is_multipart():
            h.update(p.as_bytes(policy=POLICY))
    seed = h.hexdigest()[:24]
    for i, p in enumerate(parts):
        p.set_boundary(f"=_digest_{seed}_{i}")


def compose(edition: RenderedEmail, settings: Settings, *, to: list[str], kind: Kind = "email",
            attachments: Iterable[Path] = ()) -> EmailMessage:
    """The message for ``to``. ``email``: text + HTML alternatives (+ attachments);
    ``kindle``: the text part and the attached EPUB (Send to Kindle reads only the attachment)."""
    digest = edition.digest
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = one_line(edition.subject)
    sender = _sender(settings)
    if sender is not None:  # (an .eml written without email.from_addr has no From: it is a draft, not sendable)
        msg["From"] = sender
    recipients = [check_address(a, "recipient") for a in to]
    msg["To"] = ", ".join(recipients) if recipients else "undisclosed-recipients:;"
    options = settings.options(EmailOptions)
    if options.reply_to:
        msg["Reply-To"] = check_address(options.reply_to, "email.reply_to")
    msg["Date"] = format_datetime(digest.generated)
    msg["Message-ID"] = message_id(settings, digest.slug, kind, recipients)
    if kind == "email":
        msg["List-Id"] = f"{one_line(digest.site_title)} <digest.{mail_domain(settings)}>"
        https, mailto = unsubscribe_links(options.unsubscribe)
        links = [f"<{u}>" for u in (https, mailto) if u]
        if links:
            msg["List-Unsubscribe"] = ", ".join(links)
            if https:  # RFC 8058: one-click needs an HTTPS URI to POST to
                msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if digest.lang:
        msg["Content-Language"] = digest.lang
    msg.set_content(edition.text, subtype="plain", charset="utf-8")
    if kind == "email":
        msg.add_alternative(edition.html, subtype="html", charset="utf-8")
        html_part = list(msg.iter_parts())[-1]
        assert isinstance(html_part, EmailMessage)
        for part in edition.parts:  # multipart/related: the images the HTML names by cid:
            maintype, subtype = part.mime.split("/", 1)
            html_part.add_related(part.data, maintype=maintype, subtype=subtype, cid=f"<{part.cid}>",
                                  disposition="inline", filename=part.cid.split("@")[0] + "." + subtype)
    for path in attachments:
        _attach(msg, Path(path))
    _fix_boundaries(msg)
    return msg


def message_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=POLICY)


def recipients_of(msg: EmailMessage) -> list[str]:
    return [addr for _, addr in getaddresses(msg.get_all("To", []) + msg.get_all("Cc", [])) if addr]
