"""The EPUB edition: EPUBCheck-clean, periodical structure, attribution, metadata, images, fonts, reproducibility."""
from __future__ import annotations

import http.server
import io
import json
import logging
import os
import subprocess
import threading
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath

import pytest
from conftest import DAY, EXAMPLE, LATE_DAY
from lxml import etree
from PIL import Image

from digest import load_settings
from digest.build import make_digest, write_issue
from digest.editions.base import WriteContext
from digest.editions.epub import book as epub_exporter
from digest.editions.epub.images import Images, Refused, fetch
from digest.errors import ConfigError, MissingDependency, ThemeError
from digest.runtime.env import Environment
from digest.theming.loader import load_theme

NO_CACHE = Environment.from_os(cache=False)

NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "x": "http://www.w3.org/1999/xhtml",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "epub": "http://www.idpf.org/2007/ops",
}
JAR = Path(__import__("epubcheck").__file__).parent / "epubcheck.jar"


def build(site: Path, day: date, out: Path, env: Environment | None = None, **overrides):
    settings = load_settings(site, overrides=overrides or None)
    digest = make_digest(settings, day, day, env=Environment.from_os(cache=False))  # SOURCE_DATE_EPOCH as set now
    [path] = write_issue(digest, ["epub"], out, settings=settings, env=env)
    return path, digest


class Book:
    """An EPUB opened for reading: its zip, OPF and documents (paths relative to the OPF folder)."""

    def __init__(self, path: Path):
        self.path = path
        self.zip = zipfile.ZipFile(path)
        container = etree.fromstring(self.zip.read("META-INF/container.xml"))
        self.opf_path = container.find(".//{*}rootfile").get("full-path")
        self.base = PurePosixPath(self.opf_path).parent
        self.opf = etree.fromstring(self.zip.read(self.opf_path))

    def read(self, href: str) -> bytes:
        return self.zip.read(str(self.base / href.split("#")[0]))

    def xml(self, href: str):
        return etree.fromstring(self.read(href))

    def manifest(self) -> dict[str, etree._Element]:
        return {i.get("id"): i for i in self.opf.iterfind("opf:manifest/opf:item", NS)}

    def spine(self) -> list[str]:
        items = self.manifest()
        return [items[r.get("idref")].get("href") for r in self.opf.iterfind("opf:spine/opf:itemref", NS)]

    def meta(self, name: str) -> str | None:
        m = self.opf.find(f"opf:metadata/opf:meta[@name='{name}']", NS)
        return m.get("content") if m is not None else None

    def target(self, href: str):
        """The element a link points at (the document root when there is no fragment)."""
        doc = self.xml(href)
        if "#" not in href:
            return doc
        found = doc.xpath("//*[@id=$id]", id=href.split("#", 1)[1])
        assert found, f"{href}: no such id"
        return found[0]


