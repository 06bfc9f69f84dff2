"""Hostile and broken input: one line per bad file, the good posts still build, nothing leaves the output folder.

The tree is tests/fixtures/broken_site plus generated files (tests/broken_cases.py): BOM, GB18030, CRLF,
invalid YAML, tabs, no closing ``---``, empty, binary, undecodable, a YAML alias bomb, a >10 MB post,
10,000 nested ``<div>``, a Markdown markup bomb, garbage dates, a title as a list, hostile names and paths.
"""
from __future__ import annotations

import re
import time
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from active_content import check_output
from broken_cases import BUILT, DAY, NOTED, SKIPPED, make_broken_site
from typer.testing import CliRunner

from digest import load_settings
from digest.cli.app import app
from digest.errors import PostError
from digest.render.post import ContentRenderer
from digest.render.sanitize import MAX_HTML_DEPTH, safe_link
from digest.sources.frontmatter import MAX_TITLE_CHARS
from digest.sources.posts import parse_post

SAFE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> Path:
    return make_broken_site(tmp_path_factory.mktemp("broken") / "site")


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def built(broken, tmp_path_factory):
    """One CLI build of the web, EPUB and email editions, and a snapshot of the folders around it."""
    work = broken.parent
    before = {p for p in work.rglob("*")}
    out = work / "out"
    result = CliRunner().invoke(app, ["build", str(broken), "--date", DAY.isoformat(), "-f", "html,epub,email",
                                      "--out", str(out), "--no-cache"])
    created = {p for p in work.rglob("*")} - before
    return result, out, created


def test_build_reports_each_bad_file_once_on_one_line(built):
    result, _out, _ = built
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    lines = _lines(result.stderr)
    for name, reason in SKIPPED.items():
        mine = [line for line in lines if name in line]
        assert len(mine) == 1, (name, mine)
        assert mine[0].startswith("digest: skipped: _posts/" + name) and reason in mine[0], mine[0]
    for name, note in NOTED.items():
        mine = [line for line in lines if name in line and line.startswith("digest: note:")]
        assert len(mine) == 1 and note in mine[0], (name, mine)


def test_the_good_posts_are_in_the_digest(built):
    result, out, _ = built
    assert f"{len(BUILT)} articles" in result.stdout
    web = (out / "2022" / f"{DAY}.html").read_text(encoding="utf-8")
    for title in BUILT.values():
        assert title.replace("<", "&lt;").replace(">", "&gt;") in web, title
    assert "很长的文章" not in web and "Markup bomb" not in web


def test_outputs_stay_in_the_output_folder_and_are_clean(built, broken):
    _, out, created = built
    outside = [p for p in created if not p.is_relative_to(out)]
    assert outside == []
    assert not (broken.parent / "outside").exists() and not (broken.parent / "escape.html").exists()
    found = []
    for f in out.rglob("*"):
        if f.is_file():
            found += check_output(f)
    assert found == []


def test_paths_leaving_the_site_are_refused(built, broken):
    _result, out, _ = built
    [book] = (out / "2022").glob("*.epub")
    with zipfile.ZipFile(book) as z:
        assert [n for n in z.namelist() if "images/" in n] == ["EPUB/images/cover.jpg"]  # secret.png: not packaged
        text = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xhtml"))
    assert 'href="file:' not in text and 'src="file:' not in text and "secret.png" not in text.replace("%2Fsecret.png", "")
    from digest.editions.epub.images import Images, Refused

    with pytest.raises(Refused, match="points outside the site folder"):
        Images(load_settings(broken)).pack("https://example.org/..%2F..%2F..%2Fsecret.png")


def test_hostile_names_are_flattened_everywhere(built):
    _, out, _ = built
    web = (out / "2022" / f"{DAY}.html").read_text(encoding="utf-8")
    assert "\u202e" not in web and "Bcc: victim@example.com" in web  # one line, override removed
    ids = re.findall(r'<article class="article" id="([^"]+)"', web)
    assert ids and all(SAFE_ID.match(i) for i in ids), ids
    eml = (out / "2022" / f"{DAY}.eml").read_bytes()
    assert b"\nBcc:" not in eml and b"\nX-Injected:" not in eml


