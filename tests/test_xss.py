"""The XSS corpus (tests/data/xss/vectors.txt) through every format: nothing active survives.

Each vector is a post's body, and also its title, outlet (``source``), ``original_url``, author, excerpt and,
for every fourth post, its category. One site, one build of every format (module-scoped), then every file
is parsed and checked by tests/active_content.py.
"""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from active_content import bad_url, check_eml, check_epub, check_html, check_output, check_pdf, check_xhtml
from lxml import etree

from digest import load_settings
from digest.build import build
from digest.runtime.env import Environment

NO_CACHE = Environment.from_os(cache=False)

VECTORS_FILE = Path(__file__).parent / "data" / "xss" / "vectors.txt"
DAY = date(2022, 1, 5)
FORMATS = ("html", "epub", "pdf", "email")


def load_vectors() -> list[str]:
    out = []
    for line in VECTORS_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            out.append(line.replace("⏎", "\n"))
    return out


VECTORS = load_vectors()


def write_site(root: Path, vectors: list[str]) -> Path:
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text("title: XSS test\nlang: en\ntimezone: Asia/Shanghai\n"
                                      "url: https://example.org\n", encoding="utf-8")
    for i, v in enumerate(vectors):
        q = json.dumps(v)  # a JSON string is a valid YAML double-quoted scalar
        cats = f"[{q}]" if i % 4 == 0 else "[news]"
        front = (f"title: {q}\ndate: 2022-01-05 {8 + i // 60:02d}:{i % 60:02d}:00 +0800\ncategories: {cats}\n"
                 f"source: {q}\noriginal_url: {q}\nauthor: {q}\nexcerpt: {q}\n")
        body = f"Vector {i}:\n\n{v}\n\nText after [{i}](https://example.org/ok/{i}).\n"
        (root / "_posts" / f"2022-01-05-v{i:03d}.md").write_text(f"---\n{front}---\n\n{body}", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    site = write_site(tmp_path_factory.mktemp("xss") / "site", VECTORS)
    formats = list(FORMATS)
    settings = load_settings(site, overrides={"dedupe": False, "pdf": {"allow_missing_fonts": True},
                                              "email": {"from_addr": "Digest <digest@example.org>"}})
    result = build(settings, DAY, DAY, formats, tmp_path_factory.mktemp("xss-out"), env=NO_CACHE)
    return result, formats


def test_the_checker_catches_the_raw_vectors():
    """Guard against a checker that cannot fail: unsanitised, most vectors are flagged."""
    flagged = [v for v in VECTORS if check_html(f"<body>{v}</body>", "raw")]
    assert len(flagged) >= 0.7 * len(VECTORS), len(flagged)  # the rest are Markdown or plain text
    assert check_html('<p onclick="x()">a</p>', "t") and check_html('<a href=" javascript:x">a</a>', "t")
    assert bad_url("&#x6A;avascript:alert(1)") and bad_url("\u00a0javascript:x") and not bad_url("https://ok/")
    with pytest.raises(etree.XMLSyntaxError):
        check_xhtml(b"<html><p></html>", "broken")


def test_every_vector_became_an_article(built):
    result, _ = built
    [issue] = result.issues
    assert issue.digest.count == len(VECTORS)
    assert not [p for p in result.problems if p.skipped]


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_active_content_survives(built, fmt):
    result, _formats = built
    suffixes = {"html": (".html",), "epub": (".epub",), "pdf": (".pdf",), "email": (".eml", ".email.html")}[fmt]
    files = [f for f in result.files if f.name.endswith(suffixes)
             and (fmt != "html" or not f.name.endswith(".email.html"))]
    assert files, f"no {fmt} output"
    found = []
    for f in files:
        found += check_output(f)
    assert not found, "\n".join(found[:40])


def test_web_edition_keeps_the_text_of_vectors_as_text(built):
    """The sanitiser removes markup, not the article: escaped text of a vector is still readable."""
    result, _ = built
    [web] = [f for f in result.files if f.suffix == ".html" and not f.name.endswith(".email.html")]
    text = web.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # a title that was a <script> vector, escaped
    # The link after each vector survives, except where the vector opens an element whose content is
    # dropped (HTML parsing puts the rest of the post inside it): the article is cut, never unsafe.
    swallowing = ("<plaintext", "<xmp", "<textarea", "<title", "<iframe", "<noscript", "<!--", "<?", "<![cdata",
                  "<style", "<script", "<template", "<select", "<object", "<applet", "<math", "<svg", "<xml",
                  "<frameset")
    missing = [v for i, v in enumerate(VECTORS) if f'href="https://example.org/ok/{i}"' not in text]
    # As in Jekyll (kramdown), a post whose line starts an HTML block element that is never closed has the rest
    # of its text read as raw HTML: the text stays, its Markdown links are not links. The rest of the
    # missing links are the HTML parser's (the article cut inside an element whose content is dropped).
    cut_by_html = [v for v in missing if not _opens_an_unclosed_html_block(v)]
    assert [v for v in cut_by_html if not any(s in v.lower() for s in swallowing)] == []
    assert len(cut_by_html) <= 10, cut_by_html


def _opens_an_unclosed_html_block(vector: str) -> bool:
    from digest.jekyll.kramdown.html_blocks import SPAN_ELEMENTS, VOID

    m = re.match(r"\s{0,3}<([A-Za-z][\w:.-]*)", vector)
    if m is None:
        return False
    name = m.group(1).lower()
    return name not in SPAN_ELEMENTS and name not in VOID and f"</{name}" not in vector.lower()


def test_links_in_pdf_are_web_links_only(built):
    result, _formats = built
    from active_content import pdf_links

    [pdf] = [f for f in result.files if f.suffix == ".pdf"]
    uris = [str(t) for k, t in pdf_links(pdf) if k == "/URI"]
    assert any(u.startswith("https://example.org/ok/") for u in uris)  # links exist and were checked
    assert check_pdf(pdf) == []


def test_epub_documents_are_xml_and_clean(built):
    result, _formats = built
    [book] = [f for f in result.files if f.suffix == ".epub"]
    assert check_epub(book) == []


def test_eml_headers_not_injected(built):
    result, _formats = built
    [eml] = [f for f in result.files if f.suffix == ".eml"]
    assert check_eml(eml) == []


@pytest.mark.slow
def test_the_xss_book_passes_epubcheck(built):
    """Hostile bodies, titles, categories and URLs still make a valid EPUB (no fatal, error or warning)."""
    import subprocess

    result, _formats = built
    [book] = [f for f in result.files if f.suffix == ".epub"]
    jar = Path(__import__("epubcheck").__file__).parent / "epubcheck.jar"
    report = book.with_suffix(".json")
    subprocess.run(["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(jar), str(book), "--json",
                    str(report)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    data = json.loads(report.read_text(encoding="utf-8"))
    bad = [f"{m['severity']} {m['ID']}: {m['message'][:160]} @ {m.get('locations', [{}])[0].get('path')}"
           for m in data["messages"] if m["severity"] in ("FATAL", "ERROR", "WARNING")]
    assert not bad, "\n".join(bad[:15])
