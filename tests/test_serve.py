"""``digest serve``: read-only, only files inside the folder, the right media types for e-readers."""
from __future__ import annotations

import http.client
import threading

import pytest
from typer.testing import CliRunner

from digest import load_settings
from digest.build import build
from digest.cli.app import app
from digest.serving.static import make_server
from tests.conftest import DAY, EXAMPLE

SECRET = b"top secret outside the folder"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("serve")
    (base / "secret.txt").write_bytes(SECRET)
    out = base / "out"
    build(load_settings(EXAMPLE), DAY, DAY, ["html", "epub"], out)
    (out / "leak.txt").symlink_to(base / "secret.txt")
    (out / "leakdir").symlink_to(base)
    server = make_server(out, "127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield out, server.server_address[1]
    server.shutdown()
    server.server_close()


def request(port: int, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest(method, path, skip_accept_encoding=True)  # the path goes out exactly as written
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body


def test_serves_files_with_the_types_e_readers_expect(served):
    out, port = served
    status, headers, body = request(port, "/2021/2021-12-08.epub")
    assert status == 200 and headers["content-type"] == "application/epub+zip"
    assert body == (out / "2021" / "2021-12-08.epub").read_bytes()
    status, headers, _ = request(port, "/opds.xml")
    assert status == 200 and headers["content-type"] == "application/atom+xml;profile=opds-catalog;kind=navigation"
    status, headers, _ = request(port, "/opds-all.xml")
    assert headers["content-type"] == "application/atom+xml;profile=opds-catalog;kind=acquisition"
    assert request(port, "/feed.atom")[1]["content-type"] == "application/atom+xml"
    status, headers, body = request(port, "/")
    assert status == 200 and body == (out / "index.html").read_bytes()
    status, headers, body = request(port, "/2021/2021-12-08.epub", "HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 1000


@pytest.mark.parametrize("path", [
    "/../secret.txt", "/%2e%2e/secret.txt", "/2021/../../secret.txt", "/2021/%2E%2E/%2e%2e/secret.txt",
    "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/2021%2f..%2f..%2fsecret.txt", "/..\\secret.txt",
    "/leak.txt", "/leakdir/secret.txt", "/leakdir/", "//etc/passwd", "/.digest.lock",
    "/.digest/issues/2021-12-08.json", "/2021/.hidden",
])
def test_refuses_paths_outside_the_folder_and_hidden_files(served, path):
    _, port = served
    status, _, body = request(port, path)
    assert status in (403, 404), (path, status)
    assert SECRET not in body and b"root:" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_read_only(served, method):
    out, port = served
    status, _, _ = request(port, "/index.html", method)
    assert status == 405
    assert (out / "index.html").is_file()


def test_directory_listing_hides_hidden_files(served):
    out, port = served
    (out / "2021" / ".2021-12-08.html.abcdefgh.tmp").write_bytes(b"x")
    try:
        status, _, body = request(port, "/2021/")
    finally:
        (out / "2021" / ".2021-12-08.html.abcdefgh.tmp").unlink()
    assert status == 200 and b"2021-12-08.epub" in body and b".tmp" not in body
    status, _, body = request(port, "/.digest/")
    assert status == 403


def test_cli_refuses_a_missing_folder(tmp_path):
    r = CliRunner().invoke(app, ["serve", str(tmp_path / "nope")])
    assert r.exit_code == 2 and "output folder not found" in r.output
