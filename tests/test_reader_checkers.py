"""Every edition a reader gets, through the standard checkers (tests/validators.py): the Nu HTML Checker
(web, email and every EPUB XHTML document: 0 errors), EPUBCheck (0 errors, 0 warnings), Ace by DAISY
(0 violations, EPUB Accessibility 1.1 metadata) and axe-core (web and email at 375 and 1280 px, light and
dark: 0 serious or critical). Each checker runs once over every file (one JVM, one Chromium)."""
from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path

import pytest
import validators as v
from conftest import DAY, EXAMPLE, LATE_DAY

from digest import load_settings
from digest.build import make_digest, write_issue
from digest.runtime.env import Environment
from digest.theming.loader import load_theme

pytestmark = pytest.mark.slow
NO_CACHE = Environment.from_os(cache=False)
JAR = Path(__import__("epubcheck").__file__).parent / "epubcheck.jar"
A11Y_METADATA = ("schema:accessMode", "schema:accessModeSufficient", "schema:accessibilityFeature",
                 "schema:accessibilityHazard", "schema:accessibilitySummary", "dcterms:conformsTo")
# a post whose image sits inside its own link, with a caption; images the EPUB cannot include
IMAGES = """<p>蔚来股价走势如下。</p>

[![K图 NIO_0](https://webquotepic.example.com/GetPic.aspx?nid=106.NIO&imageType=k)](https://quote.example.com/NIO.html)

图片来源：东方财富网

<p><a href="https://quote.example.com/x"><img src="https://img.example.com/a.png" alt="Image">行情</a></p>

<figure><img src="https://img.example.com/b.png" alt="图表"><figcaption>图：成交量</figcaption></figure>
"""


def _images_site(root: Path) -> Path:
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text("title: 图片站\nlang: zh-CN\ntimezone: Asia/Shanghai\n"
                                      "url: https://example.org\n", encoding="utf-8")
    (root / "_posts" / "2022-04-19-img.md").write_text(
        "---\ntitle: 蔚来图表\ndate: 2022-04-19 10:00:00 +0800\ncategories: emnews\n---\n\n" + IMAGES, encoding="utf-8")
    return root


def _build(site: Path, day: date, out: Path, theme: str, formats: list[str], **overrides) -> list[Path]:
    settings = load_settings(site, overrides=overrides or None)
    digest = make_digest(settings, day, day, env=NO_CACHE)
    return write_issue(digest, formats, out, settings=settings, theme=load_theme(settings, theme), env=NO_CACHE)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, site_300) -> dict[str, list[Path]]:
    """name → files: both example days in both themes, the 300-post day, the images post."""
    out = tmp_path_factory.mktemp("checked")
    runs = {f"{theme}-{day}": (EXAMPLE, day, theme) for theme in ("default", "newspaper") for day in (DAY, LATE_DAY)}
    runs["default-300"] = (site_300, LATE_DAY, "default")
    runs["default-images"] = (_images_site(out / "images-site"), LATE_DAY, "default")
    # one document per article (section_doc_kb = 0): vnu sees every kind of document
    built = {name: _build(site, day, out / name, theme, ["web", "epub", "email"], epub={"section_doc_kb": 0})
             for name, (site, day, theme) in runs.items()}
    # For Ace, which checks each document in a browser tab: the example days' books as they are delivered (each
    # section one document); the 300-post day's book is delivered with one document per article already
    for name, (site, day, theme) in runs.items():
        if name not in ("default-images", "default-300"):
            built[f"ace-{name}"] = _build(site, day, out / f"ace-{name}", theme, ["epub"])
    return built


def _of(outputs: dict[str, list[Path]], suffix: str) -> list[Path]:
    return [p for files in outputs.values() for p in files if p.name.endswith(suffix)]


def test_vnu_finds_no_error_in_the_web_edition_the_email_and_every_epub_document(outputs, tmp_path):
    pages = [p for p in _of(outputs, ".html")]  # the web edition and the email's HTML part
    docs = [d for epub in _of(outputs, ".epub") for d in v.epub_documents(epub, tmp_path / epub.parent.parent.name)
            if d.suffix == ".xhtml"]
    assert len(pages) == 12 and len(docs) > 500
    report = v.vnu(pages + docs, langdetect=False)
    assert report.errors == [], [str(f) for f in report.errors[:20]]


def test_epubcheck_passes_the_newspaper_books_and_the_image_notes(outputs, tmp_path):
    """(The default theme's books of both days and the 300-post day: tests/test_epub.py.)"""
    books = [outputs[name][1] for name in ("newspaper-2021-12-08", "newspaper-2022-04-19", "default-images")]
    procs = [(book, tmp_path / f"{i}.json", subprocess.Popen(
        ["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(JAR), str(book), "--json",
         str(tmp_path / f"{i}.json")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for i, book in enumerate(books)]
    for book, report, proc in procs:
        proc.wait(timeout=600)
        data = json.loads(report.read_text(encoding="utf-8"))
        bad = [f"{m['ID']}: {m['message']}" for m in data["messages"] if m["severity"] in ("FATAL", "ERROR", "WARNING")]
        assert data["checker"]["nFatal"] == data["checker"]["nError"] == data["checker"]["nWarning"] == 0, (book, bad)


def test_ace_finds_no_violation_and_the_accessibility_metadata(outputs, tmp_path):
    books = [files[0] for name, files in outputs.items() if name.startswith("ace-")]
    assert len(books) == 4  # both days in both themes
    books += [outputs["default-300"][1], outputs["default-images"][1]]  # 309 and 3 documents
    assert all(b.suffix == ".epub" for b in books)
    for report in v.ace_many(books, tmp_path):
        assert report.violations == (), (report.epub, [(x.rule, x.document, x.targets[:2]) for x in report.violations[:10]])
        assert report.outcome == "pass"
        assert not set(A11Y_METADATA) & set(report.missing_metadata), report.missing_metadata


def test_axe_finds_nothing_serious_on_a_phone_and_a_desktop_in_light_and_dark(outputs):
    # every page but the 300-post day's web page: the same template as the example days', and 40 s of axe
    pages = [p for name, files in outputs.items() for p in files if p.name.endswith(".html")
             and not (name == "default-300" and not p.name.endswith(".email.html"))]
    jobs = [v.AxeJob(p, width, dark) for p in pages for width in (v.PHONE, v.DESKTOP) for dark in (False, True)]
    found = v.axe_many(jobs)
    bad = {f"{j.file.parent.parent.name}/{j.file.name} {j.width} {'dark' if j.dark else 'light'}":
           [str(x) for x in found[j] if x.impact in ("serious", "critical")][:5] for j in jobs}
    assert not {k: b for k, b in bad.items() if b}, bad
