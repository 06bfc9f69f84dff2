"""What a reader sees (issue 15), read back from real files: navigation, no repetition, honest image notes,
links that lead somewhere, PDF typesetting, EPUB size fitting and covers. The standard checkers (vnu, Ace,
axe-core) run over every edition in tests/test_reader_checkers.py."""
from __future__ import annotations

import io
import itertools
import random
import re
import subprocess
import zipfile
from datetime import date
from html import unescape as html_unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import DAY, EXAMPLE, LATE_DAY, make_big_site
from lxml import etree
from lxml import html as lxml_html
from PIL import Image

from digest import load_settings
from digest.build import make_digest, write_issue
from digest.config.settings import AttributionRules
from digest.editions.epub.fit import split
from digest.editions.reading import tidy
from digest.model import Attribution, Post
from digest.render.attribution import AttributionFinder
from digest.runtime.env import Environment
from digest.theming.loader import load_theme
from digest.theming.teaser import teaser

NO_CACHE = Environment.from_os(cache=False)
X = {"x": "http://www.w3.org/1999/xhtml"}
ZH = {"image_missing": "图片未收录，原文可见", "image_missing_alt": "图片未收录，原文可见：{alt}"}
LEAD = "“一季度工业经济实现平稳开局，工业和信息化发展取得积极成效。”"


def build(site: Path, day: date, formats: list[str], out: Path, theme: str = "default", **overrides) -> list[Path]:
    settings = load_settings(site, overrides=overrides or None)
    digest = make_digest(settings, day, day, env=NO_CACHE)
    return write_issue(digest, formats, out, settings=settings, theme=load_theme(settings, theme), env=NO_CACHE)


def post(html: str, summary: str = "", text: str = "", original: str | None = "https://news.example/1") -> Post:
    from datetime import UTC, datetime

    return Post(id="a-1", path=Path("_posts/x.md"), title="t", date=datetime(2022, 4, 19, tzinfo=UTC),
                categories=("c",), tags=(), body_html=html, body_text=text, summary=summary,
                attribution=Attribution(original_url=original), slug="x", content_hash="h")


def epub_docs(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n.split("/", 1)[1]: z.read(n) for n in z.namelist() if n.endswith(".xhtml")}


def pdf_pages(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True, text=True)
    return out.stdout.split("\f")[:-1]


# -- a site whose posts repeat themselves and hold images the editions cannot show ---------------------
IMAGE_POST = """<p>蔚来股价走势如下。</p>

[![K图 NIO_0](https://webquotepic.example.com/GetPic.aspx?nid=106.NIO&imageType=k)](https://quote.example.com/us/NIO.html)

图片来源：东方财富网

![Image](https://img.example.com/a/b.png)

<p style="display:none"><span id="x"></span></p>

<p>&nbsp;</p>

<p><strong>公司回应</strong></p>

<p>公司表示将于下周公布详情。</p>

<https://news.example.com/nio.html>
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("reader") / "site"
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text("title: 测试站\nlang: zh-CN\ntimezone: Asia/Shanghai\n"
                                      "url: https://example.org\n", encoding="utf-8")
    (root / "_posts" / "2022-04-19-img.md").write_text(
        "---\ntitle: 蔚来图表\ndate: 2022-04-19 10:00:00 +0800\ncategories: emnews\n---\n\n" + IMAGE_POST,
        encoding="utf-8")
    short = "---\ntitle: 快讯{n}\ndate: 2022-04-19 11:0{n}:00 +0800\ncategories: flash\n---\n\n第{n}条快讯的全文。\n"
    for n in range(3):
        (root / "_posts" / f"2022-04-19-f{n}.md").write_text(short.format(n=n), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def site_books(site, tmp_path_factory):
    out = tmp_path_factory.mktemp("reader-out")
    files = build(site, LATE_DAY, ["web", "epub", "pdf", "email"], out, epub={"section_doc_kb": 0})
    return {p.name.split(".", 1)[1]: p for p in files}


# -- no repetition ---------------------------------------------------------------------------------------
def test_a_lead_quote_equal_to_the_first_paragraph_appears_once():
    body = f"<blockquote>\n<p>{LEAD}在发布会上。</p>\n</blockquote>\n<p>{LEAD}在发布会上。</p>\n<p>数据显示。</p>"
    html = tidy(post(body), ZH).html
    assert html.count(LEAD) == 1 and "<blockquote>" not in html and "数据显示" in html
    different = f"<blockquote><p>摘要：工业平稳。</p></blockquote><p>{LEAD}</p>"
    assert tidy(post(different), ZH).html.count("<blockquote>") == 1  # a quote that says something else stays


@pytest.fixture(scope="module")
def late_day(tmp_path_factory):
    """The example site's 2022-04-19 (a > lead quote repeated by the first paragraph) in web, EPUB and PDF."""
    out = tmp_path_factory.mktemp("late")
    return {p.suffix: p for p in build(EXAMPLE, LATE_DAY, ["web", "epub", "pdf"], out)}


