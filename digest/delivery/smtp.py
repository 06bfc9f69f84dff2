"""Deliver an issue by SMTP: plan one message per recipient, send with retries, remember what was sent.

* Temporary failures (4xx replies, dropped or refused connections, time-outs) are retried with
  exponential back-off (``smtp.retries``, ``smtp.backoff``); permanent ones (5xx) end the run with a
  :class:`DeliveryError` naming the recipient and the server's reply.
* ``OUT/.sent.json`` records every message sent (issue slug + kind + recipient), written atomically
  after each message, so a cron re-run sends nothing twice (``force=True`` sends again).
* The SMTP password is read from ``DIGEST_SMTP_PASSWORD`` only and never appears in a message.
"""
from __future__ import annotations

import json
import os
import smtplib
import ssl
import time
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Callable, Iterable

from digest.errors import BusyError, ConfigError, DeliveryError, DigestError, NothingToBuild
from digest.runtime.files import atomic_write
from digest.editions.email.mime import bare_address, check_address, compose, message_bytes
from digest.config.settings import Settings, SmtpSettings

PASSWORD_ENV = "DIGEST_SMTP_PASSWORD"
RECORD_NAME = ".sent.json"
KINDLE_MAX_BYTES = 50_000_000  # Send to Kindle refuses e-mails over 50 MB


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


# ---------------------------------------------------------------- the sent record

class SentRecord:
    """``OUT/.sent.json``: {"version": 1, "sent": {"slug|kind|recipient": {...}}}."""

    def __init__(self, path: Path):
        self.path = path
        self.entries: dict[str, dict] = {}
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


# ---------------------------------------------------------------- planning

def plan(edition, settings: Settings, *, to: Iterable[str], kindle: Iterable[str] = (),
         attachments: Iterable[Path] = (), kindle_files: Iterable[Path] = ()) -> list[Outgoing]:
    """One message per recipient (no one sees another subscriber's address)."""
    if not settings.email.from_addr:
        raise ConfigError("email.from_addr is not set: the sender address is needed to send")
    check_address(settings.email.from_addr, "email.from_addr")
    slug = edition.digest.slug
    attachments, kindle_files = list(attachments), list(kindle_files)
    out: list[Outgoing] = []
    for addr in dict.fromkeys(to):
        msg = compose(edition, settings, to=[check_address(addr, "email.to")], attachments=attachments)
        out.append(Outgoing(slug, "email", bare_address(addr), msg))
    kindle = list(dict.fromkeys(kindle))
    if kindle:
        if not kindle_files:
            raise ConfigError("Send to Kindle needs the EPUB edition, and it produced no file")
        for f in kindle_files:
            size = f.stat().st_size
            if size > KINDLE_MAX_BYTES:
                raise DeliveryError(f"{f.name} is {size / 1e6:.1f} MB; Send to Kindle accepts at most "
                                    f"{KINDLE_MAX_BYTES / 1e6:.0f} MB (lower epub.image_max_width or image_quality)", f)
        for addr in kindle:
            msg = compose(edition, settings, to=[check_address(addr, "email.kindle")], kind="kindle",
                          attachments=kindle_files)
            out.append(Outgoing(slug, "kindle", bare_address(addr), msg))
    return out


# ---------------------------------------------------------------- SMTP

class _Temporary(Exception):
    """Worth retrying: a 4xx reply or a lost connection."""


class _Permanent(Exception):
    def __init__(self, message: str, fatal: bool = False):
        super().__init__(message)
        self.fatal = fatal  # True: no other message can succeed either (login, sender refused, TLS)


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}".strip()


def _classify(e: BaseException) -> Exception:
    """Map smtplib/socket errors to temporary or permanent ones (messages without secrets)."""
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in e.recipients.values()]
        detail = "; ".join(f"{r}: {_reply(c, m)}" for r, (c, m) in e.recipients.items())
        if codes and all(400 <= c < 500 for c in codes):
            return _Temporary(f"recipient deferred: {detail}")
        return _Permanent(f"recipient refused: {detail}")
    if isinstance(e, smtplib.SMTPAuthenticationError):
        if 400 <= e.smtp_code < 500:
            return _Temporary(f"login deferred: {_reply(e.smtp_code, e.smtp_error)}")
        return _Permanent(f"login failed: {_reply(e.smtp_code, e.smtp_error)}", fatal=True)
    if isinstance(e, smtplib.SMTPResponseException):
        reply = _reply(e.smtp_code, e.smtp_error)
        if 400 <= e.smtp_code < 500:
            return _Temporary(reply)
        fatal = isinstance(e, (smtplib.SMTPSenderRefused, smtplib.SMTPHeloError, smtplib.SMTPConnectError))
        return _Permanent(f"refused: {reply}", fatal=fatal)
    if isinstance(e, smtplib.SMTPNotSupportedError):
        return _Permanent(f"the server does not support it: {e} (check smtp.security)", fatal=True)
    if isinstance(e, ssl.SSLError):
        return _Permanent(f"TLS failed: {e.__class__.__name__}: {getattr(e, 'reason', None) or e}", fatal=True)
    if isinstance(e, smtplib.SMTPServerDisconnected):
        return _Temporary(f"connection dropped: {e}")
    if isinstance(e, (OSError, EOFError)):
        return _Temporary(f"{e.__class__.__name__}: {e.strerror or e}" if isinstance(e, OSError) else str(e))
    if isinstance(e, smtplib.SMTPException):
        return _Permanent(str(e))
    raise e


