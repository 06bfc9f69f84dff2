"""`digest send` against a real SMTP server (aiosmtpd on localhost, started here): what arrives, retries,
permanent failures, the sent record, Send to Kindle, and that the password never shows."""
from __future__ import annotations

import json
import re
import socket
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from typer.testing import CliRunner

from digest import load_settings
from digest.cli.app import app
from digest.errors import DeliveryError
from digest.runtime.env import Environment
from tests.conftest import DAY, EXAMPLE

PASSWORD = "c0rrect-h0rse-BATTERY-staple"
ALICE, BOB = "alice@example.org", "bob@example.org"
NO_CACHE = Environment.from_os(cache=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Handler:
    """Replies to DATA from a script (e.g. ["451 try later", "250"]; then 250), keeps what it accepted."""

    def __init__(self, script: list[str] | None = None, drop_first: bool = False):
        self.script = list(script or [])
        self.drop_first = drop_first
        self.received: list = []
        self.data_calls = 0

    async def handle_DATA(self, server, session, envelope):
        self.data_calls += 1
        if self.drop_first:
            self.drop_first = False
            server.transport.close()
            return "250 OK"
        reply = self.script.pop(0) if self.script else "250 OK"
        if reply.startswith("250"):
            self.received.append(envelope)
            return "250 OK"
        return reply


@contextmanager
def smtp_server(handler: Handler, **kw):
    port = free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port, **kw)
    ctl.start()
    try:
        yield port
    finally:
        ctl.stop()


def config(tmp_path: Path, port: int, *, extra_email: str = "", extra_smtp: str = "") -> Path:
    cfg = tmp_path / "digest.toml"
    cfg.write_text(f"""
post_dirs = ["old_post"]
[sections]
emnews = "东财滚动新闻"
[email]
subject = "{{site_title}} · {{date}} · {{count}}"
from_addr = "金融消息 <digest@finews.example>"
to = ["{ALICE}", "Bob <{BOB}>"]
web_url = "https://finews.withounder.com/digest/{{year}}/{{slug}}.html"
unsubscribe = "https://finews.example/unsubscribe, mailto:unsubscribe@finews.example"
{extra_email}
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
retries = 2
backoff = 0.01
timeout = 5
{extra_smtp}
""", encoding="utf-8")
    return cfg


def send(cfg: Path, out: Path, *args: str):
    return CliRunner().invoke(app, ["send", str(EXAMPLE), "--config", str(cfg), "--out", str(out),
                                    "--date", DAY.isoformat(), *args])


def parse(envelope):
    return message_from_bytes(envelope.original_content, policy=policy.default)