def test_the_lead_quote_is_shown_once_in_every_edition(late_day):
    page = lxml_html.fromstring(late_day[".html"].read_text(encoding="utf-8"))
    [article] = page.xpath("//article")
    assert article.text_content().count(LEAD) == 1
    docs = epub_docs(late_day[".epub"])
    articles = [a for doc in docs.values() for a in etree.fromstring(doc).iterfind(".//x:article", X)]
    assert len(articles) == 1 and "".join(articles[0].itertext()).count(LEAD) == 1
    assert re.sub(r"\s+", "", "".join(pdf_pages(late_day[".pdf"]))).count(re.sub(r"\s+", "", LEAD)) == 1


def test_empty_and_hidden_paragraphs_leave_no_gap():
    body = '<p>一。</p><p></p><p><span id="a-1-x"></span></p><p>&nbsp;\u3000</p><p><br></p><p>二。</p><p><img src="i.png" alt="图"></p>'
    root = lxml_html.fragment_fromstring(tidy(post(body), ZH, images=lambda s: s).html, create_parent="div")
    assert [p.text_content() for p in root.iter("p")] == ["一。", "二。", ""]  # the image's paragraph stays


def test_an_empty_link_target_passes_its_id_on():
    """A body's link to an element left empty by the sanitiser still lands there: the id moves on."""
    body = '<p><a href="#a-1.x">to x</a></p><div id="a-1.x"></div><p>后文。</p><p></p><p id="a-1.y"></p>'
    root = lxml_html.fragment_fromstring(tidy(post(body), ZH).html, create_parent="div")
    assert [p.text_content() for p in root.iter("p")] == ["to x", "后文。", ""]  # (the last: see below)
    assert root.xpath('//p[@id="a-1.x"]/text()') == ["后文。"]
    assert root.xpath('//*[@id="a-1.y"]')  # no element beside it to take it: kept


def test_one_line_bold_paragraphs_are_marked_as_subheads():
    body = ("<p><strong>接续政策措施</strong></p><p>正文。</p><p><strong>加粗</strong>之后还有正文。</p>"
            f"<p><strong>{'很长的加粗段落' * 8}</strong></p>")
    root = lxml_html.fragment_fromstring(tidy(post(body), ZH).html, create_parent="div")
    assert [p.get("class") for p in root.iter("p")] == ["subhead", None, None, None]


def test_a_summary_that_repeats_the_body_is_not_shown_twice():
    text = "第1条快讯的全文，说明市场情况。\n（文章来源：新华社）"
    assert teaser(post("", summary="第1条快讯的全文，说明市场情况。", text=text)) == ""
    long_text = "第一段。" * 10 + "\n" + "更多内容。" * 80
    assert teaser(post("", summary="第一段。" * 10, text=long_text)) == "第一段。" * 10


# -- honest image notes ----------------------------------------------------------------------------------
def test_an_image_inside_a_link_yields_a_valid_note():
    body = ('<p><a href="https://quote.example/NIO"><img src="https://pic.example/k.png" alt="K图 NIO_0"></a></p>'
            '<p>图片来源：东方财富</p><p><img src="https://pic.example/2.png" alt="Image"></p>')
    root = lxml_html.fragment_fromstring(tidy(post(body), ZH, images=lambda s: None).html, create_parent="div")
    assert not root.xpath("//a//a") and not root.xpath("//img")
    first, caption, second = root.findall("p")
    assert first.xpath("string(.//span[@class='image-note'])") == "图片未收录，原文可见：K图 NIO_0"
    assert first.find("a").get("href") == "https://quote.example/NIO"  # the post's own link is kept
    assert caption.text == "图片来源：东方财富" and "image-note-p" in first.get("class")
    [note] = second.findall("a")  # a generic alt ("Image") is not shown; the note links to the image
    assert note.text == "图片未收录，原文可见" and note.get("href") == "https://pic.example/2.png"


