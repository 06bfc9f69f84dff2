"""SMTP: one connection opened lazily and re-opened after a failure; temporary failures retried with back-off.

* Temporary failures (4xx replies, dropped or refused connections, time-outs) are retried with
  exponential back-off (``smtp.retries``, ``smtp.backoff``); permanent ones (5xx) end the run with a
  :class:`DeliveryError` naming the recipient and the server's reply.
* ``OUT/.sent.json`` records every message sent (issue slug + kind + recipient), written atomically
  after each message, so a cron re-run sends nothing twice (``force=True`` sends again).
* The SMTP password comes from ``DIGEST_SMTP_PASSWORD`` only (read at the command line's edge) and never
  appears in a message.
"""
from __future__ import annotations

import contextlib
import smtplib
import ssl
import time
from collections.abc import Callable
from pathlib import Path

from digest.config.settings import Settings, SmtpSettings
from digest.delivery.sent import Event, Outgoing, Report, SentRecord
from digest.editions.email.mime import bare_address, message_bytes
from digest.editions.email.options import EmailOptions
from digest.errors import BusyError, ConfigError, DeliveryError

PASSWORD_ENV = "DIGEST_SMTP_PASSWORD"


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
        self.cfg, self._password = smtp, password
        self.conn: smtplib.SMTP | None = None

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
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.conn.quit()
            self.reset()


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


def deliver(outgoing: list[Outgoing], settings: Settings, record_path: Path, *, password: str | None = None,
            force: bool = False, on_event: Event | None = None,
            sleep: Callable[[float], None] = time.sleep) -> Report:
    """Send each message not yet in the sent record. Raises DeliveryError if any failed permanently."""
    from filelock import FileLock, Timeout

    smtp = settings.smtp
    sender = bare_address(settings.options(EmailOptions).from_addr or "")
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
        except Exception as e:
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
