"""DKIM signing of outgoing messages (dkimpy), when ``smtp.dkim_key``, ``dkim_selector`` and ``dkim_domain`` are set.

Each message is signed as it goes out (each recipient's copy has its own ``To``), relaxed/relaxed, over the
headers a receiver shows or acts on. The key is a PEM file (RSA or Ed25519), relative to the site folder or
absolute; it is read once per run and never shown. SPF and DMARC are DNS records of the sender's domain:
docs/email.md says what to publish.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from digest.config.settings import SmtpSettings
from digest.errors import ConfigError

SIGNED_HEADERS = (b"From", b"To", b"Subject", b"Date", b"Message-ID", b"Reply-To", b"MIME-Version",
                  b"Content-Type", b"Content-Language", b"List-Id", b"List-Unsubscribe", b"List-Unsubscribe-Post")


def dkim_signer(smtp: SmtpSettings, site_root: Path) -> Callable[[bytes], bytes]:
    """A function that returns a message with its ``DKIM-Signature`` header first (the message itself when
    DKIM is not configured). A half-configured DKIM, or a key that cannot be read or used, is a config error."""
    given = [smtp.dkim_key, smtp.dkim_selector, smtp.dkim_domain]
    if not any(given):
        return lambda data: data
    if not all(given):
        raise ConfigError("smtp.dkim_key, smtp.dkim_selector and smtp.dkim_domain go together: set all three")
    import dkim  # here: only a site that signs pays for it

    path = Path(smtp.dkim_key or "")
    path = path if path.is_absolute() else site_root / path
    try:
        key = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"smtp.dkim_key: cannot read the key: {e.strerror or e}", path) from None
    selector, domain = (smtp.dkim_selector or "").encode(), (smtp.dkim_domain or "").encode()

    def sign(data: bytes) -> bytes:
        headers = [h for h in SIGNED_HEADERS if _has_header(data, h)]
        try:
            signature: bytes = dkim.sign(data, selector, domain, key, include_headers=headers,
                                         canonicalize=(b"relaxed", b"relaxed"))
        except (dkim.DKIMException, ValueError) as e:
            raise ConfigError(f"smtp.dkim_key: cannot sign with this key ({e})", path) from None
        return signature.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + data

    sign(b"From: a@b.invalid\r\nSubject: key check\r\n\r\nx\r\n")  # a bad key fails before anything is sent
    return sign


def _has_header(data: bytes, name: bytes) -> bool:
    head = data.split(b"\r\n\r\n", 1)[0].lower()
    return head.startswith(name.lower() + b":") or (b"\r\n" + name.lower() + b":") in head
