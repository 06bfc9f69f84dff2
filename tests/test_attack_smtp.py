"""SMTP under attack (issue 16, item 9, and DKIM).

Before: a server that dropped the connection after accepting DATA, or a ``kill -9`` between the server's
acceptance and the sent record, delivered twice; a non-ASCII password gave a UnicodeEncodeError traceback; a
server echoing the AUTH PLAIN blob got it printed unscrubbed (also with --debug); a server trickling one byte
every 2 s took 61 s per message despite ``timeout = 5``.
"""
from __future__ import annotations

import base64
import json
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult
from conftest import EXAMPLE
from test_deliver import ALICE, Handler, config, free_port, smtp_server

DAY = "2021-12-08"
PASSWORD = "pässwörd-秘密-🔑"


def run_send(cfg: Path, out: Path, *args: str, password: str | None = None, debug: bool = False):
    env = {**os.environ, "DIGEST_SMTP_PASSWORD": password or ""}
    cmd = [sys.executable, "-m", "digest", *(["--debug"] if debug else []), "send", str(EXAMPLE), "--config",
           str(cfg), "--out", str(out), "--date", DAY, *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out + err


class KillClient(Handler):
    """Takes the message, then kills the sending process before it can read the 250 and write its record."""

    def __init__(self) -> None:
        super().__init__()
        self.victim: int | None = None

    async def handle_DATA(self, server, session, envelope):
        self.data_calls += 1
        self.received.append(envelope)
        if self.victim is not None:
            os.kill(self.victim, signal.SIGKILL)
            self.victim = None
        return "250 OK"


def test_kill_9_between_acceptance_and_the_record_never_delivers_twice(tmp_path):
    h = KillClient()
    out = tmp_path / "out"
    with smtp_server(h) as port:
        cfg = config(tmp_path, port)
        proc = run_send(cfg, out, "--to", ALICE)
        h.victim = proc.pid
        code, _text = finish(proc)
        assert code == -signal.SIGKILL and h.data_calls == 1
        record = json.loads((out / ".sent.json").read_text())["sent"]
        assert [v["state"] for v in record.values()] == ["sending"]
        code, text = finish(run_send(cfg, out, "--to", ALICE))
        assert code == 0 and h.data_calls == 1, text
        assert "maybe sent: an earlier run" in text and "Message-ID <digest.2021-12-08.email." in text
        code, text = finish(run_send(cfg, out, "--to", ALICE, "--force"))
        assert code == 0 and h.data_calls == 2, text
    assert json.loads((out / ".sent.json").read_text())["sent"][f"{DAY}|email|{ALICE}"]["state"] == "sent"


def _auth_config(tmp_path: Path, port: int, timeout: float = 5, retries: int = 0) -> Path:
    return _write(config(tmp_path, port), timeout, retries)


def _write(cfg: Path, timeout: float, retries: int) -> Path:
    text = cfg.read_text().replace("retries = 2", f"retries = {retries}").replace("timeout = 5", f"timeout = {timeout}")
    cfg.write_text(text + 'username = "digest"\n')
    return cfg


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_non_ascii_password_logs_in(tmp_path):
    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((mechanism, auth_data.login, auth_data.password))
        ok = auth_data.login == b"digest" and auth_data.password == PASSWORD.encode("utf-8")
        return AuthResult(success=ok, handled=False)

    h = Handler()
    with smtp_server(h, authenticator=authenticator, auth_require_tls=False, auth_required=True) as port:
        code, text = finish(run_send(_auth_config(tmp_path, port), tmp_path / "out", "--to", ALICE,
                                     password=PASSWORD))
    assert code == 0, text
    assert seen and seen[0][0] == "PLAIN" and len(h.received) == 1
    assert "Traceback" not in text and PASSWORD not in text


class Scripted(socketserver.BaseRequestHandler):
    """A raw SMTP server: ``mode`` "echo" refuses AUTH and echoes what it got; "trickle" greets one byte every
    2 s."""

    mode = "echo"

    def handle(self) -> None:
        sock = self.request
        if self.mode == "trickle":
            for ch in b"220 slow.example ESMTP hello\r\n":
                time.sleep(2)
                try:
                    sock.sendall(bytes([ch]))
                except OSError:
                    return
            return
        f = sock.makefile("rb")
        sock.sendall(b"220 echo.example ESMTP\r\n")
        for line in f:
            cmd = line.strip().decode("utf-8", "replace")
            if cmd.upper().startswith(("EHLO", "HELO")):
                sock.sendall(b"250-echo.example\r\n250 AUTH PLAIN LOGIN\r\n")
            elif cmd.upper().startswith("AUTH"):
                sock.sendall(f"535 5.7.8 credentials rejected: {cmd} (blob {cmd.split()[-1]})\r\n".encode())
            elif cmd.upper().startswith("QUIT"):
                sock.sendall(b"221 bye\r\n")
                return
            else:
                sock.sendall(b"502 no\r\n")


def _serve(mode: str):
    handler = type("H", (Scripted,), {"mode": mode})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", free_port()), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize("debug", [False, True])
def test_every_encoding_of_the_secret_is_scrubbed_even_when_the_server_echoes_it(tmp_path, debug):
    server = _serve("echo")
    try:
        cfg = _auth_config(tmp_path, server.server_address[1])
        code, text = finish(run_send(cfg, tmp_path / "out", "--to", ALICE, password=PASSWORD, debug=debug))
    finally:
        server.shutdown()
        server.server_close()
    assert code != 0
    assert "535" in text and "credentials rejected" in text
    raw = PASSWORD.encode()
    for form in (PASSWORD, base64.b64encode(b"\0digest\0" + raw).decode(), base64.b64encode(raw).decode(),
                 repr(PASSWORD)[1:-1], repr(raw)[2:-1], raw.hex(), "pässwörd", "秘密"):
        assert form not in text, form
    assert "***" in text
    if not debug:
        assert "Traceback" not in text


def test_a_trickling_server_is_cut_off_at_the_deadline(tmp_path):
    server = _serve("trickle")
    try:
        cfg = _write(config(tmp_path, server.server_address[1]), timeout=3, retries=0)
        cfg.write_text(cfg.read_text().replace('username = "digest"\n', ""))
        t = time.monotonic()
        code, text = finish(run_send(cfg, tmp_path / "out", "--to", ALICE))
        elapsed = time.monotonic() - t
    finally:
        server.shutdown()
        server.server_close()
    assert code == 4, text
    assert "no complete reply within 3 s" in text and "Traceback" not in text
    assert elapsed < 30, elapsed  # the build of the issue included; the SMTP part is cut at 3 s


def _dkim_keys(tmp_path: Path) -> tuple[Path, bytes]:
    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", str(key), "2048"], check=True, capture_output=True)
    pub = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    return key, base64.b64encode(pub)


def test_dkim_signature_verifies_against_the_public_key(tmp_path):
    import dkim

    key, pub = _dkim_keys(tmp_path)
    h = Handler()
    with smtp_server(h) as port:
        cfg = config(tmp_path, port)
        cfg.write_text(cfg.read_text() + f'dkim_key = "{key}"\ndkim_selector = "digest"\n'
                                          'dkim_domain = "finews.example"\n')
        code, text = finish(run_send(cfg, tmp_path / "out"))
    assert code == 0, text
    assert len(h.received) == 2
    records = {b"digest._domainkey.finews.example.": b"v=DKIM1; k=rsa; p=" + pub}
    for envelope in h.received:
        data = envelope.original_content
        assert data.startswith(b"DKIM-Signature: ")
        assert dkim.verify(data, dnsfunc=lambda name, timeout=5: records.get(name))
        msg = message_from_bytes(data, policy=policy.default)
        sig = str(msg["DKIM-Signature"])
        assert "d=finews.example" in sig and "s=digest" in sig and "from" in sig.lower()
        tampered = data.replace(b"Subject: ", b"Subject: X", 1)
        assert not dkim.verify(tampered, dnsfunc=lambda name, timeout=5: records.get(name))


def test_half_configured_dkim_is_a_config_error(tmp_path):
    cfg = config(tmp_path, free_port())
    cfg.write_text(cfg.read_text() + 'dkim_selector = "digest"\n')
    code, text = finish(run_send(cfg, tmp_path / "out", "--to", ALICE))
    assert code == 2 and "smtp.dkim_key, smtp.dkim_selector and smtp.dkim_domain go together" in text