def test_send_delivers_one_multipart_message_per_recipient(tmp_path):
    h = Handler()
    with smtp_server(h) as port:
        r = send(config(tmp_path, port), tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert "2 sent, 0 already sent" in r.output
    assert sorted(e.rcpt_tos[0] for e in h.received) == [ALICE, BOB]
    ids = set()
    for env in h.received:
        assert env.mail_from == "digest@finews.example"
        assert len(env.rcpt_tos) == 1
        msg = parse(env)
        assert msg.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
        assert str(msg["Subject"]) == "金融消息 · 2021年12月8日 · 97"
        assert msg["From"].addresses[0].display_name == "金融消息"
        assert msg["From"].addresses[0].addr_spec == "digest@finews.example"
        assert [a.addr_spec for a in msg["To"].addresses] == env.rcpt_tos  # nobody sees the other subscriber
        assert msg["Date"] == "Wed, 08 Dec 2021 13:16:19 +0800"
        assert re.fullmatch(r"<digest\.2021-12-08\.email\.[0-9a-f]{16}@finews\.withounder\.com>", msg["Message-ID"])
        ids.add(msg["Message-ID"])
        assert msg["List-Unsubscribe"].strip() == "<https://finews.example/unsubscribe>, <mailto:unsubscribe@finews.example>"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        assert "FF：有充足的现金支持到FF 91完成投产" in text and "FF：有充足的现金支持到FF 91完成投产" in html
        assert "https://finews.withounder.com/digest/2021/2021-12-08.html" in text
        assert 'href="https://finews.withounder.com/digest/2021/2021-12-08.html"' in html
        assert "<script" not in html.lower()
    assert len(ids) == 2
    record = json.loads((tmp_path / "out" / ".sent.json").read_text(encoding="utf-8"))
    assert set(record["sent"]) == {f"2021-12-08|email|{ALICE}", f"2021-12-08|email|{BOB}"}


def test_second_run_sends_nothing_unless_forced(tmp_path):
    h = Handler()
    out = tmp_path / "out"
    with smtp_server(h) as port:
        cfg = config(tmp_path, port)
        assert send(cfg, out).exit_code == 0
        again = send(cfg, out)
        assert again.exit_code == 0, again.output
        assert "0 sent, 2 already sent" in again.output
        assert len(h.received) == 2
        forced = send(cfg, out, "--force")
        assert forced.exit_code == 0 and "2 sent" in forced.output
    assert len(h.received) == 4
    # a re-sent message keeps its Message-ID, so mail clients can fold the duplicate
    first = {parse(e)["To"].addresses[0].addr_spec: parse(e)["Message-ID"] for e in h.received[:2]}
    second = {parse(e)["To"].addresses[0].addr_spec: parse(e)["Message-ID"] for e in h.received[2:]}
    assert first == second


def test_temporary_failure_is_retried_and_delivered_once(tmp_path):
    h = Handler(["451 4.3.0 Greylisted, try again later", "250"])
    with smtp_server(h) as port:
        r = send(config(tmp_path, port), tmp_path / "out", "--to", ALICE)
    assert r.exit_code == 0, r.output
    assert h.data_calls == 2
    assert [e.rcpt_tos for e in h.received] == [[ALICE]]
    assert "retry" in r.output and "451" in r.output


class DropAtRcpt(Handler):
    """Drops the connection at the first RCPT: before any of the message went out (safe to retry)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.drop_first:
            self.drop_first = False
            server.transport.close()
            return "250 OK"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_connection_dropped_before_the_message_went_out_is_retried(tmp_path):
    h = DropAtRcpt(drop_first=True)
    with smtp_server(h) as port:
        r = send(config(tmp_path, port), tmp_path / "out", "--to", ALICE)
    assert r.exit_code == 0, r.output
    assert [e.rcpt_tos for e in h.received] == [[ALICE]]
    assert "retry" in r.output


def test_a_connection_dropped_after_the_message_went_out_is_maybe_sent_never_twice(tmp_path):
    """Issue 16: the server took the whole message, then the connection dropped. Retrying delivered it twice;
    now it is "maybe sent": not retried, exit 4, and a re-run does not send it again without --force."""
    h = Handler(drop_first=True)
    out = tmp_path / "out"
    with smtp_server(h) as port:
        cfg = config(tmp_path, port)
        r = send(cfg, out, "--to", ALICE)
        assert r.exit_code == 4, r.output
        assert h.data_calls == 1 and "retry" not in r.output
        assert "maybe sent: 2021-12-08 email → alice@example.org" in r.output
        again = send(cfg, out, "--to", ALICE)
        assert again.exit_code == 0 and h.data_calls == 1, again.output
        assert "maybe sent: an earlier run lost the connection" in again.output and "--force" in again.output
        forced = send(cfg, out, "--to", ALICE, "--force")
        assert forced.exit_code == 0 and h.data_calls == 2
    assert [e.rcpt_tos for e in h.received] == [[ALICE]]


def test_permanent_failure_ends_with_clear_message_and_exit_4(tmp_path):
    h = Handler(["550 5.1.1 mailbox unavailable"])
    out = tmp_path / "out"
    with smtp_server(h) as port:
        r = send(config(tmp_path, port), out, "--to", ALICE)
        assert r.exit_code == DeliveryError.exit_code == 4
        assert h.data_calls == 1  # no retry on 5xx
        last = r.output.strip().splitlines()[-1]
        assert last.startswith("digest: error:") and ALICE in last and "550 5.1.1 mailbox unavailable" in last
        assert "Traceback" not in r.output
        # nothing recorded: the next run tries again (and succeeds)
        assert ALICE not in (out / ".sent.json").read_text() if (out / ".sent.json").exists() else True
        again = send(config(tmp_path, port), out, "--to", ALICE)
    assert again.exit_code == 0, again.output
    assert len(h.received) == 1


def test_temporary_failures_give_up_after_retries(tmp_path):
    h = Handler(["451 busy"] * 10)
    with smtp_server(h) as port:
        r = send(config(tmp_path, port), tmp_path / "out", "--to", ALICE)
    assert r.exit_code == 4
    assert h.data_calls == 3  # 1 + smtp.retries
    assert "gave up after 3 attempts" in r.output


def test_unreachable_server_fails_cleanly(tmp_path):
    r = send(config(tmp_path, free_port(), extra_smtp=""), tmp_path / "out", "--to", ALICE)
    assert r.exit_code == 4
    assert "ConnectionRefusedError" in r.output and "gave up" in r.output
    assert "Traceback" not in r.output


def _auth_server(handler: Handler):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"digest" and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)

    return smtp_server(handler, authenticator=authenticator, auth_require_tls=False, auth_required=True)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_with_password_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", PASSWORD)
    h = Handler()
    out = tmp_path / "out"
    with _auth_server(h) as port:
        r = send(config(tmp_path, port, extra_smtp='username = "digest"'), out, "--to", ALICE)
    assert r.exit_code == 0, r.output
    assert len(h.received) == 1
    assert PASSWORD not in r.output
    for f in out.rglob("*"):
        if f.is_file():
            assert PASSWORD.encode() not in f.read_bytes(), f


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_wrong_password_fails_without_showing_it(tmp_path, monkeypatch):
    wrong = "wr0ng-PASSWORD-zz9"
    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", wrong)
    h = Handler()
    with _auth_server(h) as port:
        r = send(config(tmp_path, port, extra_smtp='username = "digest"'), tmp_path / "out", "--to", ALICE)
    assert r.exit_code == 4
    assert "login failed" in r.output and "535" in r.output
    assert wrong not in r.output
    assert h.received == []


def test_username_without_password_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.delenv("DIGEST_SMTP_PASSWORD", raising=False)
    r = send(config(tmp_path, free_port(), extra_smtp='username = "digest"'), tmp_path / "out", "--to", ALICE)
    assert r.exit_code == 2
    assert "DIGEST_SMTP_PASSWORD" in r.output


def test_missing_sender_and_recipients_are_config_errors(tmp_path):
    cfg = config(tmp_path, free_port())
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('from_addr = "金融消息 <digest@finews.example>"', ""),
                   encoding="utf-8")
    r = send(cfg, tmp_path / "out", "--to", ALICE)
    assert r.exit_code == 2 and "email.from_addr" in r.output
    r = send(config(tmp_path, free_port()), tmp_path / "out", "--to", "not-an-address")
    assert r.exit_code == 2 and "not-an-address" in r.output


def test_dry_run_sends_nothing(tmp_path):
    h = Handler()
    with smtp_server(h) as port:
        r = send(config(tmp_path, port), tmp_path / "out", "--dry-run")
    assert r.exit_code == 0, r.output
    assert r.output.count("would send:") == 2
    assert h.data_calls == 0
    assert not (tmp_path / "out" / ".sent.json").exists()


# ------------------------------------------------------------------ attachments and Send to Kindle

@pytest.fixture(scope="module")
def edition():
    from digest.build import make_digest
    from digest.editions.email import render as email
    from digest.theming.loader import load_theme

    settings = load_settings(EXAMPLE)
    digest = make_digest(settings, DAY, DAY, env=NO_CACHE)
    return email.render(digest, theme=load_theme(settings), settings=settings)


def _settings(port: int, **email):
    return load_settings(EXAMPLE, None, {
        "email": {"from_addr": "digest@finews.example", **email},
        "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "retries": 1, "backoff": 0.01},
    })


def test_attachment_and_kindle_messages(tmp_path, edition):
    from digest.delivery.send import plan
    from digest.delivery.smtp import deliver

    book = tmp_path / "2021-12-08.epub"
    book.write_bytes(b"PK\x03\x04 not really an epub, but bytes to carry")
    h = Handler()
    with smtp_server(h) as port:
        settings = _settings(port)
        msgs = plan(edition, settings, to=[ALICE], kindle=["reader@kindle.com"], attachments=[book],
                    kindle_files=[book])
        report = deliver(msgs, settings, tmp_path / ".sent.json")
    assert [o.kind for o in report.sent] == ["email", "kindle"]
    by_rcpt = {e.rcpt_tos[0]: parse(e) for e in h.received}
    mail = by_rcpt[ALICE]
    assert mail.get_content_type() == "multipart/mixed"
    body, att = list(mail.iter_parts())
    assert body.get_content_type() == "multipart/alternative"
    assert att.get_content_type() == "application/epub+zip"
    assert att.get_filename() == "2021-12-08.epub" and att.get_content() == book.read_bytes()
    kindle = by_rcpt["reader@kindle.com"]
    assert kindle.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in kindle.iter_parts()] == ["text/plain", "application/epub+zip"]
    assert "List-Unsubscribe" not in kindle
    assert kindle["Message-ID"] != mail["Message-ID"]


def test_kindle_refuses_attachments_over_50_mb(tmp_path, edition):
    from digest.delivery.send import plan

    big = tmp_path / "big.epub"
    with big.open("wb") as f:
        f.truncate(51_000_000)
    with pytest.raises(DeliveryError, match="at most 50 MB"):
        plan(edition, _settings(free_port()), to=[], kindle=["reader@kindle.com"], kindle_files=[big])


def test_cli_attach_epub(tmp_path):
    h = Handler()
    with smtp_server(h) as port:
        r = send(config(tmp_path, port), tmp_path / "out", "--to", ALICE, "--attach", "epub",
                 "--kindle", "reader@kindle.com")
    assert r.exit_code == 0, r.output
    by_rcpt = {e.rcpt_tos[0]: parse(e) for e in h.received}
    assert sorted(by_rcpt) == [ALICE, "reader@kindle.com"]
    epub = (tmp_path / "out" / "2021" / "2021-12-08.epub").read_bytes()
    for msg in by_rcpt.values():
        atts = list(msg.iter_attachments())
        assert [a.get_content_type() for a in atts] == ["application/epub+zip"]
        assert atts[0].get_filename() == "2021-12-08.epub" and atts[0].get_content() == epub
    assert by_rcpt["reader@kindle.com"].get_body(("html",)) is None


def test_no_posts_exits_1_and_week_issue(tmp_path):
    r = CliRunner().invoke(app, ["send", str(EXAMPLE), "--config", str(config(tmp_path, free_port())),
                                 "--out", str(tmp_path / "out"), "--date", "2021-12-09"])
    assert r.exit_code == 1 and "no posts" in r.output
    r = send(config(tmp_path, free_port()), tmp_path / "out", "--period", "week", "--dry-run")
    assert r.exit_code == 0, r.output
    assert f"would send: 2021-W49 email → {ALICE}" in r.output


def test_a_second_concurrent_send_is_refused(tmp_path):
    from filelock import FileLock

    out = tmp_path / "out"
    out.mkdir()
    with FileLock(str(out / ".sent.json.lock")):
        r = send(config(tmp_path, free_port()), out, "--to", ALICE)
    assert r.exit_code == 5 and "another `digest send`" in r.output


# ------------------------------------------------------------------ TLS (STARTTLS and implicit SSL)

@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    import shutil
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem"), "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


def _server_context(cert, key):
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_starttls_and_login(tmp_path, monkeypatch, tls_cert):
    cert, key = tls_cert
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test certificate
    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", PASSWORD)
    h = Handler()

    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=auth_data.password == PASSWORD.encode() and session.ssl is not None)

    with smtp_server(h, tls_context=_server_context(cert, key), require_starttls=True,
                     authenticator=authenticator, auth_required=True) as port:
        cfg = config(tmp_path, port, extra_smtp='username = "digest"')
        cfg.write_text(cfg.read_text(encoding="utf-8").replace('security = "none"', 'security = "starttls"'),
                       encoding="utf-8")
        r = send(cfg, tmp_path / "out", "--to", ALICE)
    assert r.exit_code == 0, r.output
    assert [e.rcpt_tos for e in h.received] == [[ALICE]]


def test_implicit_ssl_and_untrusted_certificate(tmp_path, monkeypatch, tls_cert):
    cert, key = tls_cert
    h = Handler()
    with smtp_server(h, ssl_context=_server_context(cert, key)) as port:
        cfg = config(tmp_path, port)
        cfg.write_text(cfg.read_text(encoding="utf-8").replace('security = "none"', 'security = "ssl"'),
                       encoding="utf-8")
        # not trusted yet: a permanent failure, no retries
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))
        r = send(cfg, tmp_path / "out", "--to", ALICE)
        assert r.exit_code == 4
        assert "TLS failed" in r.output and "retry" not in r.output
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        r = send(cfg, tmp_path / "out", "--to", ALICE)
    assert r.exit_code == 0, r.output
    assert len(h.received) == 1
