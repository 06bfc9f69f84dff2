"""SMTP: one connection opened lazily and re-opened after a failure; temporary failures retried with back-off.

* Temporary failures (4xx replies, dropped or refused connections, time-outs) *before the message was sent*
  are retried with exponential back-off (``smtp.retries``, ``smtp.backoff``); permanent ones (5xx) end the
  run with a :class:`DeliveryError` naming the recipient and the server's reply.
* Never twice: the attempt is recorded in ``OUT/.sent.json`` before the message goes out, and confirmed
  once the server accepts it. A connection lost after the whole message went out (the server may have
  queued it) is *maybe sent*: not retried, and a re-run does not send it again without ``--force`` — it
  says so. The window that remains is documented in docs/email.md.
* ``smtp.timeout`` is a deadline for each command's whole reply, not for each byte (a server trickling one
  byte every 2 s no longer takes a minute per message).
* The SMTP password comes from ``DIGEST_SMTP_PASSWORD`` only (read at the command line's edge), may hold any
  Unicode (sent as UTF-8), and every form of it is scrubbed from what is shown (:mod:`.secrets`).
"""
from __future__ import annotations

import base64
import contextlib
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from digest.config.settings import Settings, SmtpSettings
from digest.delivery.dkim import dkim_signer
from digest.delivery.secrets import Secret
from digest.delivery.sent import Event, Outgoing, Report, SentRecord
from digest.editions.email.mime import bare_address, message_bytes
from digest.editions.email.options import EmailOptions
from digest.errors import BusyError, ConfigError, DeliveryError

PASSWORD_ENV = "DIGEST_SMTP_PASSWORD"
_MAXLINE = 8192  # smtplib's limit on one reply line


class _Temporary(Exception):
    """Worth retrying: a 4xx reply or a lost connection, before the message was sent."""


class _MaybeSent(Exception):
    """The whole message went out, then the connection was lost: the server may have queued it."""


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


class _Deadline:
    """An overall deadline for each reply (smtplib's timeout is per read: a trickle never trips it)."""

    timeout: float
    sock: Any
    _inbuf: bytearray

    def getreply(self) -> tuple[int, bytes]:
        deadline = time.monotonic() + self.timeout
        resp: list[bytes] = []
        errcode = -1
        while True:
            line = self._line(deadline)
            resp.append(line[4:].strip(b" \t\r\n"))
            try:
                errcode = int(line[:3])
            except ValueError:
                errcode = -1
                break
            if line[3:4] != b"-":
                break
        if self.sock is not None:
            self.sock.settimeout(self.timeout)
        return errcode, b"\n".join(resp)

    def _line(self, deadline: float) -> bytes:
        buf = self.__dict__.setdefault("_inbuf", bytearray())
        while b"\n" not in buf and len(buf) <= _MAXLINE:
            left = deadline - time.monotonic()
            if left <= 0 or self.sock is None:
                self.close()
                raise smtplib.SMTPServerDisconnected(f"no complete reply within {self.timeout:g} s")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(4096)
            except TimeoutError:
                self.close()
                raise smtplib.SMTPServerDisconnected(f"no complete reply within {self.timeout:g} s") from None
            except OSError as e:
                self.close()
                raise smtplib.SMTPServerDisconnected(f"connection lost: {e}") from None
            if not chunk:
                self.close()
                raise smtplib.SMTPServerDisconnected("connection closed by the server")
            buf += chunk
        end = buf.find(b"\n") + 1 or len(buf)
        if end > _MAXLINE:
            self.close()
            raise smtplib.SMTPResponseException(500, b"Line too long.")
        line = bytes(buf[:end])
        del buf[:end]
        return line

    def close(self) -> None:
        self.__dict__["_inbuf"] = bytearray()
        super().close()  # type: ignore[misc]

    def starttls(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        reply: tuple[int, bytes] = super().starttls(*args, **kwargs)  # type: ignore[misc]
        self.__dict__["_inbuf"] = bytearray()  # bytes sent before TLS are never read as if after (injection)
        return reply


class _SMTP(_Deadline, smtplib.SMTP):
    pass


class _SMTPSSL(_Deadline, smtplib.SMTP_SSL):
    pass


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
            conn: smtplib.SMTP = _SMTPSSL(c.host, c.port, timeout=c.timeout, context=context)
        else:
            conn = _SMTP(c.host, c.port, timeout=c.timeout)
        try:
            conn.ehlo()
            if c.security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if c.username:
                login(conn, c.username, self._password or "")
        except BaseException:
            conn.close()
            raise
        return conn

    def send(self, sender: str, recipient: str, data: bytes) -> None:
        """One transaction; :class:`_MaybeSent` when the connection is lost after the whole message went out."""
        if self.conn is None:
            self.conn = self._open()
        conn = self.conn
        code, resp = conn.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, resp, sender)
        code, resp = conn.rcpt(recipient)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: (code, resp)})
        conn.putcmd("data")
        code, resp = conn.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, resp)
        payload = re.sub(rb"(?m)^\.", b"..", data)
        payload += (b"" if payload.endswith(b"\r\n") else b"\r\n") + b".\r\n"
        if conn.sock is not None:  # the whole message within the timeout, or 100 KB/s for a big one
            conn.sock.settimeout(max(self.cfg.timeout, len(payload) / 100_000))
        conn.send(payload)
        try:
            code, resp = conn.getreply()
        except (OSError, smtplib.SMTPServerDisconnected) as e:
            raise _MaybeSent(f"the connection was lost after the message was sent ({e}); the server may "
                             "have accepted it") from None
        if code != 250:
            raise smtplib.SMTPDataError(code, resp)

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


