"""The attack corpus (tests/data/attacks/, ≥ 300 cited vectors) through every post field and the settings, in
every format, driven through the ``digest`` command line.

Post fields: two builds of one post per vector (tests/attack_posts.py), ``--format all`` then ``digest archive``,
side by side: every vector goes through every post field in every run.
Settings (tests/attack_config.py): by default a few builds carry every vector, in chunks, through one of the
settings that take any text, and every url and header vector as the whole value of one URL or address setting.
``DIGEST_ATTACKS=all`` runs the exhaustive matrix instead (every vector through every string and URL setting of
``_config.yml``, ``digest.toml`` and the theme's options: about a hundred builds, half an hour on 2 cores).

What must hold, for every build: no active content in any output (tests/active_content.py: elements, handlers,
URLs, style sheets, PDF actions, attachments and ``file:`` URIs, SVG in the EPUB, mail headers, feeds); no
traceback; exit 0, or exit 2 with one line naming the setting whose value is refused; every post an article;
EPUBCheck without errors or warnings. A failure lists each survivor as ``vector | field | format | what``.

Set ``ATTACK_REPORT=/path/file.json`` to also write every finding there (for docs and triage).
"""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from active_content import check_eml, check_html, check_pdf, css_bad
from attack_config import SETTINGS, ConfigRun, Finding
from attack_harness import Driver, EpubQueue, exhaustive, load_vectors, norm, xss_vectors
from attack_posts import FIELDS, PostRun

README = Path(__file__).parent / "data" / "attacks" / "README.md"
CLASSES = {"html", "url", "css", "xml", "svg-mathml", "header"}
VECTORS = load_vectors()
TIMES: dict[str, float] = {}


@pytest.fixture(scope="module")
def epub_pool():
    """EPUBCheck (in one JVM of its own) checks the books while the builds go on."""
    queue = EpubQueue()
    yield queue
    queue.close()


@pytest.fixture(scope="module")
def posts(tmp_path_factory, epub_pool) -> list[Finding]:
    start = time.perf_counter()
    findings = PostRun(VECTORS, tmp_path_factory.mktemp("attack-posts"), epub_pool).run()
    TIMES["posts"] = time.perf_counter() - start
    _report("posts", findings)
    return findings


@pytest.fixture(scope="module")
def config(tmp_path_factory, epub_pool):
    start = time.perf_counter()
    tmp = tmp_path_factory.mktemp("attack-config")
    drivers = [Driver(tmp / f"cache{i}") for i in range(2)]
    try:
        outcome = ConfigRun(VECTORS, tmp, drivers, epub_pool, exhaustive()).run()
    finally:
        for d in drivers:
            d.close()
    TIMES["config"] = time.perf_counter() - start
    _report("config", outcome.findings, refused=outcome.refused, builds=outcome.builds,
            refusals=outcome.refusals, isolation_builds=outcome.isolation_builds)
    return outcome


def _report(part: str, findings: list[Finding], **extra) -> None:
    path = os.environ.get("ATTACK_REPORT")
    if not path:
        return
    p = Path(path)
    data = json.loads(p.read_text(encoding="utf-8")) if p.is_file() else {}
    data[part] = {"seconds": round(TIMES.get(part, 0), 1), "findings": [f.__dict__ for f in findings], **extra}
    p.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _listing(findings: list[Finding], limit: int = 150) -> str:
    lines = sorted({f.line() for f in findings})
    more = f"\n… and {len(lines) - limit} more" if len(lines) > limit else ""
    return f"{len(lines)} findings:\n" + "\n".join(lines[:limit]) + more


# -- the corpus itself ---------------------------------------------------------------------------------

def test_the_corpus_has_300_distinct_cited_vectors():
    assert len(VECTORS) >= 300
    assert len({v.id for v in VECTORS}) == len(VECTORS)
    assert len({norm(v.vector) for v in VECTORS}) == len(VECTORS), "two vectors differ only in case or spacing"
    old = {norm(v) for v in xss_vectors()}
    assert not [v.id for v in VECTORS if norm(v.vector) in old], "a vector of tests/data/xss/vectors.txt again"
    for v in VECTORS:
        assert v.cls in CLASSES, v
        assert v.licence and re.match(r"^([\w.-]+/[\w.-]+@[0-9a-f]{12}:\S|https://)", v.source), v