def epubcheck(path: Path, report: Path) -> subprocess.Popen:
    return subprocess.Popen(["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(JAR), str(path),
                             "--json", str(report)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _images_site(site: Path) -> Path:
    """A site whose post has packaged, inline, table and remote images (for EPUBCheck)."""
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: 测试站\nlang: zh-CN\ntimezone: Asia/Shanghai\nurl: https://example.org\n",
                                      encoding="utf-8")
    body = ("正文。  \n换行&nbsp;之后\x0b。\n\n![大图](/assets/big.png)\n\n文字<img src=\"/assets/alpha.png\">中间\n\n"
            "| a | b |\n|---|---|\n| ![表](/assets/alpha.png) | 2 |\n\n![远程](https://cdn.example.net/x.jpg)\n")
    (site / "_posts" / "2022-04-19-img.md").write_text(
        f"---\ntitle: 有图\ndate: 2022-04-19 10:00:00 +0800\ncategories: emnews\n---\n\n{body}", encoding="utf-8")
    _noise_png(site / "assets" / "big.png", (1600, 900))
    _noise_png(site / "assets" / "alpha.png", (120, 60), "RGBA")
    return site


@pytest.fixture(scope="module")
def books(tmp_path_factory, site_300):
    """One build of each day of examples/finews, the 300-post day and an embedded-font build, shared."""
    out = tmp_path_factory.mktemp("epub")
    built = {
        "finews-2021-12-08": build(EXAMPLE, DAY, out / "a"),
        "finews-2022-04-19": build(EXAMPLE, LATE_DAY, out / "b"),
        "make_site-300": build(site_300, LATE_DAY, out / "c"),
        "embed-fonts": build(EXAMPLE, LATE_DAY, out / "d", epub={"embed_fonts": True}),
        "images": build(_images_site(out / "img-site"), LATE_DAY, out / "e"),
    }
    return {k: (Book(p), d) for k, (p, d) in built.items()}


@pytest.mark.parametrize("name", ["finews-2021-12-08", "make_site-300", "embed-fonts", "images"])
def test_an_independent_reader_reads_the_book_back(books, name):
    """ebooklib (another implementation of the OCF/OPF/NCX rules) reads what digest wrote: the same title,
    language, identifier, reading order and table of contents."""
    import warnings

    from ebooklib import ITEM_DOCUMENT, ITEM_IMAGE
    from ebooklib import epub as ebooklib_epub

    book, digest = books[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ebooklib's own deprecation notices
        read = ebooklib_epub.read_epub(str(book.path), {"ignore_ncx": False})
    assert read.get_metadata("DC", "title")[0][0] == digest.title
    assert read.get_metadata("DC", "language")[0][0] == digest.lang
    assert read.get_metadata("DC", "identifier")[0][0] == book.opf.findtext("opf:metadata/dc:identifier", namespaces=NS)
    spine = [read.get_item_with_id(idref).get_name() for idref, _ in read.spine]
    assert spine == [book.manifest()[i.get("idref")].get("href") for i in book.opf.iterfind("opf:spine/opf:itemref", NS)]
    assert all(read.get_item_with_href(name) is not None for name in spine)
    assert [s.title for s, _ in read.toc] == [s.title for s in digest.sections]
    assert sum(len(links) for _, links in read.toc) == digest.count
    documents = list(read.get_items_of_type(ITEM_DOCUMENT))
    assert len(documents) >= len(spine)
    if name == "images":
        assert list(read.get_items_of_type(ITEM_IMAGE))


@pytest.fixture(scope="module")
def epubcheck_reports(books, tmp_path_factory):
    """EPUBCheck every book (in parallel: each run is a JVM of several seconds)."""
    out = tmp_path_factory.mktemp("epubcheck")
    procs = {k: (epubcheck(b.path, out / f"{k}.json"), out / f"{k}.json") for k, (b, _) in books.items()}
    reports = {}
    for k, (proc, report) in procs.items():
        proc.wait(timeout=600)
        reports[k] = json.loads(report.read_text(encoding="utf-8"))
    return reports


# -- validity ------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", ["finews-2021-12-08", "finews-2022-04-19", "make_site-300", "embed-fonts", "images"])
def test_epubcheck_reports_no_errors_and_no_warnings(epubcheck_reports, name):
    report = epubcheck_reports[name]
    bad = [f"{m['severity']} {m['ID']}: {m['message']} @ {m.get('locations', [{}])[0].get('path')}"
           for m in report["messages"] if m["severity"] in ("FATAL", "ERROR", "WARNING")]
    assert report["checker"]["nFatal"] == report["checker"]["nError"] == report["checker"]["nWarning"] == 0, bad[:10]
    assert report["publication"]["ePubVersion"].startswith("3")


def test_every_document_is_well_formed_xhtml_without_scripts(books):
    for book, _ in books.values():
        docs = [i.get("href") for i in book.manifest().values() if i.get("media-type") == "application/xhtml+xml"]
        assert docs
        for href in docs:
            doc = book.xml(href)
            assert doc.tag == f"{{{NS['x']}}}html"
            assert not doc.xpath("//x:script | //*[@*[starts-with(local-name(), 'on')]]", namespaces=NS), href
        props = " ".join(i.get("properties") or "" for i in book.manifest().values())
        assert "scripted" not in props and "remote-resources" not in props


# -- structure -----------------------------------------------------------------------------------
def _nav_tree(book: Book):
    nav = book.xml("nav.xhtml").find(".//x:nav[@epub:type='toc']", NS)
    out = []
    for li in nav.find("x:ol", NS).findall("x:li", NS):
        a = li.find("x:a", NS)
        kids = [(k.find("x:a", NS).text, k.find("x:a", NS).get("href")) for k in li.find("x:ol", NS).findall("x:li", NS)]
        out.append((a.text, a.get("href"), kids))
    return out


def _ncx_tree(book: Book):
    ncx = book.xml("toc.ncx")
    out = []
    for np in ncx.find("ncx:navMap", NS).findall("ncx:navPoint", NS):
        kids = [(k.findtext("ncx:navLabel/ncx:text", namespaces=NS), k.find("ncx:content", NS).get("src"))
                for k in np.findall("ncx:navPoint", NS)]
        out.append((np.findtext("ncx:navLabel/ncx:text", namespaces=NS), np.find("ncx:content", NS).get("src"), kids))
    return out, ncx


@pytest.mark.parametrize("name", ["finews-2021-12-08", "finews-2022-04-19", "make_site-300"])
def test_nav_and_ncx_nest_sections_then_articles_in_digest_order(books, name):
    book, digest = books[name]
    nav = _nav_tree(book)
    ncx, ncx_doc = _ncx_tree(book)
    for tree in (nav, ncx):
        assert [t for t, _, _ in tree] == [s.title for s in digest.sections]
        for (_title, href, kids), section in zip(tree, digest.sections, strict=True):
            assert book.target(href).find(".//x:h1", NS).text == section.title
            assert [k[0] for k in kids] == [p.title for p in section.posts]
            for (_k_title, k_href), post in zip(kids, section.posts, strict=True):
                article = book.target(k_href)
                if article.tag.endswith("html"):
                    article = article.find(".//x:article", NS)
                assert article.get("id") == post.id
    assert ncx_doc.find("ncx:head/ncx:meta[@name='dtb:depth']", NS).get("content") == "2"
    assert ncx_doc.find("ncx:head/ncx:meta[@name='dtb:uid']", NS).get("content") == \
        book.opf.findtext("opf:metadata/dc:identifier", namespaces=NS)


def test_busy_day_has_one_document_per_article_and_small_day_one_per_section(books):
    big, digest = books["make_site-300"]
    spine = big.spine()
    expected = ["cover.xhtml", "contents.xhtml"]
    for s in digest.sections:
        expected += [f"{s.anchor}.xhtml"] + [f"{p.id}.xhtml" for p in s.posts]
    assert spine == expected
    small, digest = books["finews-2021-12-08"]
    assert small.spine() == ["cover.xhtml", "contents.xhtml"] + [f"{s.anchor}.xhtml" for s in digest.sections]
    # readers stay fast: no document is huge
    for book, _ in books.values():
        assert max(i.file_size for i in book.zip.infolist() if i.filename.endswith(".xhtml")) < 400_000


def test_contents_page_lists_sections_and_section_pages_list_articles_and_summaries(books):
    from digest.theming.teaser import teaser

    book, digest = books["make_site-300"]
    doc = book.xml("contents.xhtml")
    entries = doc.findall(".//x:ol[@class='toc-sections']/x:li", NS)
    assert [li.findtext("x:a", namespaces=NS) for li in entries] == [s.title for s in digest.sections]
    assert [li.get("id") for li in entries] == [f"toc-{s.anchor}" for s in digest.sections]
    for li, section in zip(entries, digest.sections, strict=True):
        assert li.findtext("x:span", namespaces=NS) == f"{len(section.posts)} 篇文章"
        page = book.xml(li.find("x:a", NS).get("href"))
        items = page.findall(".//x:ol[@class='toc-articles']/x:li", NS)
        assert [li.findtext("x:a", namespaces=NS) for li in items] == [p.title for p in section.posts]
        assert [li.findtext("x:span[@class='summary']", namespaces=NS) or "" for li in items] == \
            [teaser(p) for p in section.posts]
    assert sum(1 for p in digest.posts if teaser(p)) > 100  # the long articles keep theirs


@pytest.mark.parametrize("name", ["finews-2021-12-08", "make_site-300"])
def test_every_article_has_attribution_and_navigation(books, name):
    book, digest = books[name]
    posts = digest.posts
    nav_hrefs = [a.get("href") for a in book.xml("nav.xhtml").xpath("//x:li/x:ol/x:li/x:a", namespaces=NS)]
    assert len(nav_hrefs) == len(posts)
    for i, (post, h) in enumerate(zip(posts, nav_hrefs, strict=True)):
        article = book.target(h)
        if article.tag.endswith("html"):
            article = article.find(".//x:article", NS)
        assert article.findtext(".//x:*[@class='article-title']", namespaces=NS) == post.title
        assert article.find(".//x:time", NS).get("datetime") == post.date.isoformat()
        attribution = article.find("x:p[@class='attribution']", NS)
        a = post.attribution
        if a.outlet:
            assert a.outlet in attribution.findtext("x:span[@class='outlet']", namespaces=NS)
        if a.original_url:
            assert attribution.find("x:a[@class='original']", NS).get("href") == a.original_url
        assert attribution.find("x:a[@class='on-site']", NS).get("href") == a.post_url
        pager = article.getnext()
        anchor = digest.section_of(post).anchor
        want = ([nav_hrefs[i - 1]] if i else []) + ([nav_hrefs[i + 1]] if i + 1 < len(posts) else [])
        if pager.get("class") == "pager compact":  # a short item in its section's document: one line
            links = [x.get("href") for x in pager.findall("x:a", NS)]
            assert [h for h in links if h in nav_hrefs] == want
            assert f"{anchor}.xhtml#t-{post.id}" in links
            continue
        assert pager.get("class") == "pager"
        prev = pager.find("x:p[@class='prev']/x:a", NS)
        nxt = pager.find("x:p[@class='next']/x:a", NS)
        assert (prev.get("href") if prev is not None else None) == (nav_hrefs[i - 1] if i else None)
        assert (nxt.get("href") if nxt is not None else None) == (nav_hrefs[i + 1] if i + 1 < len(posts) else None)
        up = [x.get("href") for x in pager.findall("x:p[@class='up']/x:a", NS)]
        assert up == [f"{anchor}.xhtml#t-{post.id}", f"contents.xhtml#toc-{anchor}"]
        assert book.target(up[0]).get("id") == f"t-{post.id}" and book.target(up[1]).get("id") == f"toc-{anchor}"


# -- metadata ------------------------------------------------------------------------------------
def test_metadata_title_language_date_identifier_series(books):
    book, digest = books["finews-2021-12-08"]
    md = book.opf.find("opf:metadata", NS)
    assert md.findtext("dc:title", namespaces=NS) == "金融消息 2021-12-08"
    assert md.findtext("dc:language", namespaces=NS) == "zh-CN"
    assert md.findtext("dc:date", namespaces=NS) == "2021-12-08"
    assert md.findtext("dc:creator", namespaces=NS) == "ZNing"  # author from _config.yml
    ident = md.findtext("dc:identifier", namespaces=NS)
    assert ident.startswith("urn:uuid:") and ident == epub_exporter.identifier(digest)
    assert ident != books["finews-2022-04-19"][0].opf.findtext("opf:metadata/dc:identifier", namespaces=NS)
    assert book.meta("calibre:series") == "金融消息"
    assert book.meta("calibre:series_index") == "20211208"
    assert md.findtext("opf:meta[@property='belongs-to-collection']", namespaces=NS) == "金融消息"
    assert md.findtext("opf:meta[@property='group-position']", namespaces=NS) == "20211208"
    modified = md.findtext("opf:meta[@property='dcterms:modified']", namespaces=NS)
    assert modified == digest.generated.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    a11y = {m.get("property"): m.text for m in md.iterfind("opf:meta", NS) if m.get("property", "").startswith("schema:")}
    assert a11y["schema:accessModeSufficient"] == "textual" and a11y["schema:accessibilityHazard"] == "none"
    for doc in ("contents.xhtml", "s-emnews.xhtml", "nav.xhtml"):
        root = book.xml(doc)
        assert root.get("lang") == root.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-CN"


def test_cover_is_generated_and_marked_in_the_opf(books):
    book, _digest = books["make_site-300"]
    items = book.manifest()
    cover_id = book.meta("cover")
    cover = items[cover_id]
    assert cover.get("properties") == "cover-image" and cover.get("media-type") == "image/jpeg"
    with Image.open(io.BytesIO(book.read(cover.get("href")))) as im:
        assert im.size == (1600, 2560) and im.format == "JPEG"
        # not blank: the title and the headlines are drawn in ink on paper
        assert len(im.convert("L").getcolors(1 << 16)) > 50
    page = book.xml("cover.xhtml")
    assert page.find(".//x:img", NS).get("src") == cover.get("href")
    assert book.opf.find("opf:guide/opf:reference[@type='cover']", NS).get("href") == "cover.xhtml"
    landmarks = book.xml("nav.xhtml").find(".//x:nav[@epub:type='landmarks']", NS)
    assert [a.get(f"{{{NS['epub']}}}type") for a in landmarks.iter(f"{{{NS['x']}}}a")] == ["cover", "toc", "bodymatter"]


def test_cover_headlines_take_sections_in_turn(books):
    from digest.editions.epub.cover import HEADLINES

    _, digest = books["make_site-300"]
    heads = list(digest.top_headlines(HEADLINES))
    assert heads == [s.posts[0] for s in digest.sections][:6]


# -- reproducibility -----------------------------------------------------------------------------
def test_two_builds_are_byte_identical(books, tmp_path):
    again, _ = build(EXAMPLE, DAY, tmp_path)
    assert again.read_bytes() == books["finews-2021-12-08"][0].path.read_bytes()


def test_busy_day_rebuild_is_byte_identical(books, site_300, tmp_path):
    again, _ = build(site_300, LATE_DAY, tmp_path)
    assert again.read_bytes() == books["make_site-300"][0].path.read_bytes()


def test_zip_layout_is_fixed_and_source_date_epoch_is_honoured(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    path, _digest = build(EXAMPLE, LATE_DAY, tmp_path)
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        assert infos[0].filename == "mimetype" and infos[0].compress_type == zipfile.ZIP_STORED
        assert z.read("mimetype") == b"application/epub+zip" and infos[0].extra == b""
        want = datetime.fromtimestamp(1700000000, UTC)
        assert {i.date_time for i in infos} == {(want.year, want.month, want.day, want.hour, want.minute, want.second)}
    assert Book(path).opf.findtext("opf:metadata/opf:meta[@property='dcterms:modified']", namespaces=NS) == \
        "2023-11-14T22:13:20Z"
    raw = path.read_bytes()
    assert raw[30:38] == b"mimetype"  # first local header names the mimetype, as readers expect


# -- images --------------------------------------------------------------------------------------
def _noise_png(path: Path, size: tuple[int, int], mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.effect_noise(size, 60).convert(mode)
    if mode == "RGBA":
        im.putalpha(128)
    im.save(path)


@pytest.fixture
def image_site(make_post, tmp_path):
    body = (
        "正文开始。\n\n![本地大图](/assets/big.png)\n\n![透明图](/assets/alpha.png)\n\n"
        "![远程图](https://cdn.example.net/x.jpg)\n\n![越界](/%2e%2e/secret.png)\n\n"
        "![软链接](/assets/link.png)\n\n![缺失](/assets/missing.png)\n\n![坏图](/assets/broken.png)\n\n"
        "再次引用：![本地大图](https://example.org/assets/big.png)\n"
    )
    site = make_post("2022-04-19-img.md", "title: 有图的文章\ndate: 2022-04-19 10:00:00 +0800\ncategories: emnews", body)
    _noise_png(site / "assets" / "big.png", (3000, 2000))
    _noise_png(site / "assets" / "alpha.png", (200, 100), "RGBA")
    (site / "assets" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    secret = tmp_path / "secret.png"
    _noise_png(secret, (50, 50))
    (site / "assets" / "link.png").symlink_to(secret)
    return site


def test_local_images_are_packaged_scaled_and_the_rest_become_alt_text(image_site, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="digest.epub")
    path, digest = build(image_site, LATE_DAY, tmp_path / "out")
    book = Book(path)
    doc = book.xml(f"{digest.sections[0].anchor}.xhtml")
    imgs = doc.findall(".//x:img", NS)
    srcs = [i.get("src") for i in imgs]
    assert len(srcs) == 3 and srcs[0] == srcs[2]  # big (twice, stored once) and alpha
    items = {i.get("href"): i for i in book.manifest().values()}
    with Image.open(io.BytesIO(book.read(srcs[0]))) as im:
        assert im.format == "JPEG" and im.size == (1072, 715)
    assert items[srcs[0]].get("media-type") == "image/jpeg"
    with Image.open(io.BytesIO(book.read(srcs[1]))) as im:
        assert im.format == "PNG" and im.mode == "RGBA" and im.size == (200, 100)
    assert [i.get("alt") for i in imgs] == ["本地大图", "透明图", "本地大图"]
    assert len([n for n in book.zip.namelist() if n.startswith("EPUB/images/") and "cover" not in n]) == 2
    notes = doc.findall(".//x:a[@class='image-note']", NS)  # each image left out: a note linking to it
    assert [n.text for n in notes] == [f"图片未收录，原文可见：{alt}" for alt in ("远程图", "越界", "软链接", "缺失", "坏图")]
    assert notes[0].get("href") == "https://cdn.example.net/x.jpg"
    assert notes[3].get("href") == "https://example.org/assets/missing.png"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("outside the site folder" in w for w in warnings)
    assert sum("outside the site folder" in w for w in warnings) == 2  # ../ and the symlink
    assert any("image not found" in w for w in warnings) and any("broken image" in w for w in warnings)
    assert all(w.startswith("_posts/2022-04-19-img.md: ") for w in warnings)
    assert not any("cdn.example.net" in w for w in warnings)  # not fetching is the default, not a problem
    assert b"secret" not in b"".join(book.zip.read(n) for n in book.zip.namelist() if n.startswith("EPUB/images/"))


class _Handler(http.server.BaseHTTPRequestHandler):
    png = b""

    def do_GET(self):
        if self.path == "/img.png":
            body, ctype = self.png, "image/png"
        elif self.path == "/page":
            body, ctype = b"<html></html>", "text/html"
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/img.png")
            self.end_headers()
            return
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def image_server():
    buf = io.BytesIO()
    Image.effect_noise((400, 300), 50).convert("RGB").save(buf, "PNG")
    _Handler.png = buf.getvalue()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_remote_fetch_is_opt_in_checked_and_capped(image_server, make_post):
    site = make_post("2022-04-19-a.md", "title: t\ndate: 2022-04-19 10:00:00 +0800")
    url = f"{image_server}/img.png"
    with pytest.raises(Refused, match="not fetched"):
        Images(load_settings(site)).pack(url)  # off by default
    on = load_settings(site, overrides={"network": {"fetch_images": True}})
    with pytest.raises(Refused, match="loopback"):
        Images(on).pack(url)  # private and loopback addresses are refused unless allowed
    allowed = load_settings(site, overrides={"network": {"fetch_images": True, "allow_private": True}})
    packed = Images(allowed).pack(url)
    assert packed.media_type == "image/jpeg" and packed.data[:2] == b"\xff\xd8"
    assert Images(allowed).pack(f"{image_server}/redirect").data == packed.data
    with pytest.raises(Refused, match="content type text/html"):
        fetch(f"{image_server}/page", timeout=5, max_bytes=10**6, allow_private=True)
    with pytest.raises(Refused, match="larger than 100 bytes"):
        fetch(url, timeout=5, max_bytes=100, allow_private=True)
    with pytest.raises(Refused, match="only http and https"):
        fetch("ftp://example.org/x.png", timeout=5, max_bytes=100, allow_private=True)
    with pytest.raises(Refused, match="private or loopback"):
        fetch(f"{image_server}/redirect".replace("127.0.0.1", "localhost"), timeout=5, max_bytes=10**6,
              allow_private=False)


def test_remote_image_fetched_into_the_book_when_enabled(image_server, make_post, tmp_path):
    site = make_post("2022-04-19-a.md", "title: t\ndate: 2022-04-19 10:00:00 +0800",
                     f"正文。\n\n![远程]({image_server}/img.png)\n")
    path, digest = build(site, LATE_DAY, tmp_path, network={"fetch_images": True, "allow_private": True})
    book = Book(path)
    img = book.xml(f"{digest.sections[0].anchor}.xhtml").find(".//x:img", NS)
    assert img.get("src").startswith("images/") and img.get("alt") == "远程"
    with Image.open(io.BytesIO(book.read(img.get("src")))) as im:
        assert im.size == (400, 300)


def test_html_only_markup_becomes_well_formed_xhtml(make_post, tmp_path):
    site = make_post("2022-04-19-a.md", "title: 换行 & <标题>\ndate: 2022-04-19 10:00:00 +0800",
                     "第一行  \n第二行&nbsp;结束\x0c。\n\n<p>段落<br>内<hr></p>\n\n---\n")
    path, digest = build(site, LATE_DAY, tmp_path)
    book = Book(path)
    doc = book.xml(f"{digest.sections[0].anchor}.xhtml")  # parses as XML: well-formed
    body = doc.find(".//x:div[@class='body']", NS)
    assert len(body.findall(".//x:br", NS)) == 2 and len(body.findall(".//x:hr", NS)) >= 1
    assert "第二行\u00a0结束。" in "".join(body.itertext())
    assert doc.findtext(".//x:h2", namespaces=NS) == "换行 & <标题>"


def test_wbr_stays_empty_in_xhtml(make_post, tmp_path):
    """libxml2's HTML parser does not know ``<wbr>`` as void: it held the rest of the paragraph (attack corpus a296,
    bleach's ``&<WBR>#114;``), which EPUBCheck refuses (RSC-005)."""
    site = make_post("2022-04-19-a.md", "title: wbr\ndate: 2022-04-19 10:00:00 +0800",
                     "le&<WBR>#114;t('X&#83<WBR>;S'&#41>\n\nlong<wbr>word <img src=\"https://example.org/x.png\">\n")
    path, digest = build(site, LATE_DAY, tmp_path)
    doc = Book(path).xml(f"{digest.sections[0].anchor}.xhtml")
    body = doc.find(".//x:div[@class='body']", NS)
    breaks = body.findall(".//x:wbr", NS)
    assert len(breaks) == 3 and all(len(b) == 0 and not b.text for b in breaks)
    text = "".join(body.itertext())
    assert "le&#114;t(" in text and "X&#83;S" in text and "longword" in text


# -- fonts, cover options, themes, size ----------------------------------------------------------
def test_embedded_font_is_a_subset_covering_exactly_the_text(books):
    from fontTools.ttLib import TTFont

    book, digest = books["embed-fonts"]
    fonts = [i for i in book.manifest().values() if i.get("href").startswith("fonts/")]
    assert len(fonts) == 1 and fonts[0].get("media-type") in ("font/otf", "font/ttf")
    data = book.read(fonts[0].get("href"))
    assert len(data) < 1_500_000
    cmap = TTFont(io.BytesIO(data)).getBestCmap()
    text = "".join(p.title + p.text for p in digest.posts) + digest.site_title
    missing = {c for c in text if c.strip() and ord(c) not in cmap}
    assert not missing
    assert len(cmap) < 2 * len(set(text)) + 200  # a subset, not the whole font
    css = book.read("style/epub.css").decode()
    assert "@font-face" in css and fonts[0].get("href") in css
    assert not any(i.get("href").startswith("fonts/") for i in books["finews-2022-04-19"][0].manifest().values())


def test_cover_off_and_cover_image_setting(example_site, tmp_path):
    path, _ = build(example_site, LATE_DAY, tmp_path / "off", epub={"cover": False})
    book = Book(path)
    assert book.meta("cover") is None and book.spine()[0] == "contents.xhtml"
    _noise_png(example_site / "art" / "cover.png", (800, 1280))
    path, _ = build(example_site, LATE_DAY, tmp_path / "own", epub={"cover_image": "art/cover.png"})
    book = Book(path)
    cover = book.manifest()[book.meta("cover")]
    assert cover.get("media-type") == "image/png"
    assert book.read(cover.get("href")) == (example_site / "art" / "cover.png").read_bytes()
    with pytest.raises(ConfigError, match="cover_image: file not found"):
        build(example_site, LATE_DAY, tmp_path / "x", epub={"cover_image": "art/none.png"})


def test_theme_supplies_cover_and_templates(example_site, tmp_path):
    over = example_site / "tpl" / "epub"
    _noise_png(over / "cover.png", (600, 960))
    (over / "cover.xhtml.j2").write_text(
        '{% extends "epub/layout.xhtml.j2" %}{% block body %}<p class="mine"><img src="{{ cover_src }}" alt=""/>'
        "</p>{% endblock %}", encoding="utf-8")
    path, _ = build(example_site, LATE_DAY, tmp_path, template_overrides="tpl")
    book = Book(path)
    assert book.read(book.manifest()[book.meta("cover")].get("href")) == (over / "cover.png").read_bytes()
    assert book.xml("cover.xhtml").find(".//x:p[@class='mine']", NS) is not None


def test_malformed_theme_template_is_a_one_line_theme_error(example_site, tmp_path):
    over = example_site / "tpl" / "epub"
    over.mkdir(parents=True)
    (over / "contents.xhtml.j2").write_text('{% extends "epub/layout.xhtml.j2" %}{% block body %}<p>open'
                                            "{% endblock %}", encoding="utf-8")
    with pytest.raises(ThemeError) as e:
        build(example_site, LATE_DAY, tmp_path, template_overrides="tpl")
    assert "contents.xhtml.j2" in str(e.value) and "not well-formed" in str(e.value)
    assert "\n" not in str(e.value)


def test_size_above_the_limit_is_fitted_and_said(example_site, tmp_path, caplog):
    """(Images scaled, then parts: tests/test_reader.py.) ``warn_size_mb`` is still read, as the old name."""
    caplog.set_level(logging.WARNING, logger="digest.epub")
    path, _ = build(example_site, LATE_DAY, tmp_path, epub={"warn_size_mb": 0.05})  # one article, no image
    said = [r.getMessage() for r in caplog.records]
    assert any("Send-to-Kindle limit" in m for m in said)
    assert path.stat().st_size > 0.05 * 1024 * 1024 and any("still too big" in m for m in said)  # never silently
    caplog.clear()
    build(example_site, LATE_DAY, tmp_path)
    assert not caplog.records


def test_week_issue_shows_dates_and_has_its_own_identifier(make_post, tmp_path):
    make_post("2022-04-18-a.md", "title: 周一\ndate: 2022-04-18 09:30:00 +0800\ncategories: emnews")
    site = make_post("2022-04-20-b.md", "title: 周三\ndate: 2022-04-20 14:05:00 +0800\ncategories: emnews")
    settings = load_settings(site)
    digest = make_digest(settings, date(2022, 4, 18), date(2022, 4, 24), period="week", env=NO_CACHE)
    [path] = write_issue(digest, ["epub"], tmp_path, settings=settings, env=NO_CACHE)
    assert path.name == "2022-W16.epub"
    book = Book(path)
    times = [t.text for t in book.xml(f"{digest.sections[0].anchor}.xhtml").xpath(
        "//x:ol[@class='toc-articles']//x:time", namespaces=NS)]
    assert times == ["04-18 09:30", "04-20 14:05"]
    day = make_digest(settings, date(2022, 4, 18), date(2022, 4, 18), env=NO_CACHE)
    assert epub_exporter.identifier(digest) != epub_exporter.identifier(day)
    assert book.opf.findtext("opf:metadata/dc:title", namespaces=NS) == "测试站 2022-04-18 – 2022-04-24"


def test_unusable_cjk_font_is_a_missing_dependency(example_site, tmp_path):
    with pytest.raises(MissingDependency, match="configured CJK font not found"):
        build(example_site, LATE_DAY, tmp_path, epub={"font": str(tmp_path / "none.otf")})
    bad = tmp_path / "bad.otf"
    bad.write_bytes(b"not a font")
    with pytest.raises(MissingDependency, match="cannot read font"):
        build(example_site, LATE_DAY, tmp_path, epub={"font": str(bad)})
    with pytest.raises(MissingDependency, match="cannot read font"):
        build(example_site, LATE_DAY, tmp_path, epub={"font": str(bad), "cover": False, "embed_fonts": True})
    assert not list(tmp_path.rglob("*.epub"))  # nothing half-written


def test_cli_builds_are_identical_across_processes(tmp_path):
    import sys

    exe = Path(sys.executable).parent / "digest"
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed, "DIGEST_CACHE_DIR": str(tmp_path / f"cache{seed}")}
        run = subprocess.run([str(exe), "build", str(EXAMPLE), "--date", "2021-12-08", "--format", "epub",
                              "--out", str(out), "-q"], env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        outs.append(out / "2021" / "2021-12-08.epub")
    assert outs[0].read_bytes() == outs[1].read_bytes()


def test_drawn_cover_is_reused_until_what_it_shows_changes(example_site, tmp_path, monkeypatch):
    from digest.editions.epub import cover as epub_cover
    from digest.runtime import parallel
    monkeypatch.setattr(parallel, "spare_cores", lambda: 1)  # drawn in this process, where draws are counted
    drawn: list[bytes] = []
    real_draw = epub_cover._draw

    def counting_draw(inputs):
        drawn.append(data := real_draw(inputs))
        return data

    monkeypatch.setattr(epub_cover, "_draw", counting_draw)
    first, _ = build(example_site, LATE_DAY, tmp_path / "a")
    again, _ = build(example_site, LATE_DAY, tmp_path / "b")
    assert len(drawn) == 1  # the second build took the cover from the cache
    cover = lambda p: Book(p).read(Book(p).manifest()[Book(p).meta("cover")].get("href"))
    assert cover(again) == cover(first) == drawn[0]
    assert first.read_bytes() == again.read_bytes()

    # what the cover shows changed (the site title): drawn again, and it differs
    config = example_site / "_config.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("title:", "title: 新", 1), encoding="utf-8")
    retitled, _ = build(example_site, LATE_DAY, tmp_path / "c")
    assert len(drawn) == 2 and cover(retitled) != cover(first)

    # --no-cache: neither read nor written
    build(example_site, LATE_DAY, tmp_path / "d", env=NO_CACHE)
    assert len(drawn) == 3


def test_cover_drawn_in_a_worker_process_is_the_same_and_a_failed_book_stops_it(example_site, tmp_path, monkeypatch):
    from digest.editions.epub import cover as epub_cover
    from digest.runtime import parallel
    settings = load_settings(example_site)
    digest = make_digest(settings, LATE_DAY, LATE_DAY, env=NO_CACHE)
    ctx = WriteContext(tmp_path, load_theme(settings), settings, NO_CACHE)
    if True:  # --no-cache: nothing read or written
        pending = epub_cover.start_cover(digest, ctx)
        child = pending._drawing._child
        assert child.pid != os.getpid()  # drawing elsewhere
        data, ext = pending.result()
        assert ext == "jpg" and not child.is_alive()
        real_spare_cores = parallel.spare_cores
        monkeypatch.setattr(parallel, "spare_cores", lambda: 1)
        in_process = epub_cover.start_cover(digest, ctx)
        assert in_process._drawing is None and in_process.result() == (data, ext)
        monkeypatch.setattr(parallel, "spare_cores", real_spare_cores)
        # a book that fails while its cover is being drawn leaves no process behind
        stopped = epub_cover.start_cover(digest, ctx)
        child = stopped._drawing._child
        stopped.cancel()
        assert not child.is_alive() and child.exitcode is not None
