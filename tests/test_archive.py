"""The archive: index.html, feed.atom and the OPDS catalog parse, and every link in them resolves."""
from __future__ import annotations

import zipfile
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import html5lib
import pytest
from lxml import etree
from PIL import Image

from digest import load_settings
from digest.archive import catalog as archive
from digest.archive import records as manifest
from digest.build import BuildOptions, build
from tests.conftest import DAY, EXAMPLE, LATE_DAY

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/terms/}"
ACQ = "http://opds-spec.org/acquisition"


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("archive")
    s = load_settings(EXAMPLE)
    build(s, DAY, LATE_DAY, ["html", "epub"], out)
    build(s, DAY, DAY, ["html"], out, BuildOptions(period="week"))
    return out


def resolve(out: Path, doc: Path, href: str) -> Path:
    """The file a relative link in ``doc`` points to; fails for absolute or outside links."""
    assert not urlsplit(href).scheme and not href.startswith("/"), href
    base = "http://h/" + doc.relative_to(out).as_posix()
    target = unquote(urlsplit(urljoin(base, href)).path).lstrip("/")
    path = (out / target).resolve()
    assert path.is_relative_to(out.resolve()) and path.is_file(), f"{doc.name}: {href} does not resolve"
    return path


def xml(path: Path) -> etree._Element:
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()


def test_atom_feed_parses_and_every_link_resolves(out):
    feed = xml(out / "feed.atom")
    assert feed.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{tag}").text
    assert feed.find(f"{ATOM}author/{ATOM}name").text == "ZNing"
    entries = feed.findall(f"{ATOM}entry")
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert titles == ["金融消息 2022-04-19", "金融消息 2021-12-06 – 2021-12-12", "金融消息 2021-12-08"]
    ids = [e.find(f"{ATOM}id").text for e in entries]
    assert len(set(ids)) == 3 and all(i.startswith("urn:uuid:") for i in ids)
    for link in feed.iter(f"{ATOM}link"):
        target = resolve(out, out / "feed.atom", link.get("href"))
        if link.get("length"):
            assert int(link.get("length")) == target.stat().st_size
    enclosures = [link for link in feed.iter(f"{ATOM}link") if link.get("rel") == "enclosure"]
    assert {link.get("type") for link in enclosures} == {"application/epub+zip"}


def opds_feeds(out: Path) -> dict[str, etree._Element]:
    """Every catalog document reachable from opds.xml."""
    seen: dict[str, etree._Element] = {}
    todo = ["opds.xml"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        root = seen[name] = xml(out / name)
        for link in root.iter(f"{ATOM}link"):
            if "profile=opds-catalog" in (link.get("type") or ""):
                todo.append(resolve(out, out / name, link.get("href")).relative_to(out).as_posix())
    return seen


def test_opds_catalog_navigation_and_acquisition_feeds(out):
    feeds = opds_feeds(out)
    assert set(feeds) == {"opds.xml", "opds-all.xml", "opds-day.xml", "opds-week.xml"}
    root = feeds["opds.xml"]
    rels = {link.get("rel"): link for link in root.findall(f"{ATOM}link")}
    assert rels["start"].get("href") == "opds.xml" and "kind=navigation" in rels["start"].get("type")
    nav = {e.find(f"{ATOM}title").text: e.find(f"{ATOM}link") for e in root.findall(f"{ATOM}entry")}
    assert list(nav) == ["最新各期", "日报", "周刊"]
    assert nav["最新各期"].get("rel") == "http://opds-spec.org/sort/new"
    assert all("kind=acquisition" in link.get("type") for link in nav.values())
    for e in root.findall(f"{ATOM}entry"):
        assert e.find(f"{ATOM}id").text and e.find(f"{ATOM}updated").text and e.find(f"{ATOM}content").text

    day = feeds["opds-day.xml"]
    entries = day.findall(f"{ATOM}entry")
    assert [e.find(f"{DC}issued").text for e in entries] == ["2022-04-19", "2021-12-08"]  # newest first
    for e in entries:
        links = {link.get("rel"): link for link in e.findall(f"{ATOM}link")}
        acq = [link for link in e.findall(f"{ATOM}link") if link.get("rel") == ACQ]
        assert {link.get("type") for link in acq} == {"application/epub+zip", "text/html"}
        for link in acq:
            assert int(link.get("length")) == resolve(out, out / "opds-day.xml", link.get("href")).stat().st_size
        with Image.open(resolve(out, out / "opds-day.xml", links["http://opds-spec.org/image"].get("href"))) as im:
            assert im.format == "JPEG" and im.size == (1600, 2560)
        thumb = links["http://opds-spec.org/image/thumbnail"]
        assert thumb.get("type") == "image/jpeg"
        with Image.open(resolve(out, out / "opds-day.xml", thumb.get("href"))) as im:
            assert im.format == "JPEG" and max(im.size) <= 480
    week = feeds["opds-week.xml"].findall(f"{ATOM}entry")
    assert len(week) == 1 and [link.get("type") for link in week[0].findall(f"{ATOM}link")] == ["text/html"]
    for name, doc in feeds.items():
        for link in doc.iter(f"{ATOM}link"):
            resolve(out, out / name, link.get("href"))


def test_cover_is_the_one_inside_the_epub(out):
    epub = out / "2021" / "2021-12-08.epub"
    from digest.editions.epub import cover_of

    data, ext = cover_of(epub)
    assert ext == ".jpg" and (out / "covers" / "2021-12-08.jpg").read_bytes() == data
    with zipfile.ZipFile(epub) as z:
        assert data in [z.read(n) for n in z.namelist() if n.endswith(".jpg")]


def test_index_lists_issues_by_month_with_links_and_sizes(out):
    html = (out / "index.html").read_text(encoding="utf-8")
    doc = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)
    assert [h.text for h in doc.iter("h2")] == ["2022年4月", "2021年12月"]
    hrefs = [a.get("href") for a in doc.iter("a")]
    assert "2021/2021-12-08.epub" in hrefs and "feed.atom" in hrefs and "opds.xml" in hrefs
    for href in hrefs:
        resolve(out, out / "index.html", href)
    size = (out / "2021" / "2021-12-08.epub").stat().st_size
    assert f"EPUB<span class=\"size\">{archive.human_size(size)}</span>" in html
    assert html.count('class="issue"') == 3