def test_the_readme_cites_every_source_and_licence():
    text = README.read_text(encoding="utf-8")
    for v in VECTORS:
        repo = v.source.split("@")[0] if "@" in v.source else v.source.split(" ")[0]
        assert repo in text, f"{v.id}: source {repo} not in the README"
        for licence in re.split(r" OR ", v.licence):
            assert licence in text, f"{v.id}: licence {licence} not in the README"
    assert str(len(VECTORS)) in text


def test_the_checks_catch_what_they_look_for(tmp_path):
    """Guard against checks that cannot fail: raw vectors, a style sheet, a PDF attachment, an injected header."""
    flagged = [v for v in VECTORS if v.cls in ("html", "svg-mathml") and check_html(f"<body>{v.vector}</body>", "raw")]
    assert len(flagged) >= 0.6 * len([v for v in VECTORS if v.cls in ("html", "svg-mathml")])
    assert css_bad("a{background:u\\72l(javascript:x)}") and css_bad("@im/**/port 'x.css';") and not css_bad("a{color:red}")
    from weasyprint import HTML

    secret = tmp_path / "secret.txt"
    secret.write_text("secret", encoding="utf-8")
    pdf = tmp_path / "a.pdf"
    HTML(string=f"<link rel=attachment href='{secret.as_uri()}'><p>x</p>").write_pdf(pdf)
    assert any("attached file" in f or "embedded files" in f for f in check_pdf(pdf))
    eml = tmp_path / "m.eml"
    eml.write_bytes(b"From: a@example.org, b@example.org\r\nTo: c@example.org\r\nBcc: evil@example.org\r\n"
                    b"Subject: x\r\n\r\nbody\r\n")
    found = check_eml(eml)
    assert any("'Bcc'" in f for f in found) and any("2 mailboxes" in f for f in found)


# -- post fields ---------------------------------------------------------------------------------------
# One test per part: under pytest-xdist each worker builds its own module fixtures, so the findings of a part are
# judged in the one test that builds it (formats, processes and EPUBCheck alike).

@pytest.mark.slow
def test_post_fields_leave_no_active_content_and_build_cleanly(posts):
    """Every format, every build exits cleanly and keeps every post, every book passes EPUBCheck."""
    assert not posts, _listing(posts)


def test_every_post_field_is_attacked():
    assert {"title", "body", "categories", "category", "tags", "tag", "author", "slug", "permalink", "date",
            "layout"} <= set(FIELDS)
    assert any("source_url" in f and "original_url" in f for f in FIELDS)
    assert any("excerpt" in f and "summary" in f for f in FIELDS)


# -- settings ------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_settings_leave_no_active_content_and_are_built_or_refused_on_one_line(config):
    """No active content in any format; exit 0, or exit 2 with one line naming the setting (never a traceback or
    another code); every book passes EPUBCheck. Every vector went through a setting into a scanned build."""
    assert not config.findings, _listing(config.findings)
    unscanned = [v.id for v in VECTORS if v.id not in config.scanned and v.cls not in ("url", "header")]
    assert not unscanned, f"vectors no setting carried into a build: {unscanned[:20]}"
    refused = {vid for _, vid in config.refused}
    assert {v.id for v in VECTORS} <= config.scanned | refused
    assert config.builds >= (len(VECTORS) // 10 if exhaustive() else 3)  # the runs really happened


def test_every_setting_is_attacked():
    names = {s.name for s in SETTINGS}
    assert {"title", "description", "url", "baseurl", "author", "publisher", "sections.news", "email.subject",
            "email.from_addr", "email.reply_to", "email.web_url", "email.unsubscribe", "archive.base_url",
            "theme.accent", "theme.motto"} <= names