def test_image_notes_are_in_the_sites_language(tmp_path):
    (tmp_path / "_posts").mkdir()
    (tmp_path / "_config.yml").write_text("title: Test\nlang: en\nurl: https://example.org\n", encoding="utf-8")
    (tmp_path / "_posts" / "2022-04-19-a.md").write_text(
        "---\ntitle: A\ndate: 2022-04-19 10:00:00\n---\n\n![Chart of NIO](https://img.example.com/k.png)\n",
        encoding="utf-8")
    [epub] = build(tmp_path, LATE_DAY, ["epub"], tmp_path / "out")
    text = b"".join(epub_docs(epub).values()).decode()
    assert "Image not included — view online: Chart of NIO" in text and "图片" not in text


def test_epub_and_pdf_show_the_note_with_its_caption_and_never_a_link_in_a_link(site_books):
    docs = epub_docs(site_books["epub"])
    for name, data in docs.items():
        assert not etree.fromstring(data).xpath("//x:a//x:a", namespaces=X), name
    article = next(etree.fromstring(d) for n, d in docs.items() if n.startswith("a-img"))
    notes = article.xpath("//*[@class='image-note']", namespaces=X)
    assert [n.text for n in notes] == ["图片未收录，原文可见：K图 NIO_0", "图片未收录，原文可见"]
    holder = notes[0].getparent().getparent()  # note → the post's link → its paragraph
    assert holder.getnext().text.strip() == "图片来源：东方财富网"
    text = re.sub(r"\s+", "", "".join(pdf_pages(site_books["pdf"])))
    assert "图片未收录，原文可见：K图NIO_0图片来源：东方财富网" in text
    assert "图片未收录，原文可见公司回应" in text and "Image" not in text


def test_web_edition_keeps_every_image(site_books):
    page = site_books["html"].read_text(encoding="utf-8")
    assert page.count("<img") == 2 and "image-note" not in page.split("</style>", 1)[1]


# -- navigation ------------------------------------------------------------------------------------------
def test_web_opens_with_the_section_index_and_folds_sections(site_books):
    page = lxml_html.fromstring(site_books["html"].read_bytes())
    jump = page.xpath("//nav[@class='jump']")[0]
    assert [a.text_content().split() for a in jump.iter("a")] == [["emnews", "1"], ["flash", "3"]]
    assert jump.getprevious().tag == "header"  # right under the masthead: on the first screen
    assert not page.xpath("//script")
    for section in page.xpath("//main/section"):
        fold = section.find("details")
        assert fold is not None and fold.get("open") is not None and fold.find("summary/h2") is not None
        toc = fold.find("details[@class='section-toc']")
        assert toc is not None and toc.get("open") is None  # the full list is there, folded
        for article in fold.findall("article"):
            back = article.getnext()
            assert [a.get("href") for a in back.iter("a")] == [f"#{section.get('id')}", "#top"]


def test_epub_contents_is_a_section_index_and_back_links_return_to_the_readers_place(site_books):
    docs = epub_docs(site_books["epub"])
    contents = etree.fromstring(docs["contents.xhtml"])
    entries = contents.xpath("//x:ol[@class='toc-sections']/x:li", namespaces=X)
    assert len(entries) == 2 and not contents.xpath("//*[@class='summary']", namespaces=X)
    for li in entries:
        assert re.fullmatch(r"\d+ 篇文章", li.findtext("x:span", namespaces=X))
    flash = etree.fromstring(docs["s-flash.xhtml"])
    assert not flash.xpath("//*[@class='summary']", namespaces=X)  # each item's summary is the item itself
    img = etree.fromstring(docs["s-emnews.xhtml"])
    assert img.xpath("string(//x:li[@id='t-a-img']/x:span[@class='summary'])", namespaces=X)
    article = etree.fromstring(docs["a-img.xhtml"])
    up = article.xpath("//x:p[@class='up']/x:a/@href", namespaces=X)
    assert up == ["s-emnews.xhtml#t-a-img", "contents.xhtml#toc-s-emnews"]
    assert img.xpath("//*[@id='t-a-img']", namespaces=X) and contents.xpath("//*[@id='toc-s-emnews']", namespaces=X)


