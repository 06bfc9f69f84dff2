"""The checkers of tests/validators.py really run, and really fail: each is shown a broken input and a sound one."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import validators as v
from PIL import Image

pytestmark = pytest.mark.slow

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main>
{body}
</main></body></html>
"""
XHTML = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="en" xml:lang="en">
<head><meta charset="utf-8"/><title>{title}</title>{head}</head>
<body>
{body}
</body></html>
"""


# -- Nu HTML Checker ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """Every vnu input of this module, checked in one run (one JVM)."""
    d = tmp_path_factory.mktemp("vnu")
    files = {
        "invalid.html": PAGE.format(title="bad", body='<p><a href="#one">one <a href="#two">two</a></a></p>\n'
                                    '<p id="same">first</p>\n<p id="same">second</p>'),
        "valid.html": PAGE.format(title="good", body='<h1>Title</h1>\n<p>A <a href="#x">link</a>.<br>Next.</p>\n'
                                  '<p id="x">Target.</p>'),
        # the same markup as valid.html: an XHTML file is parsed as XML, where <br> must be closed
        "unclosed.xhtml": XHTML.format(title="xml", head="", body="<p>One.<br>Two.</p>"),
        "valid.xhtml": XHTML.format(title="ok", head='<link rel="stylesheet" href="bad.css"/>',
                                    body='<section epub:type="chapter">\n<h1>Chapter</h1>\n<p>Text.</p>\n</section>'),
        "bad.css": "body {\n  color: #111;\n  colr: red;\n}\n",
    }
    for name, text in files.items():
        (d / name).write_text(text, encoding="utf-8")
    return d, v.vnu(sorted(d.iterdir()))


def test_vnu_reports_nested_links_and_duplicate_ids_with_their_lines(checked):
    d, report = checked
    errors = [f for f in report.errors if f.file == d / "invalid.html"]
    assert any("“a”" in f.message and f.line == 4 for f in errors), [str(f) for f in errors]
    assert any("Duplicate ID “same”" in f.message and f.line == 6 for f in errors), [str(f) for f in errors]


def test_vnu_finds_nothing_in_a_valid_page(checked):
    d, report = checked
    assert report.of(d / "valid.html") == []


def test_vnu_parses_xhtml_as_xml(checked):
    d, report = checked
    errors = [f for f in report.errors if f.file == d / "unclosed.xhtml"]
    assert errors and all(f.line == 6 for f in errors), [str(f) for f in errors]
    assert any("Text not allowed in element “br”" in f.message for f in errors), [str(f) for f in errors]


def test_vnu_sets_epub_type_aside_and_finds_nothing_else_in_a_valid_epub_document(checked):
    d, report = checked
    assert report.of(d / "valid.xhtml") == []
    [aside] = report.epub_type
    assert aside.file == d / "valid.xhtml" and aside.line == 6 and 'epub:type="chapter"' in aside.source


def test_vnu_checks_css_on_its_own_line(checked):
    d, report = checked
    [error] = report.of(d / "bad.css")
    assert error.severity == "error" and error.line == 3 and "colr" in error.message


def test_vnu_keeps_errors_and_warnings_apart(tmp_path):
    page = tmp_path / "warn.html"
    page.write_text(PAGE.format(title="w", body='<table border="1"><tr><td>1</td></tr></table>\n'
                                '<p><img src="x.png"></p>'), encoding="utf-8")
    report = v.vnu([page], langdetect=False)
    assert [(f.line, f.severity) for f in report.findings] == [(4, "warning"), (5, "error")], report.findings
    assert "“border” attribute on the “table” element is obsolete" in report.warnings[0].message
    assert "“img” element must have an “alt” attribute" in report.errors[0].message


# -- Ace by DAISY -------------------------------------------------------------------------------------------
A11Y = """<meta property="schema:accessMode">textual</meta>
<meta property="schema:accessMode">visual</meta>
<meta property="schema:accessModeSufficient">textual</meta>
<meta property="schema:accessibilityFeature">alternativeText</meta>
<meta property="schema:accessibilityFeature">structuralNavigation</meta>
<meta property="schema:accessibilityHazard">none</meta>
<meta property="schema:accessibilitySummary">Every image has a text alternative.</meta>"""


def make_epub(path: Path, *, accessible: bool) -> Path:
    """A one-chapter EPUB 3 with one image: with alt text and accessibility metadata, or without both."""
    png = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(png, "PNG")
    alt = ' alt="A red bar"' if accessible else ""
    opf = f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id" xml:lang="en">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:identifier id="id">urn:uuid:0b4d4c9e-1d7e-4b8e-9a53-2f3c1f6a0d11</dc:identifier>
<dc:title>Test</dc:title><dc:language>en</dc:language>
<meta property="dcterms:modified">2022-04-19T00:00:00Z</meta>
{A11Y if accessible else ""}
</metadata>
<manifest>
<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
<item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/>
<item id="img" href="bar.png" media-type="image/png"/>
</manifest>
<spine><itemref idref="c1"/></spine>
</package>"""
    nav = XHTML.format(title="Contents", head="", body='<nav epub:type="toc" role="doc-toc" id="toc"><h1>Contents</h1>'
                       '<ol><li><a href="c1.xhtml">Chapter</a></li></ol></nav>')
    chapter = XHTML.format(title="Chapter", head="", body=f'<section><h1>Chapter</h1><p><img src="bar.png"{alt}/>'
                           "</p></section>")
    container = ('<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:'
                 'container"><rootfiles><rootfile full-path="OEBPS/package.opf" media-type="application/'
                 'oebps-package+xml"/></rootfiles></container>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        for name, data in [("META-INF/container.xml", container), ("OEBPS/package.opf", opf),
                           ("OEBPS/nav.xhtml", nav), ("OEBPS/c1.xhtml", chapter), ("OEBPS/bar.png", png.getvalue())]:
            z.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return path