class Mailer:
    """One SMTP connection, opened lazily and re-opened after a failure."""

    def __init__(self, smtp: SmtpSettings, password: str | None):
        if smtp.username and not password:
            raise ConfigError(f"smtp.username is set but the environment variable {PASSWORD_ENV} is empty")
        self.cfg, self._password, self.conn = smtp, password, None

    def _open(self) -> smtplib.SMTP:
        c = self.cfg
        context = ssl.create_default_context()
        if c.security == "ssl":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=context)
        else:
            conn = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
        try:
            conn.ehlo()
            if c.security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if c.username:
                conn.login(c.username, self._password or "")
        except BaseException:
            conn.close()
            raise
        return conn

    def send(self, sender: str, recipient: str, data: bytes) -> None:
        if self.conn is None:
            self.conn = self._open()
        self.conn.sendmail(sender, [recipient], data)

    def reset(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None

    def quit(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self.reset()


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


def deliver(outgoing: list[Outgoing], settings: Settings, record_path: Path, *, force: bool = False,
            on_event: Event | None = None, sleep: Callable[[float], None] = time.sleep) -> Report:
    """Send each message not yet in the sent record. Raises DeliveryError if any failed permanently."""
    from filelock import FileLock, Timeout

    password = os.environ.get(PASSWORD_ENV) or None
    smtp = settings.smtp
    sender = bare_address(settings.email.from_addr or "")
    report = Report()
    emit = on_event or (lambda *a: None)
    record_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(record_path) + ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise BusyError("another `digest send` is using this output folder", record_path.parent) from None
    try:
        record = SentRecord(record_path)
        mailer = Mailer(smtp, password)
        try:
            for out in outgoing:
                if out.key in record and not force:
                    report.skipped.append(out)
                    emit("skipped", out, "already sent (use --force to send again)")
                    continue
                data = message_bytes(out.message)
                error = _send_one(mailer, sender, out, data, smtp, report, emit, sleep)
                if error is None:
                    record.add(out, len(data))
                    report.sent.append(out)
                    emit("sent", out, f"{len(data):,} bytes")
                    continue
                text = _scrub(str(error), password)
                report.failed.append((out, text))
                emit("failed", out, text)
                if isinstance(error, _Permanent) and error.fatal:
                    break
        finally:
            mailer.quit()
    finally:
        lock.release()
    if report.failed:
        out, text = report.failed[0]
        more = f" (and {len(report.failed) - 1} more failed)" if len(report.failed) > 1 else ""
        where = f"{smtp.host}:{smtp.port}"
        raise DeliveryError(_scrub(f"sending {out.label} via {where} failed: {text}{more}", password))
    return report


def _send_one(mailer: Mailer, sender: str, out: Outgoing, data: bytes, smtp: SmtpSettings, report: Report,
              emit: Callable[[str, Outgoing, str], None], sleep: Callable[[float], None]) -> Exception | None:
    """Send one message, retrying temporary failures. Returns None on success, else the last error."""
    attempts = 1 + max(0, smtp.retries)
    for attempt in range(1, attempts + 1):
        report.attempts += 1
        try:
            mailer.send(sender, out.recipient, data)
            return None
        except Exception as e:  # noqa: BLE001 - every error is classified below
            mailer.reset()
            error = _classify(e)
        if isinstance(error, _Permanent):
            return error
        if attempt == attempts:
            return _Temporary(f"{error} (gave up after {attempts} attempts)")
        delay = smtp.backoff * 2 ** (attempt - 1)
        emit("retry", out, f"{error}; retrying in {delay:g} s")
        sleep(delay)
    return None  # not reached


# ---------------------------------------------------------------- the whole job

@dataclass
class SendResult:
    slug: str
    files: list[Path]
    report: Report
    planned: list[Outgoing]


def send_issue(settings: Settings, start: date, end: date, out_dir: Path, *, period: str = "day",
               to: list[str] | None = None, kindle: list[str] | None = None, attach: list[str] | None = None,
               force: bool = False, dry_run: bool = False, use_cache: bool = True,
               on_event: Event | None = None, sleep: Callable[[float], None] = time.sleep) -> SendResult:
    """Build the email edition of one issue (plus attachments) and send it.

    ``to`` / ``kindle`` given (even empty) replace the configured recipient lists.
    """
    from digest.editions import base as exporters
    from digest.build.issue import make_digest, write_issue
    from digest.theming.loader import load_theme

    if to is None and kindle is None:
        to, kindle = list(settings.email.to), list(settings.email.kindle)
    to, kindle = list(to or []), list(kindle or [])
    if not to and not kindle:
        raise ConfigError("no recipients: set email.to or email.kindle in digest.toml, or give --to / --kindle")
    attach = list(dict.fromkeys(settings.email.attach if attach is None else attach))
    for fmt in attach:
        if fmt not in ("epub", "pdf"):
            raise ConfigError(f"cannot attach {fmt!r}: attach epub or pdf")
    digest = make_digest(settings, start, end, period=period, use_cache=use_cache)
    if digest.count == 0:
        raise NothingToBuild(f"no posts for {digest.date_label} (time zone {settings.timezone})", settings.site_root)
    theme = load_theme(settings)
    email_mod = exporters.get("email")
    edition = email_mod.render(digest, theme=theme, settings=settings)
    files = email_mod.write_edition(edition, out_dir, settings)
    built: dict[str, list[Path]] = {}
    for fmt in attach + (["epub"] if kindle else []):
        if fmt not in built:
            built[fmt] = write_issue(digest, [fmt], out_dir, theme=theme, settings=settings)
            files.extend(built[fmt])
    attachments = [f for fmt in attach for f in built[fmt]] if to else []
    planned = plan(edition, settings, to=to, kindle=kindle, attachments=attachments,
                   kindle_files=built.get("epub", []))
    if dry_run:
        return SendResult(digest.slug, files, Report(), planned)
    report = deliver(planned, settings, out_dir / RECORD_NAME, force=force, on_event=on_event, sleep=sleep)
    return SendResult(digest.slug, files, report, planned)