def test_short_items_get_a_one_line_pager(tmp_path, site):
    [epub] = build(site, LATE_DAY, ["epub"], tmp_path)  # default section_doc_kb: small sections are one document
    flash = etree.fromstring(epub_docs(epub)["s-flash.xhtml"])
    pagers = flash.xpath("//x:p[@class='pager compact']", namespaces=X)
    assert len(pagers) == 3 and not flash.xpath("//x:div[@class='pager']", namespaces=X)
    assert pagers[1].xpath("x:a/@href", namespaces=X)[1] == "s-flash.xhtml#t-a-f1"


def test_the_epub_contents_of_the_300_post_day_is_small(site_300, tmp_path):
    [epub] = build(site_300, LATE_DAY, ["epub"], tmp_path)
    docs = epub_docs(epub)
    assert len(docs["contents.xhtml"]) < 40_000, len(docs["contents.xhtml"])
    contents = etree.fromstring(docs["contents.xhtml"])
    sections = contents.xpath("//x:ol[@class='toc-sections']/x:li/x:a/@href", namespaces=X)
    assert len(sections) >= 5 and all(h.endswith(".xhtml") for h in sections)
    listed = sum(len(etree.fromstring(docs[h]).xpath("//x:ol[@class='toc-articles']/x:li", namespaces=X))
                 for h in sections)
    assert listed == 300


# -- email -----------------------------------------------------------------------------------------------
class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")


def hrefs(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


@pytest.fixture(scope="module")
def emails(tmp_path_factory, site_300):
    """The 300-post day's email without web_url (some articles left for the web edition), in both themes."""
    out = tmp_path_factory.mktemp("email")
    got = {}
    for theme in ("default", "newspaper"):
        files = build(site_300, LATE_DAY, ["email"], out / theme, theme)
        got[theme] = {p.name.split(".", 1)[1]: p.read_text(encoding="utf-8", errors="replace") for p in files}
    return got


def test_without_web_url_the_more_lines_name_the_web_file_and_link_nowhere(emails):
    for theme, files in emails.items():
        html, text = files["email.html"], files["email.txt"]
        more = re.findall(r'<p class="more"[^>]*>(.*?)</p>', html)
        assert more and all(re.fullmatch(r"本栏目还有 \d+ 篇，见网页版 2022-04-19\.html", m) for m in more), (theme, more)
        assert not [h for h in hrefs(html) if "#s-" in h], theme  # no link to a section the home page lacks
        assert "阅读网页完整版" not in html and "见网页版 2022-04-19.html" in text


def test_email_attribution_reads_with_css_off(emails):
    html = emails["default"]["email.html"]
    doc = lxml_html.fromstring(html.encode())
    line = doc.xpath("//p[contains(@class, 'attribution')]")[0].text_content()
    assert re.fullmatch(r"来源：\S+ · 原文 · 本站", line), line


def test_the_newspaper_email_carries_what_the_default_email_does(site, tmp_path):
    """The newspaper email is a headline list by design: it carries what the default theme's email carries
    with ``email.content = "summary"``; the default's whole articles (``auto`` here) only add to it."""
    def email(theme: str, content: str) -> str:
        files = build(site, LATE_DAY, ["email"], tmp_path / theme / content, theme, email={"content": content})
        return next(p for p in files if p.name.endswith(".email.html")).read_text(encoding="utf-8")

    default, newspaper, whole = email("default", "summary"), email("newspaper", "auto"), email("default", "auto")
    assert set(hrefs(default)) == set(hrefs(newspaper))  # titles, originals, pages on the site
    assert set(hrefs(newspaper)) <= set(hrefs(whole)) and 'class="body"' in whole
    doc, other = lxml_html.fromstring(default.encode()), lxml_html.fromstring(newspaper.encode())
    summaries = [p.text_content().split(" ", 1)[1] for p in doc.xpath("//p[@class='sum']")]
    assert len(summaries) == 4 and all(s in other.text_content() for s in summaries)
    lines = [p.text_content() for p in doc.xpath("//p[contains(@class, 'attribution')]")]
    assert lines == [p.text_content() for p in other.xpath("//p[contains(@class, 'attribution')]")]


def test_outlets_are_named_by_a_builtin_table_the_site_overrides():
    finder = AttributionFinder(AttributionRules())
    assert finder.outlet_of_host("https://stock.eastmoney.com/a/1.html") == "东方财富网"
    assert finder.outlet_of_host("https://www.reuters.com/x") == "Reuters"
    assert finder.outlet_of_host("https://unknown.example/x") == "unknown.example"
    mine = AttributionFinder(AttributionRules(hosts={"eastmoney.com": "东财"}))
    assert mine.outlet_of_host("https://stock.eastmoney.com/a/1.html") == "东财"


# -- PDF typesetting -------------------------------------------------------------------------------------
def _words(pdf: Path) -> list[tuple[int, float, float, float, float, str]]:
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True).stdout
    root = etree.fromstring(out, etree.XMLParser(recover=True))
    return [(i, float(w.get("xMin")), float(w.get("yMin")), float(w.get("xMax")), float(w.get("yMax")), w.text or "")
            for i, page in enumerate(root.iter("{*}page")) for w in page.iter("{*}word")]


