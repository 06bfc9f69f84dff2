"""digest preview: one poll-and-rebuild step at a time, errors on the page, and the page over real HTTP."""
from __future__ import annotations

import os
import threading
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from digest.serving.preview import VERSION_PATH, Preview, run, serve

DAY = date(2022, 3, 1)


def _touch(path: Path, text: str) -> None:
    """Write and move the mtime on, so even a coarse file system clock sees the change."""
    old = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(old + 2_000_000_000, old + 2_000_000_000))


@pytest.fixture
def site(make_post, tmp_path):
    make_post("2022-03-01-a.md", "title: 第一条\ndate: 2022-03-01 10:00:00 +0800\ncategories: emnews")
    site = make_post("2022-03-01-b.md", "title: 第二条\ndate: 2022-03-01 11:00:00 +0800\ncategories: emnews")
    theme = site / "mytheme"
    (theme / "web").mkdir(parents=True)
    (theme / "theme.toml").write_text('name = "mytheme"\nextends = "default"\n', encoding="utf-8")
    (theme / "digest.toml").write_text("", encoding="utf-8")
    (site / "digest.toml").write_text('theme = "mytheme"\n', encoding="utf-8")
    return site


@pytest.fixture
def preview(site, tmp_path):
    logs: list[str] = []
    p = Preview(site, DAY, tmp_path / "out", log=logs.append)
    p.logs = logs  # type: ignore[attr-defined]
    return p


def test_step_builds_once_then_only_on_change(preview, site):
    assert preview.step() is True and preview.error is None and preview.version == 1
    page = preview.page.read_text(encoding="utf-8")
    assert "第一条" in page and "第二条" in page and "built 2022-03-01: 2 articles" in preview.logs[-1]
    assert preview.step() is False and preview.version == 1  # nothing changed
    post = site / "_posts" / "2022-03-01-a.md"
    _touch(post, post.read_text(encoding="utf-8").replace("第一条", "改过的标题"))
    assert preview.step() is True and "改过的标题" in preview.page.read_text(encoding="utf-8")
    assert preview.step() is False


def test_new_post_theme_file_and_config_changes_rebuild(preview, site):
    preview.step()
    _touch(site / "_posts" / "2022-03-01-c.md",
           "---\ntitle: 新来的\ndate: 2022-03-01 12:00:00 +0800\ncategories: emnews\n---\n\n正文。\n")
    assert preview.step() is True and "新来的" in preview.page.read_text(encoding="utf-8")
    _touch(site / "mytheme" / "web" / "style.css", "body { color: #abcdef }\n")
    assert preview.step() is True and "#abcdef" in preview.page.read_text(encoding="utf-8")
    _touch(site / "mytheme" / "labels.toml", '[zh]\ncontents = "本期目录"\n')
    assert preview.step() is True and "本期目录" in preview.page.read_text(encoding="utf-8")
    _touch(site / "digest.toml", 'theme = "newspaper"\n')
    assert preview.step() is True and 'class="nameplate"' in preview.page.read_text(encoding="utf-8")
    # a new file in a post folder rebuilds (its front matter may date it on the day) …
    far = site / "_posts" / "2022-05-01-far.md"
    _touch(far, "---\ntitle: 远\ndate: 2022-05-01 12:00:00 +0800\n---\n\nx\n")
    assert preview.step() is True and "远" not in preview.page.read_text(encoding="utf-8")
    # … but editing a post named for another month does not
    _touch(far, "---\ntitle: 更远\ndate: 2022-05-01 12:00:00 +0800\n---\n\nx\n")
    assert preview.step() is False


def test_a_template_error_is_shown_on_the_page_and_the_preview_goes_on(preview, site):
    preview.step()
    broken = site / "mytheme" / "web" / "digest.html.j2"
    _touch(broken, "<p>\n\n{{ digest.no_such }}\n")
    assert preview.step() is True
    page = preview.page.read_text(encoding="utf-8")
    assert "Build failed" in page and f"{broken}: undefined variable at line 3" in page
    assert preview.error and "line 3" in preview.logs[-1]
    _touch(broken, "<p>{{ digest.count }} fixed</p>\n")
    assert preview.step() is True and preview.error is None
    assert preview.page.read_text(encoding="utf-8") == "<p>2 fixed</p>\n"


def test_a_broken_config_is_shown_too(preview, site):
    preview.step()
    _touch(site / "digest.toml", "theme = \n")
    assert preview.step() is True and "invalid TOML" in preview.page.read_text(encoding="utf-8")
    _touch(site / "digest.toml", 'theme = "mytheme"\n')
    assert preview.step() is True and preview.error is None


def test_default_day_is_the_newest_post_day(site, tmp_path):
    p = Preview(site, None, tmp_path / "o", log=lambda m: None)
    p.step()
    assert "第一条" in p.page.read_text(encoding="utf-8")


def _get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.headers["Content-Type"], r.read().decode("utf-8")


def test_served_over_http_on_localhost_with_a_reload_hook(preview, site):
    preview.step()
    server = serve(preview, "127.0.0.1", 0)
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        status, ctype, body = _get(f"http://127.0.0.1:{port}/")
        assert status == 200 and ctype.startswith("text/html") and "第一条" in body
        assert VERSION_PATH in body and body.rstrip().endswith("</html>")
        assert _get(f"http://127.0.0.1:{port}{VERSION_PATH}")[2] == "1"
        post = site / "_posts" / "2022-03-01-b.md"
        _touch(post, post.read_text(encoding="utf-8").replace("第二条", "第二条（更新）"))
        preview.step()
        assert _get(f"http://127.0.0.1:{port}{VERSION_PATH}")[2] == "2"
        assert "第二条（更新）" in _get(f"http://127.0.0.1:{port}/index.html")[2]
    finally:
        server.shutdown()
        server.server_close()


def test_run_loop_polls_until_stopped(preview, site):
    stop = threading.Event()
    t = threading.Thread(target=run, args=(preview, "127.0.0.1", 0), kwargs={"interval": 0.05, "stop": stop})
    t.start()
    try:
        for _ in range(100):
            if preview.version:
                break
            stop.wait(0.05)
        post = site / "_posts" / "2022-03-01-a.md"
        _touch(post, post.read_text(encoding="utf-8").replace("第一条", "循环里改的"))
        for _ in range(100):
            if preview.version >= 2:
                break
            stop.wait(0.05)
        assert preview.version >= 2 and "循环里改的" in preview.page.read_text(encoding="utf-8")
        assert any(m.startswith("serving http://127.0.0.1:") for m in preview.logs)
    finally:
        stop.set()
        t.join(timeout=5)
    assert not t.is_alive()
