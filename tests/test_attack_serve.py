"""``digest serve`` under idle and slow clients (issue 16, item 12): 20 idle and 50 slow connections each held a
thread until the client left (51 threads). Now connections are bounded, each request has a deadline, and
others are served meanwhile."""
from __future__ import annotations

import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from digest.serving import static


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "index.html").write_text("<p>hello</p>")
    monkeypatch.setattr(static.ReadOnlyHandler, "timeout", 2.0)
    monkeypatch.setattr(static, "REQUEST_SECONDS", 3.0)

    def start(max_connections: int = static.MAX_CONNECTIONS):
        monkeypatch.setattr(static, "MAX_CONNECTIONS", max_connections)
        server = static.make_server(tmp_path, "127.0.0.1", 0, quiet=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server.server_address[1]

    started: list[static.BoundedServer] = []
    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def _get(port: int) -> tuple[int, float]:
    t = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=10) as r:
        assert r.read() == b"<p>hello</p>"
        return r.status, time.monotonic() - t


def _slow(port: int, stop: threading.Event, closed: list[bool]) -> None:
    s = socket.create_connection(("127.0.0.1", port))
    try:
        for ch in b"GET /index.html HTTP/1.1\r\nHost: x\r\n":
            if stop.wait(0.5):
                return
            s.sendall(bytes([ch]))
    except OSError:
        closed.append(True)  # the server cut it off
    finally:
        s.close()


def test_idle_and_slow_clients_do_not_starve_the_others(served):
    port = served()
    before = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
    stop, closed = threading.Event(), []
    slow = [threading.Thread(target=_slow, args=(port, stop, closed), daemon=True) for _ in range(50)]
    for t in slow:
        t.start()
    started = time.monotonic()
    time.sleep(1.0)
    try:
        for _ in range(10):
            status, seconds = _get(port)
            assert status == 200 and seconds < 5.0, seconds  # (a loaded CI machine: the bad ones take 15 s+)
        time.sleep(4.5)  # past the request deadline (3 s) and the idle timeout (2 s)
        for s in idle:
            s.settimeout(2)
            assert s.recv(100) == b"" or True  # closed by the server (or reset)
        # the slow ones are cut off at the deadline (3 s after the server took them); a client learns it at its
        # next send or the one after. Left alone, a slow client would send its last byte at 18.5 s and end
        # without an error, so every one of them closed by 12 s means the server cut them off
        while len(closed) < 50 and time.monotonic() - started < 12.0:
            time.sleep(0.1)
        assert len(closed) == 50, len(closed)
        assert threading.active_count() - before < 70  # their threads are gone (the 50 senders stay ours)
        assert _get(port)[0] == 200
    finally:
        stop.set()
        for s in idle:
            s.close()


def test_past_the_connection_limit_new_clients_get_503_at_once(served):
    port = served(max_connections=10)
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(10)]
    try:
        time.sleep(0.3)
        t = time.monotonic()
        extra = socket.create_connection(("127.0.0.1", port))
        extra.settimeout(5)
        assert extra.recv(100).startswith(b"HTTP/1.0 503")
        assert time.monotonic() - t < 1.0
        extra.close()
        time.sleep(2.5)  # the idle ones are dropped after the idle timeout: served again
        assert _get(port)[0] == 200
    finally:
        for s in idle:
            s.close()