@pytest.fixture(scope="module")
def example_pdf(tmp_path_factory):
    [pdf] = build(EXAMPLE, DAY, ["pdf"], tmp_path_factory.mktemp("pdf"))
    return pdf


def test_latin_spaces_in_chinese_lines_are_not_stretched(example_pdf):
    words = _words(example_pdf)
    gaps = [((b[1] - a[3]) / (a[4] - a[2]), a[5], b[5]) for a, b in itertools.pairwise(words)
            if a[0] == b[0] and abs(a[2] - b[2]) < .5 and re.search("[A-Za-z]$", a[5]) and re.match("[A-Za-z]", b[5])]
    assert len(gaps) > 10  # "Katy Huberty", "CJ ENM", "Chuck McBride"…
    assert max(gaps)[0] < 0.4, max(gaps)  # a space, not a gap of several ems


def test_pdf_contents_open_with_the_section_index(tmp_path, site):
    [pdf] = build(site, LATE_DAY, ["pdf"], tmp_path)
    pages = pdf_pages(pdf)
    contents = next(p for p in pages[1:] if "目录" in p)
    lines = [line.strip() for line in contents.splitlines() if line.strip() and not line.strip().isdigit()]
    title = len(lines) - 1 - lines[::-1].index("目录")  # the running header says 目录 too
    assert lines[title + 1:title + 3] == ["emnews 1 篇文章", "flash 3 篇文章"], lines
    assert lines[title + 3] == "emnews 1" and lines[title + 4] == "蔚来图表"  # then every section's articles


@pytest.mark.slow
def test_no_page_of_a_busy_day_ends_with_a_subhead_or_a_heading(tmp_path):
    """40 long articles (the real one with its bold one-line subheads, at 40 positions on the page): before,
    7 of 116 pages ended with a subhead, its paragraph on the next page."""
    site = make_big_site(tmp_path / "long", 40, long=1.0)
    [pdf] = build(site, LATE_DAY, ["pdf"], tmp_path / "out")
    subheads = {html_unescape(m).strip() for f in (site / "_posts").glob("*.md")
                for m in re.findall(r"<p><strong>([^<]{1,40})</strong></p>", f.read_text(encoding="utf-8"))}
    digest = make_digest(load_settings(site), LATE_DAY, LATE_DAY, env=NO_CACHE)
    headings = {p.title for p in digest.posts} | {s.title for s in digest.sections}
    assert len(subheads) >= 3
    pages = pdf_pages(pdf)
    assert len(pages) > 60
    ends = []
    for page in pages[2:]:  # after the cover and the contents
        lines = [line.strip() for line in page.splitlines() if line.strip() and not re.fullmatch(r"\d+ / \d+", line.strip())]
        ends.append(lines[-1])
    assert not [e for e in ends if e in subheads], [e for e in ends if e in subheads]
    assert not [e for e in ends if e in headings or re.match(r"\d\d:\d\d · ", e)]


