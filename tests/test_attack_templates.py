"""Template injection (issue 16, item 2): every value is escaped for the context it lands in, and WeasyPrint
reads only the site's and the theme's own files.

The attack: a site title ``Daily</style><link rel=attachment href=file:///etc/passwd>`` closed the PDF's
``<style>`` (``print.css`` was not autoescaped and stripped only ``"`` and ``\\``) and, with
``section_page_break = false``, embedded ``/etc/passwd`` in the PDF as an attachment.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest
import tinycss2

from digest import load_settings
from digest.errors import ThemeError
from digest.theming import css
from digest.theming.loader import load_theme

HOSTILE = [
    "Daily</style><link rel=attachment href=file:///etc/passwd>",
    'x"; } @page { @top-left { content: url(file:///etc/passwd) } } x { a: "',
    "a\\\"b\\",
    "line\nbreak\rand\x0cfeed",
    "/* comment */ end",
    "@import url(http://evil.example/x.css);",
    "expression(alert(1))",
    "'single' \"double\"",
    "\x00nul\x01ctl\x7f\x85c1\u2028ls\u202ebidi\ufeffbom",
    "每日财经 — über Ärger ½ 😀",
    "}</style><script>alert(1)</script>",
    "a<!--b-->c",
    "\\3c script\\3e ",
]


def _string_value(text: str) -> str:
    rules = tinycss2.parse_declaration_list(f'content: "{css.escape(text)}"', skip_whitespace=True)
    assert len(rules) == 1 and rules[0].type == "declaration" and rules[0].name == "content", rules
    tokens = [t for t in rules[0].value if t.type != "whitespace"]
    assert len(tokens) == 1 and tokens[0].type == "string", tokens
    return tokens[0].value


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_stays_one_css_string_with_the_same_text(text):
    expected = text.replace("\x00", "\ufffd")
    assert _string_value(text) == expected


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_outside_a_string_is_only_identifiers_numbers_and_spaces(text):
    escaped = css.escape(text)
    for bad in ("<", ">", '"', "'", ";", "{", "}", "(", ")", "/", "@", "\n", "\r", "!"):
        assert bad not in escaped
    rules = tinycss2.parse_declaration_list(f"font-family: {escaped}", skip_whitespace=True)
    assert len(rules) == 1 and rules[0].type == "declaration"
    kinds = {t.type for t in rules[0].value}
    assert kinds <= {"ident", "whitespace", "number", "dimension", "percentage", "hash", "literal"}, kinds
    assert {t.value for t in rules[0].value if t.type == "literal"} <= {",", ".", "%", "+", "-", "#"}


def test_css_literals_of_the_themes_are_left_as_they_are():
    for literal in ("18mm 16mm 17mm", "1.1em", ".9em", "90mm 122mm", "A4", "#666", "100%", "-2px"):
        assert css.escape(literal) == literal


def _site(tmp_path: Path, title: str, toml: str = "") -> Path:
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("url: https://example.org\ntimezone: UTC\n")
    (site / "digest.toml").write_text(f"title = '''{title}'''\n{toml}")
    for i, cat in enumerate(("Markets", "Tech")):
        (site / "_posts" / f"2022-01-05-p{i}.md").write_text(
            f"---\ntitle: Post {i}\ndate: 2022-01-05 1{i}:00:00\ncategories: [{cat}]\n---\n\nBody {i}.\n")
    return site


def test_a_css_template_escapes_every_value_even_one_its_author_did_not_escape(tmp_path):
    """An override's ``print.css`` writing the title bare, in a string and in a comment: all escaped."""
    title = HOSTILE[0] + HOSTILE[1]
    site = _site(tmp_path, title, 'template_overrides = "tpl"\n')
    (site / "tpl" / "pdf").mkdir(parents=True)
    (site / "tpl" / "pdf" / "print.css").write_text(
        '{% include "default:pdf/print.css" %}\n.x::before { content: "{{ digest.title }}"; }\n'
        ".y { font-family: {{ digest.title }}; }\n/* {{ site.title }} */\n"
        '.z { string-set: s "{{ labels.contents }}"; color: {{ theme.ink }}; }\n')
    settings = load_settings(site)
    theme = load_theme(settings)
    class D:
        title = settings.title
        lang = "en"

    rendered = theme.render("pdf/print.css", mode="single", page_size="A4", page_break=True, first_page=1,
                            total=1, digest=D, site={"title": settings.title}, edition="pdf")
    assert "</style" not in rendered.lower() and "<link" not in rendered and "file:///" not in rendered
    assert "@page { @top-left { content: url" not in rendered
    rules = [r for r in tinycss2.parse_stylesheet(rendered, skip_whitespace=True, skip_comments=True)
             if r.type == "qualified-rule" and tinycss2.serialize(r.prelude).strip() == ".x::before"]
    decl = tinycss2.parse_declaration_list(rules[0].content, skip_whitespace=True)
    assert [t.value for t in decl[0].value if t.type == "string"] == [title]
    assert "color: #1d1b1a;" in rendered  # a theme option is written as CSS, not as text


