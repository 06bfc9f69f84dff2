"""The email edition: files, size budget, what is shown (and said about what is not), the .eml."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from email import message_from_bytes, policy
from pathlib import Path

import lxml.html
import pytest
from typer.testing import CliRunner

from digest import load_settings
from digest.build import make_digest, write_issue
from digest.cli.app import app
from digest.editions.email import render as email_edition
from digest.model import Digest
from digest.runtime.env import Environment
from digest.theming.loader import load_theme

NO_CACHE = Environment.from_os(cache=False)
from tests.conftest import DAY, EXAMPLE, LATE_DAY

BUDGET = 90_000
WEB = "https://finews.withounder.com/digest/2021/2021-12-08.html"


@dataclass
class Issue:
    digest: Digest
    files: list[Path]


def _build(site: Path, day, out: Path, **overrides):
    settings = load_settings(site, None, overrides or None)
    digest = make_digest(settings, day, day, env=NO_CACHE)
    return settings, Issue(digest, write_issue(digest, ["email"], out, theme=load_theme(settings), settings=settings))


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    out = tmp_path_factory.mktemp("email")
    settings, issue = _build(EXAMPLE, DAY, out)
    return settings, issue, out


@pytest.fixture(scope="module")
def big(site_300, tmp_path_factory):
    out = tmp_path_factory.mktemp("email300")
    settings, issue = _build(site_300, issue_day(), out, email={"web_url": "https://example.org/d/{slug}.html"})
    return settings, issue, out


def issue_day():
    from datetime import date

    return date(2022, 4, 19)


def files(issue):
    by_suffix = {}
    for f in issue.files:
        by_suffix["".join(f.suffixes[-2:]) if f.name.endswith((".email.html", ".email.txt")) else f.suffix] = f
    return by_suffix


def test_writes_html_text_and_eml(example):
    _, issue, out = example
    f = files(issue)
    assert sorted(f) == [".email.html", ".email.txt", ".eml"]
    assert f[".email.html"] == out / "2021" / "2021-12-08.email.html"
    assert f[".eml"] == out / "2021" / "2021-12-08.eml"


def _doc(path: Path):
    return lxml.html.fromstring(path.read_bytes())


def _shown_titles(doc) -> list[str]:
    return [h.text_content().strip() for h in doc.xpath("//h3")]


def test_html_is_self_contained_inlined_and_mail_friendly(example):
    _, issue, _ = example
    path = files(issue)[".email.html"]
    raw = path.read_text(encoding="utf-8")
    doc = _doc(path)
    assert len(raw.encode("utf-8")) < BUDGET
    assert not doc.xpath("//script") and not doc.xpath("//link")
    assert not re.search(r"@import|url\(", raw)
    # CSS is inlined; only @media rules (narrow screens, dark mode) stay in <style>
    assert doc.xpath("//h3")[0].get("style") and "font-size" in doc.xpath("//h3")[0].get("style")
    style = "".join(doc.xpath("//style/text()"))
    assert "prefers-color-scheme: dark" in style
    assert re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", style).strip() == ""
    assert doc.xpath("//meta[@name='color-scheme']/@content") == ["light dark"]
    # a 600 px table layout, also for Outlook (conditional comment)
    wrap = doc.xpath("//table[contains(@class,'wrap')]")[0]
    assert "max-width:600px" in wrap.get("style").replace(" ", "")
    assert '<!--[if mso]><table role="presentation" width="600"' in raw
    # hidden preheader text: the first headline
    pre = doc.xpath("//body/div[1]")[0]
    assert "display:none" in pre.get("style")
    assert pre.text_content().startswith("FF：有充足的现金支持到FF 91完成投产")
    assert all(img.get("alt") is not None for img in doc.xpath("//img"))


def test_html_articles_have_link_time_summary_and_attribution(example):
    _settings, issue, _ = example
    doc = _doc(files(issue)[".email.html"])
    digest = issue.digest
    titles = _shown_titles(doc)
    assert titles == [p.title for p in digest.posts[: len(titles)]]
    first = digest.posts[0]
    h3 = doc.xpath("//h3")[0]
    assert h3.xpath("a/@href") == [first.attribution.post_url]
    summary = h3.getnext()
    assert summary.text_content().startswith(f"{first.date:%H:%M} ")
    assert first.summary in summary.text_content()
    attribution = summary.getnext()
    assert "attribution" in attribution.get("class")
    assert attribution.xpath("a[@class='original']/@href") == [first.attribution.original_url]
    assert "来源：东方财富网" in attribution.text_content()
    # the web edition at top and bottom
    assert doc.xpath("//a/@href").count(WEB) == 2


def test_too_big_day_says_how_many_more_in_html_and_text(example):
    _settings, issue, _ = example
    digest = issue.digest
    doc = _doc(files(issue)[".email.html"])
    shown = len(_shown_titles(doc))
    assert 0 < shown < digest.count  # 97 articles do not fit in 90 KB
    more = doc.xpath("//p[contains(@class,'more')]/a")
    assert [a.text_content() for a in more] == [f"本栏目还有 {digest.count - shown} 篇 →"]
    assert more[0].get("href") == f"{WEB}#{digest.sections[0].anchor}"
    text = files(issue)[".email.txt"].read_text(encoding="utf-8")
    assert f"本栏目还有 {digest.count - shown} 篇: {WEB}#s-emnews" in text
    for p in digest.posts[:shown]:
        assert f"\n{p.title}\n" in text
        assert p.attribution.post_url in text
        if p.attribution.original_url:
            assert f"原文：{p.attribution.original_url}" in text
    for p in digest.posts[shown:]:
        assert f"\n{p.title}\n" not in text


def test_the_largest_n_that_fits_is_chosen(example):
    settings, issue, _ = example
    edition = email_edition.render(issue.digest, theme=load_theme(settings), settings=settings)
    assert edition.html_bytes <= BUDGET
    bigger = email_edition._Renderer(issue.digest, load_theme(settings), settings).html(edition.per_section + 1)
    assert len(bigger.encode("utf-8")) > BUDGET
    assert edition.hidden == issue.digest.count - edition.per_section


@pytest.mark.parametrize("budget", [8_000, 15_000, 40_000, 60_000, 150_000, 400_000])
def test_the_largest_n_that_fits_whatever_the_budget_and_no_whole_day_rendered_for_it(example, budget, monkeypatch):
    """The search grows from 8 articles a section by what the last try's size says, then narrows: the N it
    picks is the largest that fits (N + 1 does not), and it renders no N past four times that, where it once
    rendered the whole day to learn it was over."""
    settings = load_settings(EXAMPLE, None, {"email": {"max_html_bytes": budget}})
    digest = example[1].digest
    tried: list[int] = []
    real = email_edition._Renderer.html
    monkeypatch.setattr(email_edition._Renderer, "html", lambda self, n, k=None: tried.append(n) or real(self, n, k))
    edition = email_edition.render(digest, theme=load_theme(settings), settings=settings)
    n = edition.per_section
    monkeypatch.setattr(email_edition._Renderer, "html", real)
    renderer = email_edition._Renderer(digest, load_theme(settings), settings)
    renderer.full = "<div class=\"body\">" in edition.html
    size = lambda k: len(renderer.html(k).encode("utf-8"))
    longest = max(len(s.posts) for s in digest.sections)
    assert edition.html_bytes <= budget or n == 0
    assert n == longest or size(n + 1) > budget
    assert max(tried) <= max(8, 4 * max(n, 1)) or n == longest


def test_small_day_shows_everything(tmp_path):
    _, issue = _build(EXAMPLE, LATE_DAY, tmp_path)
    doc = _doc(files(issue)[".email.html"])
    assert _shown_titles(doc) == [p.title for p in issue.digest.posts]
    assert not doc.xpath("//p[contains(@class,'more')]")
    assert "上海证券报" in doc.text_content()


def test_top_n_and_budget_settings(tmp_path):
    _, issue = _build(EXAMPLE, DAY, tmp_path / "a", email={"top_n": 5})
    doc = _doc(files(issue)[".email.html"])
    assert len(_shown_titles(doc)) == 5
    assert "本栏目还有 92 篇" in doc.text_content()
    _, issue = _build(EXAMPLE, DAY, tmp_path / "b", email={"max_html_bytes": 20_000})
    raw = files(issue)[".email.html"].read_bytes()
    assert len(raw) <= 20_000
    assert 0 < len(_shown_titles(_doc(files(issue)[".email.html"]))) < 20


def test_300_post_day_fits_and_drops_nothing_silently(big):
    _settings, issue, _ = big
    digest = issue.digest
    assert digest.count >= 290 and len(digest.sections) == 6
    path = files(issue)[".email.html"]
    assert len(path.read_bytes()) < BUDGET
    doc = _doc(path)
    shown = 0
    for h2 in doc.xpath("//h2"):
        td = h2.getparent()
        n = len(td.xpath(".//h3"))
        total = int(h2.xpath("span")[0].text_content())
        hidden = total - n
        shown += n
        more = td.xpath(".//p[contains(@class,'more')]")
        assert (hidden > 0) == bool(more)
        if hidden:
            assert more[0].text_content().strip() == f"本栏目还有 {hidden} 篇 →"
    assert sum(1 for _ in doc.xpath("//h3")) == shown > 0
    text = files(issue)[".email.txt"].read_text(encoding="utf-8")
    assert text.count("本栏目还有") == len(doc.xpath("//p[contains(@class,'more')]"))


def test_eml_is_a_valid_multipart_alternative(example):
    _settings, issue, _ = example
    raw = files(issue)[".eml"].read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert str(msg["Subject"]) == "金融消息 · 2021年12月8日"
    assert msg["From"].addresses[0].addr_spec == "digest@finews.example"
    assert msg["Date"] == "Wed, 08 Dec 2021 13:16:19 +0800"
    assert msg["Message-ID"].endswith("@finews.withounder.com>")
    assert "List-Unsubscribe" not in msg  # none configured
    assert str(msg["To"]) == "undisclosed-recipients:;"  # email.to is empty in the example
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert html.replace("\r\n", "\n") == files(issue)[".email.html"].read_text(encoding="utf-8").replace("\r\n", "\n")
    assert text.replace("\r\n", "\n") == files(issue)[".email.txt"].read_text(encoding="utf-8")


def test_output_is_reproducible(example, tmp_path):
    _, issue, _ = example
    _, again = _build(EXAMPLE, DAY, tmp_path)
    for a, b in zip(sorted(issue.files), sorted(again.files), strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_bad_subject_template_is_one_line_error(tmp_path):
    cfg = tmp_path / "digest.toml"
    cfg.write_text('[email]\nsubject = "{site_title} {nope}"\n', encoding="utf-8")
    r = CliRunner().invoke(app, ["build", str(EXAMPLE), "-c", str(cfg), "--date", DAY.isoformat(),
                                 "--format", "email", "--out", str(tmp_path / "out")])
    assert r.exit_code == 2
    assert "email.subject" in r.output and "nope" in r.output and "Traceback" not in r.output


def test_range_issue_shows_dates(tmp_path):
    settings = load_settings(EXAMPLE)
    digest = make_digest(settings, DAY, LATE_DAY, period="range")
    edition = email_edition.render(replace(digest), theme=load_theme(settings), settings=settings)
    assert "2021年12月8日 – 2022年4月19日" in edition.text
    assert re.search(r"\n12-08 \d\d:\d\d", edition.text)