# -- covers ----------------------------------------------------------------------------------------------
def _thumb(epub: Path) -> Image.Image:
    from digest.editions.epub import cover_of

    data, _ = cover_of(epub)
    im = Image.open(io.BytesIO(data)).convert("RGB")
    im.thumbnail((100, 160), Image.Resampling.LANCZOS)
    return im


def test_covers_are_legible_at_100_px_and_differ_by_issue(tmp_path, late_day, site_books):
    example_12_08 = build(EXAMPLE, DAY, ["epub"], tmp_path / "a")[0]
    thumbs = [_thumb(p) for p in (example_12_08, late_day[".epub"])]
    for im in thumbs:
        rows = [y for y in range(im.height) if sum(1 for x in range(im.width) if im.getpixel((x, y)) > (230,) * 3
                                                   and im.getpixel((x, 2)) < (200,) * 3) > 3]
        runs, run = [], 1
        for a, b in itertools.pairwise(rows):
            run = run + 1 if b == a + 1 else 1
            runs.append(run)
        assert max(runs) >= 12, max(runs)  # the date: white glyphs at least 12 px tall on the band
    band = [im.getpixel((50, 3)) for im in thumbs]
    assert sum(abs(a - b) for a, b in zip(*band, strict=False)) > 60  # a different colour for a different weekday


# -- EPUB size ------------------------------------------------------------------------------------------
def _noise(path: Path, size: tuple[int, int], seed: int) -> None:
    import random

    rnd = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.frombytes("RGB", size, bytes(rnd.getrandbits(8) for _ in range(size[0] * size[1] * 3))).save(path)


def test_split_keeps_every_article_once_in_order():
    settings_digest = make_digest(load_settings(EXAMPLE), DAY, DAY, env=NO_CACHE)
    parts = split(settings_digest, {p.id: 1000 for p in settings_digest.posts}, 30_000)
    assert len(parts) == 4 and [p.id for d in parts for p in d.posts] == [p.id for p in settings_digest.posts]
    assert all(sum(1000 for _ in d.posts) <= 30_000 for d in parts)


def test_an_epub_over_the_limit_by_its_text_is_split_at_once_and_never_held_in_memory(tmp_path, caplog, monkeypatch):
    """A huge day's book (hundreds of MB of text): it is not made whole only to learn it is too big, nor
    made again with smaller images (they cannot help): a book of its first articles is measured, then the
    parts are made, each written to its file as it is made (a book is never rendered into memory)."""
    import digest.editions.epub.fit as fit

    site = tmp_path / "words"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: 文字站\nlang: zh-CN\ntimezone: Asia/Shanghai\n", encoding="utf-8")
    words = [a + b for a in "央行市场利率资金债券股票指数" for b in "今日上涨下跌开展保持"]  # 140 two-character words
    for n in range(24):
        rnd = random.Random(n)
        text = "\n\n".join("".join(rnd.choice(words) for _ in range(400)) + "。" for _ in range(10))
        (site / "_posts" / f"2022-04-19-w{n:02d}.md").write_text(
            f"---\ntitle: 文{n}\ndate: 2022-04-19 10:{n:02d}:00 +0800\n---\n\n{text}\n", encoding="utf-8")
    writes = []
    real = fit.write_to
    monkeypatch.setattr(fit, "write_to", lambda d, ctx, f, *a: writes.append((type(f).__name__, d.count, a[1:]))
                        or real(d, ctx, f, *a))
    monkeypatch.setattr(fit, "SAMPLE_BYTES", 100_000)  # (the text of about 4 articles)
    caplog.set_level("WARNING", logger="digest.epub")
    limit = 0.05  # the book: about 3 times that, its text (news prose compresses to about a fifth)
    files = build(site, LATE_DAY, ["epub"], tmp_path / "out", epub={"max_size_mb": limit, "cover": False})
    sample, *parts = writes
    assert len(files) > 1 and len(parts) == len(files) and all(part for _, _, part in parts)
    assert sample[1] < 24 and not sample[2]  # the measured book: its first articles, never the whole day
    assert all(kind == "BufferedWriter" for kind, _, _ in writes)  # each to its file
    assert sorted(p.name for p in files[0].parent.iterdir()) == sorted(p.name for p in files)  # no sample left
    titles = []
    for path in files:
        assert path.stat().st_size <= limit * 1024 * 1024, (path, path.stat().st_size)
        titles += _titles(path)
    assert titles == [f"文{n}" for n in range(24)]
    sizes = [p.stat().st_size for p in files]
    assert min(sizes[:-1]) >= 0.6 * limit * 1024 * 1024, sizes  # cut by compressed size: parts near the limit
    message = " ".join(r.getMessage() for r in caplog.records)
    assert f"split into {len(files)} parts" in message and "scaled" not in message


