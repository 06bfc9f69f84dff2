"""``digest serve OUT``: the output folder, read-only over HTTP, for e-readers on the local network.

Only GET and HEAD; only files inside OUT (the resolved path must stay inside it, so ``..`` and
symbolic links leading out are refused); hidden files (the lock, the build records, temporary files)
are never served or listed. OPDS feeds go out with their OPDS media types, so KOReader and calibre
recognise the catalog at ``http://HOST:PORT/opds.xml``.
"""
from __future__ import annotations

import contextlib
import html
import io
import os
import posixpath
import socket
import threading
from collections.abc import Callable
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from digest.errors import ConfigError

TYPES = {
    ".epub": "application/epub+zip",
    ".atom": "application/atom+xml",
    ".pdf": "application/pdf",
    ".eml": "message/rfc822",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".jpg": "image/jpeg",
    ".png": "image/png",
}


MAX_CONNECTIONS = 128  # connections served at once; more are answered 503 at once and closed
IDLE_SECONDS = 10.0  # a connection that sends or takes nothing for this long is closed
REQUEST_SECONDS = 15.0  # the request line and headers must arrive within this (a byte-a-second client too)


class ReadOnlyHandler(SimpleHTTPRequestHandler):
    """Serves files under ``directory`` only; refuses anything that resolves outside it."""

    server_version = "digest"
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **TYPES}  # noqa: RUF012  (the base class's)
    timeout = IDLE_SECONDS  # StreamRequestHandler sets it on the socket: each read and write

    def __init__(self, *args: Any, directory: str, **kwargs: Any):
        self.root = Path(directory).resolve()
        super().__init__(*args, directory=str(self.root), **kwargs)

    def setup(self) -> None:
        super().setup()
        # a slow client (one byte every few seconds) never trips the idle timeout: a deadline for the request
        self._deadline = threading.Timer(REQUEST_SECONDS, self._expire)
        self._deadline.daemon = True
        self._deadline.start()

    def _expire(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def parse_request(self) -> bool:
        ok: bool = super().parse_request()
        self._deadline.cancel()  # the request is in: sending the file is bounded by the idle timeout alone
        return ok

    def finish(self) -> None:
        self._deadline.cancel()
        super().finish()

    def _allowed(self) -> Path | None:
        """The file system path of the request, or None (after sending an error) when refused."""
        raw = unquote(urlsplit(self.path).path)
        parts = [p for p in raw.split("/") if p]
        if "\\" in raw or "\0" in raw or any(p in (".", "..") or p.startswith(".") for p in parts):
            self.send_error(HTTPStatus.FORBIDDEN, "Forbidden")
            return None
        target = (self.root / posixpath.join(*parts)) if parts else self.root
        try:
            resolved = target.resolve(strict=True)
        except (OSError, RuntimeError):
            self.send_error(HTTPStatus.NOT_FOUND, "Not found")
            return None
        if not resolved.is_relative_to(self.root):
            self.send_error(HTTPStatus.FORBIDDEN, "Forbidden")
            return None
        return resolved

    def do_GET(self) -> None:
        if self._allowed() is not None:
            super().do_GET()

    def do_HEAD(self) -> None:
        if self._allowed() is not None:
            super().do_HEAD()

    def _read_only(self) -> None:
        self.send_error(HTTPStatus.METHOD_NOT_ALLOWED, "Read-only")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _read_only

    def end_headers(self) -> None:
        if self.command in ("GET", "HEAD"):
            self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        name = os.path.basename(str(path))
        if name.startswith("opds") and name.endswith(".xml"):
            from digest.archive.catalog import ACQ_TYPE, NAV_TYPE

            return NAV_TYPE if name == "opds.xml" else ACQ_TYPE
        return super().guess_type(path)

    def list_directory(self, path: str | os.PathLike[str]) -> io.BytesIO | None:
        """A plain listing without hidden files."""
        try:
            names = sorted(n for n in os.listdir(path) if not n.startswith("."))
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "Not found")
            return None
        rel = unquote(urlsplit(self.path).path)
        items = "".join(
            f'<li><a href="{html.escape(n + ("/" if os.path.isdir(os.path.join(path, n)) else ""), quote=True)}">'
            f"{html.escape(n)}</a></li>" for n in names)
        body = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(rel)}</title></head>'
                f"<body><h1>{html.escape(rel)}</h1><ul>{items}</ul></body></html>").encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, format: str, *args: Any) -> None:
        if not getattr(self.server, "quiet", False):
            super().log_message(format, *args)


class BoundedServer(ThreadingHTTPServer):
    """A thread per connection, at most ``MAX_CONNECTIONS`` of them: past that a connection gets ``503`` and is
    closed at once, so idle and slow clients cannot take every thread (they are dropped after their
    deadlines) and the others stay served."""

    daemon_threads = True
    quiet = False

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away or was cut off at its deadline is not an error worth a traceback."""
        import sys

        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def make_server(out_dir: Path, host: str = "0.0.0.0", port: int = 8000, quiet: bool = False) -> BoundedServer:
    server = BoundedServer((host, port), partial(ReadOnlyHandler, directory=str(out_dir)))
    server.quiet = quiet
    return server


def serve_folder(out_dir: Path, host: str, port: int, quiet: bool, *, announce: Callable[[str], None]) -> None:
    """``digest serve``: serve ``out_dir`` read-only until interrupted (Ctrl-C stops it quietly)."""
    if not out_dir.is_dir():
        raise ConfigError("output folder not found", out_dir)
    try:
        server = make_server(out_dir, host, port, quiet)
    except OSError as e:
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    announce(f"serving {out_dir.resolve()} read-only at http://{shown}:{server.server_address[1]}/ "
             f"(OPDS catalog: /opds.xml); Ctrl-C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