def test_check_lists_every_problem_and_exits_non_zero(broken):
    result = CliRunner().invoke(app, ["check", str(broken)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = _lines(result.stdout)
    for name, reason in SKIPPED.items():
        mine = [line for line in lines if name in line]
        assert len(mine) == 1 and mine[0].startswith("error: ") and reason in mine[0], (name, mine)
    for name in NOTED:
        assert [line for line in lines if name in line and line.startswith("warning: ")], name
    assert lines[-1].startswith(f"{len(SKIPPED) + len(BUILT)} posts checked: {len(SKIPPED)} with errors")


def test_one_line_error_without_debug_and_a_traceback_with_it(broken, tmp_path):
    args = ["build", str(broken), "--date", DAY.isoformat(), "-f", "html", "--out", str(tmp_path), "--strict",
            "--no-cache"]
    plain = CliRunner().invoke(app, args)
    assert plain.exit_code == 2 and "Traceback" not in plain.output
    errors = [line for line in _lines(plain.stderr) if line.startswith("digest: error:")]
    assert len(errors) == 1 and "more)" in errors[0]
    debug = CliRunner().invoke(app, ["--debug", *args])
    assert isinstance(debug.exception, PostError)  # --debug lets it through: a traceback, on purpose
    assert debug.exc_info is not None and debug.exc_info[2] is not None


# -- limits and forms, one post at a time ---------------------------------------------------------

@pytest.fixture(scope="module")
def settings(broken):
    return load_settings(broken)


def parse(settings, text: str | bytes, name: str = "2022-01-05-t.md"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_post(Path("_posts") / name, data, settings)


@pytest.mark.parametrize("value,expected,note", [
    ("2022-01-05 10:00:00 +0800", datetime(2022, 1, 5, 10), None),
    ('"2022-01-05 10:00:00 +0800"', datetime(2022, 1, 5, 10), None),
    ("2022-01-05T02:00:00Z", datetime(2022, 1, 5, 10), None),
    ("2022-01-05", datetime(2022, 1, 5), None),
    ('"2022-01-05"', datetime(2022, 1, 5), None),
    ("20220105", datetime(2022, 1, 5), "invalid date 20220105"),
    ("[1, 2]", datetime(2022, 1, 5), "invalid date a list"),
    ("{a: 1}", datetime(2022, 1, 5), "invalid date a dict"),
    ("yesterday", datetime(2022, 1, 5), "invalid date 'yesterday'"),
    ("9999-12-31 23:59:59 -12:00", datetime(2022, 1, 5), "invalid date 9999-12-31"),
    ('"2022-13-45"', datetime(2022, 1, 5), "invalid date '2022-13-45'"),
    ("2150-01-01 10:00:00", datetime(2022, 1, 5), "invalid date 2150-01-01"),  # past MAX_YEAR
])
def test_date_forms(settings, value, expected, note):
    src = parse(settings, f"---\ntitle: t\ndate: {value}\n---\nx\n")
    assert src.date.replace(tzinfo=None) == expected
    assert [n for n in src.notices if "date" in n] == ([] if note is None else [src.notices[0]])
    if note:
        assert src.notices[0].startswith(note) and "\n" not in src.notices[0]


@pytest.mark.parametrize("value,title,note", [
    ("12.5", "12.5", None),
    ("2022-01-05", "2022-01-05", None),
    ("[a, b]", "a b", "title is a list"),
    ("{a: 1}", "t", "title is a dict"),
    ("[[a], b]", "t", "title is a list"),
    ("''", "t", "empty title"),
    ('"a\\tb\\nc\\u202ed\\u0007e"', "a b c de", None),  # BEL is removed, the rest become spaces
    ("x" * (MAX_TITLE_CHARS + 50), "x" * (MAX_TITLE_CHARS - 1) + "…", "title is 550 characters"),
])
def test_title_forms(settings, value, title, note):
    src = parse(settings, f"---\ntitle: {value}\ndate: 2022-01-05\n---\nx\n")
    assert src.title == title
    if note:
        assert any(n.startswith(note) for n in src.notices), src.notices


def test_yaml_odd_but_valid(settings):
    dup = parse(settings, "---\ntitle: first\ntitle: second\ndate: 2022-01-05\n---\nx\n")
    assert dup.title == "second"  # YAML's rule: the last key wins
    anchors = parse(settings, "---\nbase: &b {x: 1}\nother: *b\ntitle: t\ndate: 2022-01-05\n---\nx\n")
    assert anchors.front["other"] == {"x": 1}
    empty = parse(settings, "---\n---\nbody only\n")
    assert empty.title == "t" and empty.body == "body only"
    no_front = parse(settings, "A post with no front matter.\n\n---\n\nand a rule\n\n---\n")
    assert "A post with no front matter." in no_front.body and "and a rule" in no_front.body


@pytest.mark.parametrize("front", [
    "title: !!python/object/apply:os.system ['true']",
    "title: !!int nope",
    "title: \"\\ud800\"",
    "a: &a [*a]\ntitle: t",
    "title: " + "[" * 1000 + "]" * 1000,
    "? [a, b]\n: c",
])
def test_bad_yaml_is_one_line(settings, front):
    with pytest.raises(PostError) as e:
        parse(settings, f"---\n{front}\ndate: 2022-01-05\n---\nx\n")
    assert "\n" not in e.value.message and len(e.value.message) < 300


def test_control_characters_are_removed_from_text(settings):
    src = parse(settings, "---\ntitle: \"t\\x01\"\ndate: 2022-01-05\nsource: \"Wire\\x0b\\u2028Two\"\n---\n"
                          "body\x0b with\x1f controls\x7f and a lone \ufffe\n")
    assert src.title == "t" and src.body == "body with controls and a lone"
    post = ContentRenderer(settings).render(src, "a-t")
    assert post.attribution.outlet == "Wire Two"


def test_html_depth_limit_is_exact_after_sanitising(settings):
    r = ContentRenderer(settings)
    ok = r.render(parse(settings, "---\ntitle: t\n---\n\n" + "<div>" * 90 + "x" + "</div>" * 90 + "\n"), "a-t")
    assert ok.html.count("<div>") == 90
    with pytest.raises(PostError, match=f"the limit is {MAX_HTML_DEPTH}"):
        r.render(parse(settings, "---\ntitle: t\n---\n\n" + "<blockquote>" * 150 + "x\n"), "a-t")
    with pytest.raises(PostError):  # the excerpt is sanitised too: same limits
        r.render(parse(settings, f"---\ntitle: t\nexcerpt: \"{'<div>' * 5000}\"\n---\n\nx\n"), "a-t")


@pytest.mark.parametrize("body", [
    "[" * 25_000,
    "&amp;" * 25_000,
    "a\n" * 15_000,
    "*a" * 15_000,
    "- a\n" * 10_000,
    "".join(f"[r{i}]: /u{i}\n" for i in range(25_000)),
], ids=["brackets", "entities", "lines", "emphasis", "list", "refdefs"])
def test_pathological_markdown_stops_at_the_step_budget(settings, body, monkeypatch):
    """The budget counts parser steps, whatever the construct (a small budget here, to keep the test fast)."""
    import digest.render.markdown as markdown

    monkeypatch.setattr(markdown, "MAX_MARKDOWN_STEPS", 20_000)
    r = ContentRenderer(settings)
    with pytest.raises(PostError, match="too much Markdown markup"):
        r.render(parse(settings, "---\ntitle: t\n---\n\n" + body), "a-t")
    monkeypatch.setattr(markdown, "MAX_MARKDOWN_STEPS", 400_000)
    ContentRenderer(settings).render(parse(settings, "---\ntitle: t\n---\n\n" + body), "a-t")  # fits now


def test_table_cells_are_capped_before_parsing(settings):
    from digest.render.markdown import MAX_MARKDOWN_STEPS

    t = time.perf_counter()
    with pytest.raises(PostError, match=re.escape("'|' cells")):
        ContentRenderer(settings).render(parse(settings, "---\ntitle: t\n---\n\n|a|b|\n|-|-|\n" +
                                               "|x|y|\n" * (MAX_MARKDOWN_STEPS // 6 + 1)), "a-t")
    assert time.perf_counter() - t < 5


@pytest.mark.slow
def test_worst_case_markdown_at_the_real_budget_takes_seconds(settings):
    from digest.render.markdown import MAX_MARKDOWN_STEPS

    t = time.perf_counter()
    with pytest.raises(PostError, match="too much Markdown markup"):
        ContentRenderer(settings).render(parse(settings, "---\ntitle: t\n---\n\n" + "[" * (MAX_MARKDOWN_STEPS + 1)),
                                         "a-t")
    assert time.perf_counter() - t < 60


@pytest.mark.slow
def test_a_big_ordinary_post_under_the_cap_renders(settings):
    """9.5 MB of ordinary text (long Chinese paragraphs, some links and emphasis) builds in seconds."""
    para = ("央行今日发布公告，市场反应平稳。" * 30 + "**要点**见[链接](https://example.org/x)。\n\n").encode()
    head = b"---\ntitle: Big\ndate: 2022-01-05\n---\n\n"
    data = head + para * ((9_500_000 - len(head)) // len(para))
    t = time.perf_counter()
    post = ContentRenderer(settings).render(parse(settings, data), "a-t")
    took = time.perf_counter() - t
    assert len(post.html.encode()) > 9_000_000 and took < 60, took


def test_url_checks():
    assert safe_link(" https://ok.example/a b") == "https://ok.example/a%20b"
    assert safe_link('https://ok.example/"><script>') == "https://ok.example/%22%3E%3Cscript%3E"
    for bad in ("\u00a0javascript:alert(1)", "javascript:alert(1)", "data:text/html,x", "//no-scheme", "ftp://x/",
                "https://a\nb", ""):
        assert safe_link(bad) is None, bad
    assert safe_link("https://example.org/a#b#c") == "https://example.org/a#b%23c"
    assert safe_link("https://example.org/[x]?q=100%") == "https://example.org/%5Bx%5D?q=100%25"
    assert safe_link("https://a b/") is None and safe_link("http://[::1/x") is None


def test_sanitised_links(settings):
    r = ContentRenderer(settings)
    html = r.sanitize('<a>x</a> <a href="javascript:x">y</a> <a href="https://a.example/[p]">z</a>', "a-t",
                      "https://example.org/p.html")
    assert html == ('<a>x</a> <a>y</a> <a href="https://a.example/%5Bp%5D" rel="noopener noreferrer">z</a>')


# -- network policy (EPUB images): digest/epub_images.py -----------------------------------------

def test_remote_images_are_not_fetched_unless_turned_on(settings):
    from digest.editions.epub.images import Images, Refused

    with pytest.raises(Refused, match="remote image not fetched"):
        Images(settings).pack("https://images.example.com/a.png")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/a.png", "http://localhost/a.png", "http://[::1]/a.png", "http://10.1.2.3/a.png",
    "http://192.168.0.1/a.png", "http://169.254.169.254/latest/meta-data", "http://0x7f000001/a.png",
    "http://[::ffff:127.0.0.1]/a.png", "http://0.0.0.0/a.png",
])
def test_private_and_loopback_addresses_are_refused(url):
    from digest.editions.epub.images import Refused, _check_host

    with pytest.raises(Refused):
        _check_host(url, allow_private=False)
    _check_host(url, allow_private=True)  # allowed when the user says so


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/a.png", "gopher://x/", "data:image/png,xx",
                                 "javascript:alert(1)"])
def test_only_http_and_https_are_fetched(url):
    from digest.editions.epub.images import Refused, _check_host

    with pytest.raises(Refused, match="only http and https"):
        _check_host(url, allow_private=True)


def test_local_image_paths_cannot_leave_the_site(settings):
    from digest.editions.epub.images import Images, Refused

    images = Images(settings)
    for src in ("/..%2Fsecret.png", "/../secret.png", "https://example.org/..%2F..%2Fsecret.png",
                "/%2e%2e/secret.png"):
        try:
            path = images.local_path(src)
        except Refused:
            continue
        assert path is None or path.is_relative_to(settings.site_root.resolve()), (src, path)


def test_email_headers_stay_single_lines_whatever_the_config_says(broken, tmp_path):
    from active_content import check_eml

    site = tmp_path / "site"
    import shutil

    shutil.copytree(broken, site)
    (site / "_config.yml").write_text('title: "Evil\\nBcc: victim@example.com"\ntimezone: Asia/Shanghai\n'
                                      "url: https://example.org\n", encoding="utf-8")
    # (a From to write: the evil title is its display name; without one the .eml is a draft with no From)
    (site / "digest.toml").write_text('[email]\nfrom_addr = "me@example.org"\n', encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["build", str(site), "--date", DAY.isoformat(), "-f", "email", "--out", str(out),
                                 "--no-cache"])
    assert r.exit_code == 0 and "Traceback" not in r.output, r.output
    [eml] = (out / "2022").glob("*.eml")
    assert check_eml(eml) == []
    (site / "digest.toml").write_text('[email]\nfrom_addr = "me@example.org\\nBcc: victim@example.com"\n',
                                      encoding="utf-8")
    r = CliRunner().invoke(app, ["build", str(site), "--date", DAY.isoformat(), "-f", "email", "--out", str(out),
                                 "--no-cache"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert [line for line in _lines(r.stderr) if "error:" in line and "line break" in line]


@pytest.mark.slow
def test_nesting_at_the_limit_builds_every_format(tmp_path):
    """MAX_HTML_DEPTH is what WeasyPrint, libxml2 (XHTML) and readers take: a body that deep builds everywhere."""
    from active_content import check_epub, check_pdf

    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: Deep\ntimezone: UTC\nurl: https://example.org\n", encoding="utf-8")
    n = MAX_HTML_DEPTH
    bodies = {
        "divs": "<div>" * n + "x" + "</div>" * n,
        "lists": "<ul><li>" * (n // 2) + "x" + "</li></ul>" * (n // 2),
        "tables": "<table><tbody><tr><td>" * (n // 4) + "x" + "</td></tr></tbody></table>" * (n // 4),
        "quotes": "<blockquote>" * n + "x" + "</blockquote>" * n,
    }
    for name, body in bodies.items():
        (site / "_posts" / f"2022-01-05-{name}.md").write_text(f"---\ntitle: {name}\n---\n\n{body}\n", encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["build", str(site), "--date", "2022-01-05", "-f", "html,epub,pdf", "--out", str(out),
                                 "--no-cache"])
    assert r.exit_code == 0, r.output
    assert "4 articles" in r.stdout
    [book] = (out / "2022").glob("*.epub")
    [pdf] = (out / "2022").glob("*.pdf")
    assert check_epub(book) == [] and check_pdf(pdf) == []


def test_strict_makes_a_body_past_the_limits_fatal(tmp_path):
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: T\ntimezone: UTC\n", encoding="utf-8")
    (site / "_posts" / "2022-01-05-ok.md").write_text("---\ntitle: ok\n---\n\nfine\n", encoding="utf-8")
    (site / "_posts" / "2022-01-05-deep.md").write_text("---\ntitle: deep\n---\n\n" + "<div>" * 2000 + "\n",
                                                        encoding="utf-8")
    args = ["build", str(site), "--date", "2022-01-05", "-f", "html", "--out", str(tmp_path / "out"), "--no-cache"]
    relaxed = CliRunner().invoke(app, args)
    assert relaxed.exit_code == 0 and "skipped: _posts/2022-01-05-deep.md: HTML nested" in relaxed.stderr
    strict = CliRunner().invoke(app, [*args, "--strict"])
    assert strict.exit_code == 2 and "Traceback" not in strict.output
    assert "error: _posts/2022-01-05-deep.md: HTML nested" in strict.stderr