def test_a_theme_option_that_would_leave_its_declaration_is_a_theme_error(tmp_path):
    site = _site(tmp_path, "T", 'theme = "evil"\n')
    (site / "evil" / "pdf").mkdir(parents=True)
    (site / "evil" / "theme.toml").write_text('name = "evil"\n[options]\nink = "red; } body { background: url(x)"\n')
    settings = load_settings(site)
    theme = load_theme(settings)
    with pytest.raises(ThemeError, match=r"theme option theme.ink holds ';'"):
        theme.render("pdf/print.css", mode="single", page_size="A4", page_break=True, first_page=1, total=1,
                     digest=type("D", (), {"title": "t", "lang": "en"}), site={}, edition="pdf")


def test_a_refused_theme_value_in_an_html_style_names_its_option(tmp_path):
    """``{{ theme.accent | css }}`` in the web page: the error named the value only (attack corpus, theme.accent
    holding a chunk of vectors), so the one line did not say which option of theme.toml to fix."""
    site = _site(tmp_path, "T", 'theme = "evil"\n')
    (site / "evil").mkdir(parents=True)
    (site / "evil" / "theme.toml").write_text('name = "evil"\nextends = "newspaper"\n[options]\n'
                                              'accent = "red\\u0001"\n[options.pdf]\npdf_font = "x"\n')
    out = subprocess.run([sys.executable, "-m", "digest", "build", str(site), "--date", "2022-01-05", "-f", "web",
                          "-o", str(tmp_path / "out"), "--no-cache"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    [line] = out.stderr.strip().splitlines()
    assert re.search(r"theme option accent holds '\\x01'", line), line


def _pdf_facts(path: Path) -> tuple[list[str], list[str], str]:
    """Attachments, every URI/Launch/file target of every annotation, and the PDF's text."""
    with pikepdf.open(path) as pdf:
        attachments = list(pdf.attachments.keys())
        targets = []
        for page in pdf.pages:
            for annot in page.obj.get("/Annots", []):
                action = annot.get("/A")
                if action is not None:
                    targets.append(str(action.get("/S")) + " " + str(action.get("/URI", action.get("/F", ""))))
                if annot.get("/Subtype") == "/FileAttachment":
                    targets.append("FileAttachment")
        embedded = "/EmbeddedFiles" in pdf.Root.get("/Names", {})
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True).stdout
    return attachments + (["/EmbeddedFiles"] if embedded else []), targets, text


def _build(site: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "digest", "build", str(site), "--date", "2022-01-05", "-f", "pdf",
                           "-o", str(out), "--no-cache", "--allow-missing-fonts"],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("page_break", ["true", "false"])
def test_the_title_attack_attaches_nothing_and_shows_the_title_as_text(tmp_path, page_break):
    title = "Daily</style><link rel=attachment href=file:///etc/passwd><style>"
    site = _site(tmp_path, title, f"[pdf]\nsection_page_break = {page_break}\n")
    run = _build(site, tmp_path / "out")
    assert run.returncode == 0, run.stderr
    attachments, targets, text = _pdf_facts(tmp_path / "out" / "2022" / "2022-01-05.pdf")
    assert attachments == [] and all(t.startswith("/URI https://example.org/") for t in targets), targets
    assert "root:" not in text
    assert "Daily</style><link" in " ".join(text.split())


def test_a_hostile_theme_cannot_make_weasyprint_read_files_outside_the_site(tmp_path):
    """The second wall: even a template that asks for ``file:///etc/passwd`` gets nothing (the fetcher)."""
    site = _site(tmp_path, "T", 'template_overrides = "tpl"\n')
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    (site / "inside.png").symlink_to(secret)
    (site / "tpl" / "pdf").mkdir(parents=True)
    (site / "tpl" / "pdf" / "front.html.j2").write_text(
        '{% include "default:pdf/front.html.j2" %}\n<link rel="attachment" href="file:///etc/passwd">\n'
        f'<link rel="attachment" href="{secret.as_uri()}"><img src="inside.png">\n'
        '<img src="http://127.0.0.1:9/x.png"><link rel="stylesheet" href="file:///etc/ssl/openssl.cnf">\n')
    run = _build(site, tmp_path / "out")
    assert run.returncode == 0, run.stderr
    attachments, _targets, _text = _pdf_facts(tmp_path / "out" / "2022" / "2022-01-05.pdf")
    assert attachments == []
    refused = [line for line in run.stderr.splitlines() if line.startswith("digest: warning: PDF: ")]
    assert any("file:///etc/passwd" in line and "outside the site" in line for line in refused), run.stderr
    assert any("network.fetch_images is off" in line for line in refused), run.stderr
    assert "Traceback" not in run.stderr