@pytest.fixture(scope="module")
def aced(tmp_path_factory):
    d = tmp_path_factory.mktemp("ace")
    good, bad = make_epub(d / "good.epub", accessible=True), make_epub(d / "bad.epub", accessible=False)
    return v.ace_many([good, bad], d / "work")


def test_ace_reports_missing_metadata_and_a_missing_alt(aced):
    _, bad = aced
    assert bad.outcome == "fail"
    rules = bad.rules()
    assert rules["image-alt"] == 1, rules
    assert {"metadata-accessmode", "metadata-accessibilityfeature", "metadata-accessibilityhazard",
            "metadata-accessibilitysummary"} <= set(rules), rules
    [alt] = [x for x in bad.violations if x.rule == "image-alt"]
    assert alt.impact == "critical" and alt.document.endswith("c1.xhtml") and alt.targets == ("img",)
    assert "schema:accessMode" in bad.missing_metadata
    assert set(bad.by_impact()) <= {"minor", "moderate", "serious", "critical"} and bad.by_impact()["critical"]


def test_ace_passes_the_accessible_book(aced):
    good, _ = aced
    assert good.violations == () and good.outcome == "pass", good.violations
    assert good.report.is_file() and (good.report.parent / "report.html").is_file()


def test_epub_documents_unpacks_the_manifests_xhtml(aced, tmp_path):
    good, _ = aced
    docs = v.epub_documents(good.epub, tmp_path)
    assert sorted(p.name for p in docs) == ["c1.xhtml", "nav.xhtml"]
    report = v.vnu(docs, langdetect=False)
    assert report.findings == () and len(report.epub_type) == 1  # nav's epub:type="toc"


# -- axe-core -----------------------------------------------------------------------------------------------
CONTRAST = PAGE.format(title="contrast", body="""<style>
body { background: #fff; color: #111; }
@media (prefers-color-scheme: dark) { body { background: #000; color: #eee; } .dark { color: #222; } }
@media (max-width: 600px) and (prefers-color-scheme: light) { .narrow { color: #ccc; } }
</style>
<h1>Contrast</h1>
<p class="dark">Unreadable in the dark.</p>
<p class="narrow">Unreadable on a phone.</p>""")


def test_axe_finds_a_contrast_failure_only_where_the_css_makes_it(tmp_path):
    page = tmp_path / "contrast.html"
    page.write_text(CONTRAST, encoding="utf-8")
    jobs = {(w, d): v.AxeJob(page, w, d) for w in (v.PHONE, v.DESKTOP) for d in (False, True)}
    found = v.axe_many(list(jobs.values()))
    seen = {key: sorted((x.rule, x.target) for x in found[job]) for key, job in jobs.items()}
    assert seen == {
        (v.DESKTOP, False): [],
        (v.DESKTOP, True): [("color-contrast", ".dark")],
        (v.PHONE, False): [("color-contrast", ".narrow")],
        (v.PHONE, True): [("color-contrast", ".dark")],
    }
    [dark] = found[jobs[(v.DESKTOP, True)]]
    assert dark.impact == "serious" and "contrast" in dark.summary


def test_axe_one_page(tmp_path):
    page = tmp_path / "img.html"
    page.write_text(PAGE.format(title="img", body='<h1>Image</h1><img src="https://example.invalid/x.png">'),
                    encoding="utf-8")
    assert [(x.rule, x.impact) for x in v.axe(page, width=v.DESKTOP, dark=False)] == [("image-alt", "critical")]


def test_axe_fails_naming_a_page_it_cannot_load(tmp_path):
    with pytest.raises(pytest.fail.Exception, match=r"missing\.html: net::ERR_FILE_NOT_FOUND"):
        v.axe(tmp_path / "missing.html", width=v.PHONE, dark=True)


# -- installation -------------------------------------------------------------------------------------------
def test_a_missing_checker_fails_naming_its_install_command(tmp_path):
    with pytest.raises(pytest.fail.Exception) as failed:
        v.find_tools(node_modules=tmp_path / "node_modules", path=str(tmp_path))
    message = str(failed.value)
    assert "chromium (not on PATH): run bash scripts/system-deps.sh" in message
    assert "vnu.jar (missing): run bash scripts/validators/install.sh" in message


def test_the_checkers_are_installed():
    tools = v.find_tools()
    assert tools.vnu_jar.stat().st_size > 1_000_000 and tools.chromium_launcher.stat().st_mode & 0o111