def _titles(book: Path) -> list[str]:
    """The articles of a book, in its reading order (its navigation document: a day without categories has
    no sections, its articles are the table of contents)."""
    with zipfile.ZipFile(book) as z:
        nav = etree.fromstring(z.read("EPUB/nav.xhtml"))
    toc = nav.xpath("//x:nav[@role='doc-toc']", namespaces=X)[0]
    return [a.text for a in toc.iter("{http://www.w3.org/1999/xhtml}a")]


def test_an_epub_over_the_limit_gets_smaller_images_then_numbered_parts(tmp_path, caplog):
    site = tmp_path / "big"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: 图片站\nlang: zh-CN\ntimezone: Asia/Shanghai\nurl: https://example.org\n",
                                      encoding="utf-8")
    for n in range(8):
        _noise(site / "assets" / f"{n}.png", (1200, 900), n)
        cat = "photos" if n < 5 else "charts"
        (site / "_posts" / f"2022-04-19-p{n}.md").write_text(
            f"---\ntitle: 图{n}\ndate: 2022-04-19 10:0{n}:00 +0800\ncategories: {cat}\n---\n\n第{n}张图。\n\n"
            f"![第{n}张](/assets/{n}.png)\n", encoding="utf-8")
    caplog.set_level("WARNING", logger="digest.epub")
    limit = 0.12  # the drawn cover alone is about 0.1 MB
    files = build(site, LATE_DAY, ["epub"], tmp_path / "out", epub={"max_size_mb": limit})
    assert len(files) > 1 and files[0].name == "2022-04-19.epub" and files[1].name == "2022-04-19.part2.epub"
    seen = []
    for n, path in enumerate(files, 1):
        assert path.stat().st_size <= limit * 1024 * 1024, (path, path.stat().st_size)
        with zipfile.ZipFile(path) as z:
            opf = etree.fromstring(z.read("EPUB/content.opf"))
            images = [i for i in z.namelist() if i.startswith("EPUB/images/") and "cover" not in i]
            for name in images:
                assert Image.open(io.BytesIO(z.read(name))).width <= 1072 // 4
        title = opf.findtext(".//{http://purl.org/dc/elements/1.1/}title")
        assert title.endswith(f"第 {n} 册（共 {len(files)} 册）"), title
        docs = epub_docs(path)
        contents = etree.fromstring(docs["contents.xhtml"])
        for href in contents.xpath("//x:ol[@class='toc-sections']/x:li/x:a/@href", namespaces=X):
            seen += etree.fromstring(docs[href]).xpath("//x:ol[@class='toc-articles']/x:li/x:a/text()", namespaces=X)
    assert seen == [f"图{n}" for n in (5, 6, 7, 0, 1, 2, 3, 4)]  # every article once, in reading order
    assert any("split into" in r.getMessage() for r in caplog.records)
    ids = {etree.fromstring(zipfile.ZipFile(p).read("EPUB/content.opf")).findtext(
        ".//{http://purl.org/dc/elements/1.1/}identifier") for p in files}
    assert len(ids) == len(files)
    # smaller again: the parts go, one book remains (no stale part files)
    assert [p.name for p in build(site, LATE_DAY, ["epub"], tmp_path / "out")] == ["2022-04-19.epub"]
    assert sorted(p.name for p in (tmp_path / "out" / "2022").iterdir()) == ["2022-04-19.epub"]
