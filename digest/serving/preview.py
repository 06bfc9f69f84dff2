"""``digest preview SITE``: the web edition of one day on localhost, rebuilt whenever a post or theme file changes.

For theme authors. The page is built into a temporary folder and served on 127.0.0.1 only. Every
``interval`` seconds the watched files (the posts that can fall on the day, the post folders themselves,
``_config.yml``, ``digest.toml`` and every folder of the theme chain) are stat-ed; any change rebuilds.
A build error (a template's syntax error, an undefined variable, a bad config) is shown on the page and
on the console instead of stopping the preview. The page reloads itself after each rebuild.
"""
from __future__ import annotations

import html
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from digest.build.issue import make_digest
from digest.config.settings import CONFIG_NAME, Settings
from digest.editions import all_editions, load_settings
from digest.editions.base import Edition, WriteContext
from digest.errors import ConfigError, DigestError, NothingToBuild
from digest.runtime.env import Environment
from digest.runtime.files import atomic_write
from digest.sources.siteindex import SiteIndex, dated_between
from digest.theming.loader import load_theme


def page_edition() -> Edition:
    """The edition that makes one HTML page of an issue (the web edition): what the preview shows."""
    return next(e for e in all_editions() if e.previewable)

VERSION_PATH = "/__preview__/version"
PAGE = "index.html"
_RELOAD = f"""<script>/* digest preview: reload after each rebuild */
(function () {{ var v = null; setInterval(function () {{
  fetch("{VERSION_PATH}", {{cache: "no-store"}}).then(function (r) {{ return r.text(); }}).then(function (t) {{
    if (v === null) v = t; else if (t !== v) location.reload(); }}).catch(function () {{}});
}}, 700); }})();</script>
"""

Snapshot = dict[str, tuple[int, int]]


@dataclass
class Preview:
    """One day's web edition, rebuilt on change. ``step()`` is one poll (and rebuild if needed)."""

    site: Path
    day: date | None
    out_dir: Path
    config: Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] = print
    version: int = 0
    error: str | None = None
    _seen: Snapshot = field(default_factory=dict)

    @property
    def page(self) -> Path:
        return self.out_dir / PAGE

    def _settings(self) -> Settings:
        return load_settings(self.site, self.config, self.overrides)

    def watched(self) -> list[Path]:
        """Files and folders whose change means a rebuild (folders: a post added or removed)."""
        paths = [self.site / "_config.yml", self.config or self.site / CONFIG_NAME]
        try:
            settings = self._settings()
        except Exception:  # a broken config: watch the config files until it is fixed
            return paths
        paths.append(self.site / settings.jekyll_config)  # (jekyll_config may name another one)
        try:
            index = SiteIndex(settings, Environment.from_os())
        except DigestError:
            return paths
        paths += [self.site / tree.path for tree in index.trees]  # a post added, removed or renamed
        day = self.day or index.last_day()
        if day is not None:
            paths += [self.site / path for path in dated_between(index, day, day)]
        try:
            dirs = load_theme(settings).dirs
        except Exception:
            dirs = []
        for d in dirs:
            for here, subdirs, files in os.walk(d):
                subdirs[:] = [s for s in subdirs if not s.startswith(".") and s != "__pycache__"]
                paths.append(Path(here))
                paths.extend(Path(here, f) for f in files if not f.startswith("."))
        return list(dict.fromkeys(paths))

    def snapshot(self) -> Snapshot:
        out: Snapshot = {}
        for p in self.watched():
            try:
                st = p.stat()
            except OSError:
                continue
            out[str(p)] = (st.st_mtime_ns, st.st_size)
        return out

    def build(self) -> bool:
        """Build the page (or an error page). True when the build succeeded."""
        started = time.perf_counter()
        try:
            settings = self._settings()
            day = self.day or newest_day(settings)
            if day is None:
                raise NothingToBuild("no dated posts found", self.site)
            env = Environment.from_os()
            digest = make_digest(settings, day, day, env=env)
            theme = load_theme(settings, cache_dir=env.cache_dir).for_lang(digest.lang)
            ctx = WriteContext(self.out_dir, theme, settings, env)
            page = page_edition().page(digest, ctx)
            self.error = None
            ok = True
            msg = f"built {day}: {digest.count} articles in {time.perf_counter() - started:.2f} s"
        except Exception as e:  # a DigestError names the file; anything else must not stop the preview
            self.error = str(e) if isinstance(e, DigestError) else f"{type(e).__name__}: {e}"
            page = error_page(self.error)
            ok = False
            msg = f"error: {self.error}"
        atomic_write(self.page, page)
        self.version += 1
        self.log(msg)
        return ok

    def step(self) -> bool:
        """One poll: rebuild if any watched file changed since the last poll. True when it rebuilt."""
        now = self.snapshot()
        if now == self._seen and self.version:
            return False
        self._seen = now
        self.build()
        return True


def newest_day(settings: Settings) -> date | None:
    """The newest day of any post (the preview's default day)."""
    return SiteIndex(settings, Environment.from_os()).last_day()


def error_page(message: str) -> str:
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>digest preview: error</title></head>\n"
            "<body style=\"font:16px/1.5 system-ui,sans-serif;margin:2rem\">\n"
            "<h1 style=\"color:#b3261e\">Build failed</h1>\n"
            f"<pre style=\"white-space:pre-wrap\">{html.escape(message)}</pre>\n"
            "<p>Fix the file and save: the page rebuilds by itself.</p>\n</body></html>\n")


class _Handler(SimpleHTTPRequestHandler):
    preview: Preview

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == VERSION_PATH:
            return self._send(str(self.preview.version).encode(), "text/plain; charset=utf-8")
        if path in ("/", "/" + PAGE):
            try:
                body = self.preview.page.read_text(encoding="utf-8")
            except OSError:
                body = error_page("not built yet")
            at = body.rfind("</body>")
            body = body[:at] + _RELOAD + body[at:] if at >= 0 else body + _RELOAD
            return self._send(body.encode("utf-8"), "text/html; charset=utf-8")
        return super().do_GET()

    def _send(self, data: bytes, ctype: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the console shows builds
        pass


def serve(preview: Preview, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """Start serving ``preview.out_dir`` in a daemon thread; returns the server (``server_address``)."""
    handler = type("PreviewHandler", (_Handler,), {"preview": preview})
    server = ThreadingHTTPServer((host, port), partial(handler, directory=str(preview.out_dir)))
    threading.Thread(target=server.serve_forever, name="digest-preview", daemon=True).start()
    return server


def run(preview: Preview, host: str, port: int, interval: float = 0.5,
        stop: threading.Event | None = None) -> None:
    preview.step()
    server = serve(preview, host, port)
    preview.log(f"serving http://{host}:{server.server_address[1]}/ (Ctrl-C stops)")
    stop = stop or threading.Event()
    try:
        while not stop.wait(interval):
            preview.step()
    finally:
        server.shutdown()
        server.server_close()


def preview_site(site: Path, day: date | None, config: Path | None, overrides: dict[str, Any], port: int, *,
                 log: Callable[[str], None]) -> bool:
    """``digest preview``: build into a temporary folder and serve it on 127.0.0.1 until interrupted
    (then True); the folder is removed afterwards."""
    import shutil
    import tempfile

    out = Path(tempfile.mkdtemp(prefix="digest-preview-"))
    try:
        run(Preview(site, day, out, config, overrides, log=log), "127.0.0.1", port)
    except KeyboardInterrupt:
        return True
    except OSError as e:
        raise ConfigError(f"cannot serve on 127.0.0.1:{port}: {e.strerror or e}") from None
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return False