def test_opds_pages_follow_next_links(out, tmp_path):
    s = load_settings(EXAMPLE, overrides={"archive": {"opds_page_size": 1, "base_url": "https://d.example/digest"}})
    archive.write_archive(out, s)
    try:
        page, seen = "opds-all.xml", []
        while page:
            root = xml(out / page)
            seen += [e.find(f"{ATOM}title").text for e in root.findall(f"{ATOM}entry")]
            nxt = [link.get("href") for link in root.findall(f"{ATOM}link") if link.get("rel") == "next"]
            page = nxt[0] if nxt else None
        assert seen == ["金融消息 2022-04-19", "金融消息 2021-12-06 – 2021-12-12", "金融消息 2021-12-08"]
        assert xml(out / "feed.atom").get("{http://www.w3.org/XML/1998/namespace}base") == "https://d.example/digest/"
    finally:
        archive.write_archive(out, load_settings(EXAMPLE))


def test_archive_skips_issues_whose_files_are_gone(out, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "2022" / "2022-04-19.epub").unlink()
    items = {i.slug: [d.format for d in i.downloads] for i, _ in archive.issues(copy, load_settings(EXAMPLE))}
    assert items == {"2022-04-19": ["web"], "2021-W49": ["web"], "2021-12-08": ["epub", "web"]}
    assert manifest.load(copy, "2022-04-19") is not None


def test_archive_command_rewrites_the_archive(out, tmp_path):
    import shutil

    from typer.testing import CliRunner

    from digest.cli.app import app

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "index.html").unlink()
    (copy / "2021" / "2021-12-08.epub").unlink()
    r = CliRunner().invoke(app, ["archive", str(EXAMPLE), "-o", str(copy)])
    assert r.exit_code == 0, r.output
    assert str(copy / "index.html") in r.output and str(copy / "opds.xml") in r.output
    html = (copy / "index.html").read_text(encoding="utf-8")
    assert "2022/2022-04-19.epub" in html and "2021/2021-12-08.epub" not in html
    r = CliRunner().invoke(app, ["archive", str(EXAMPLE), "-o", str(tmp_path / "nope")])
    assert r.exit_code == 2 and "output folder not found" in r.output


def test_forced_rebuild_with_the_same_cover_keeps_cover_and_thumbnail(example_site, tmp_path):
    out = tmp_path / "out"
    s = load_settings(example_site)
    build(s, LATE_DAY, LATE_DAY, ["epub"], out)
    slug = LATE_DAY.isoformat()
    cover, thumb = out / "covers" / f"{slug}.jpg", out / "covers" / f"{slug}.thumb.jpg"
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in (cover, thumb)}
    build(s, LATE_DAY, LATE_DAY, ["epub"], out, BuildOptions(force=True))  # the EPUB is rewritten; its cover is the same
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in (cover, thumb)} == before

    config = example_site / "_config.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("title:", "title: 新", 1), encoding="utf-8")
    build(load_settings(example_site), LATE_DAY, LATE_DAY, ["epub"], out, BuildOptions(force=True))
    assert cover.read_bytes() != before[cover][1] and thumb.read_bytes() != before[thumb][1]
    with Image.open(thumb) as im, Image.open(cover) as big:
        assert im.width < big.width