def login(conn: smtplib.SMTP, username: str, password: str) -> None:
    """AUTH PLAIN (else LOGIN) with UTF-8 credentials (RFC 4616; smtplib encodes them as ASCII and fails)."""
    conn.ehlo_or_helo_if_needed()
    offered = (conn.esmtp_features.get("auth") or "").upper().split()
    user, secret = username.encode("utf-8"), password.encode("utf-8")
    if "PLAIN" in offered or not offered:
        code, resp = conn.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0" + user + b"\0" + secret).decode())
    elif "LOGIN" in offered:
        code, resp = conn.docmd("AUTH", "LOGIN " + base64.b64encode(user).decode())
        if code == 334:
            code, resp = conn.docmd(base64.b64encode(secret).decode())
    else:
        raise smtplib.SMTPNotSupportedError(f"no AUTH mechanism digest speaks (the server offers {offered})")
    if code not in (235, 503):
        raise smtplib.SMTPAuthenticationError(code, resp)


def deliver(outgoing: list[Outgoing], settings: Settings, record_path: Path, *, password: str | None = None,
            force: bool = False, on_event: Event | None = None,
            sleep: Callable[[float], None] = time.sleep) -> Report:
    """Send each message not yet in the sent record (nor maybe sent). Raises DeliveryError if any failed
    permanently, or went out without the server's confirmation."""
    from filelock import FileLock, Timeout

    smtp = settings.smtp
    secret = Secret(password, smtp.username)
    sender = bare_address(settings.options(EmailOptions).from_addr or "")
    report = Report()
    emit: Event = on_event or (lambda *a: None)
    record_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(record_path) + ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise BusyError("another `digest send` is using this output folder", record_path.parent) from None
    try:
        record = SentRecord(record_path)
        signer = dkim_signer(smtp, settings.site_root)
        mailer = Mailer(smtp, password)
        try:
            _deliver_all(outgoing, record, mailer, sender, signer, smtp, report, emit, sleep, force, secret)
        finally:
            mailer.quit()
    finally:
        lock.release()
    _raise_failures(report, smtp, secret)
    return report


def _deliver_all(outgoing: list[Outgoing], record: SentRecord, mailer: Mailer, sender: str,
                 signer: Callable[[bytes], bytes], smtp: SmtpSettings, report: Report, emit: Event,
                 sleep: Callable[[float], None], force: bool, secret: Secret) -> None:
    for out in outgoing:
        state = record.state(out.key)
        if state is not None and not force:
            report.skipped.append(out)
            emit("skipped", out, "already sent (use --force to send again)" if state == "sent" else
                 f"maybe sent: an earlier run lost the connection after sending it, or stopped before recording "
                 f"it; look for Message-ID {out.message['Message-ID']} and use --force to send it again")
            continue
        data = signer(message_bytes(out.message))
        record.attempt(out)  # before it goes out: a run killed after the server took it leaves "maybe sent"
        error = _send_one(mailer, sender, out, data, smtp, report, emit, sleep)
        if error is None:
            record.confirm(out, len(data))
            report.sent.append(out)
            emit("sent", out, f"{len(data):,} bytes")
            continue
        text = secret.scrub(str(error))
        if isinstance(error, _MaybeSent):
            report.uncertain.append((out, text))
            emit("maybe sent", out, f"{text}; not sent again (a re-run sends it only with --force)")
            continue
        record.forget(out)  # the server said no, or the message never went out whole: not sent
        report.failed.append((out, text))
        emit("failed", out, text)
        if isinstance(error, _Permanent) and error.fatal:
            break


def _raise_failures(report: Report, smtp: SmtpSettings, secret: Secret) -> None:
    problems = report.failed + report.uncertain
    if not problems:
        return
    out, text = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    where = f"{smtp.host}:{smtp.port}"
    raise DeliveryError(secret.scrub(f"sending {out.label} via {where} failed: {text}{more}"))


def _send_one(mailer: Mailer, sender: str, out: Outgoing, data: bytes, smtp: SmtpSettings, report: Report,
              emit: Event, sleep: Callable[[float], None]) -> Exception | None:
    """Send one message, retrying temporary failures. Returns None on success, else the last error
    (:class:`_MaybeSent` is never retried: the message may be in the recipient's mailbox already)."""
    attempts = 1 + max(0, smtp.retries)
    for attempt in range(1, attempts + 1):
        report.attempts += 1
        try:
            mailer.send(sender, out.recipient, data)
            return None
        except _MaybeSent as e:
            mailer.reset()
            return e
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
