"""The PDF edition, read back with pypdf and poppler (pdftotext, pdffonts): text order, fonts, bookmarks,
contents page numbers, footers, links, metadata, page sizes, reproducibility, missing fonts."""
from __future__ import annotations

import dataclasses
import logging
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import EXAMPLE, LATE_DAY, make_big_site
from pypdf import PdfReader

from digest import load_settings
from digest.build import make_digest, write_issue
from digest.editions.pdf import plan as pdf_plan
from digest.editions.pdf import render as pdf_render
from digest.errors import ConfigError
from digest.theming.loader import load_theme

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext") or not shutil.which("pdffonts"),
                                reason="poppler-utils not installed")
DAY = date(2022, 4, 19)
MM = 72 / 25.4


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def build(site: Path, out: Path, day: date, cache: Path, **pdf):
    """Build the PDF of ``day``; returns (path, digest, warnings logged by the exporter)."""
    old = os.environ.get("DIGEST_CACHE_DIR")
    os.environ["DIGEST_CACHE_DIR"] = str(cache)
    capture = _Capture()
    logger = logging.getLogger("digest.pdf")
    logger.addHandler(capture)
    try:
        settings = load_settings(site, overrides={"pdf": pdf} if pdf else None)
        digest = make_digest(settings, day, day)
        files = write_issue(digest, ["pdf"], out, theme=load_theme(settings), settings=settings)
    finally:
        logger.removeHandler(capture)
        if old is None:
            os.environ.pop("DIGEST_CACHE_DIR", None)
        else:
            os.environ["DIGEST_CACHE_DIR"] = old
    assert len(files) == 1 and files[0].suffix == ".pdf"
    return files[0], digest, capture.messages


def text(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    cmd = ["pdftotext", "-enc", "UTF-8"]
    if first:
        cmd += ["-f", str(first)]
    if last:
        cmd += ["-l", str(last)]
    return subprocess.run([*cmd, str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def pages_text(pdf: Path) -> list[str]:
    return [squash(t) for t in text(pdf).split("\f")[:-1]]


def outline(reader: PdfReader) -> list[tuple[str, int, list[tuple[str, int]]]]:
    """Top-level bookmarks as (title, page index, [(child title, page index)])."""
    out: list[tuple[str, int, list[tuple[str, int]]]] = []
    for item in reader.outline:
        if isinstance(item, list):
            out[-1][2].extend((c.title, reader.get_destination_page_number(c)) for c in item)
        else:
            out.append((item.title, reader.get_destination_page_number(item), []))
    return out


class _Words(HTMLParser):
    """Words and their boxes from ``pdftotext -bbox``: [(page index, xmin, ymin, xmax, ymax, word)]."""

    def __init__(self) -> None:
        super().__init__()
        self.page = -1
        self.words: list[tuple[int, float, float, float, float, str]] = []
        self._box: tuple[float, ...] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "page":
            self.page += 1
        elif tag == "word":
            self._box = tuple(float(a[k]) for k in ("xmin", "ymin", "xmax", "ymax"))

    def handle_data(self, data):
        if self._box is not None:
            self.words.append((self.page, *self._box, data))
            self._box = None


def contents_numbers(pdf: Path, front_pages: int) -> list[tuple[int, int]]:
    """(printed number, page index its link goes to) for every linked number in the contents, in order."""
    reader = PdfReader(pdf)
    html = subprocess.run(["pdftotext", "-bbox", "-l", str(front_pages), str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    parser = _Words()
    parser.feed(html)
    out = []
    for index in range(1, front_pages):
        page = reader.pages[index]
        height = float(page.mediabox.height)
        links = []
        for annot in page.get("/Annots") or []:
            a = annot.get_object()
            if a.get("/Subtype") == "/Link" and "/Dest" in a:
                xa, ya, xb, yb = (float(v) for v in a["/Rect"])
                links.append((min(xa, xb), height - max(ya, yb), max(xa, xb), height - min(ya, yb), a["/Dest"]))
        for page_no, x1, y1, x2, y2, word in parser.words:
            if page_no != index or not word.isdigit():
                continue
            dests = [d for lx1, ly1, lx2, ly2, d in links
                     if lx1 - 1 <= x1 and x2 <= lx2 + 1 and ly1 - 1 <= y1 and y2 <= ly2 + 1]
            if dests:
                out.append((int(word), dest_page(reader, dests[0])))
    return out


def dest_page(reader: PdfReader, dest) -> int:
    """Page index of a link's /Dest: an explicit [page /XYZ …] array or a named destination."""
    if isinstance(dest, str):
        return reader.get_destination_page_number(reader.named_destinations[dest])
    return [p.indirect_reference for p in reader.pages].index(dest[0])


# ------------------------------------------------------------------ one multi-section day, built once

@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    """A 40-post day in 6 sections (make_site.py), laid out by 2 workers in 4+ chunks."""
    root = tmp_path_factory.mktemp("pdf-multi")
    site = make_big_site(root / "site", 40)
    path, digest, warnings = build(site, root / "out", DAY, root / "cache", workers=2)
    return path, digest, warnings


def test_titles_and_attributions_in_body_order(multi):
    path, digest, _ = multi
    reader = PdfReader(path)
    first_body = outline(reader)[1][1]  # the first section's page
    body = squash(text(path, first=first_body + 1))
    pos = 0
    posts = list(digest.posts)
    assert len(posts) == 40 and len(digest.sections) > 1
    for i, post in enumerate(posts):
        at = body.find(squash(post.title), pos)
        assert at >= 0, f"title of {post.path} missing or out of order"
        end = body.find(squash(posts[i + 1].title), at) if i + 1 < len(posts) else len(body)
        if post.attribution.outlet:
            assert "来源：" + squash(post.attribution.outlet) in body[at:end], post.path
        pos = at + 1


def test_fonts_embedded_cjk_and_no_missing_glyphs(multi):
    path, _, warnings = multi
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    assert rows
    assert any("CJK" in r[0] for r in rows)
    for r in rows:
        assert r[-5:-2] == ["yes", "yes", "yes"], r  # embedded, subset, with a ToUnicode map
    assert not [w for w in warnings if "no glyph" in w]


def test_bookmarks_nest_sections_and_articles(multi):
    path, digest, _ = multi
    reader = PdfReader(path)
    marks = outline(reader)
    assert marks[0][0] == "目录"
    assert [m[0] for m in marks[1:]] == [s.title for s in digest.sections]
    pages = pages_text(path)
    for (_title, page, children), section in zip(marks[1:], digest.sections, strict=True):
        assert [c[0] for c in children] == [p.title for p in section.posts]
        assert squash(section.title) in pages[page]
        for (child, child_page), post in zip(children, section.posts, strict=True):
            assert squash(post.title) in pages[child_page], f"bookmark {child!r} → page {child_page + 1}"


def test_contents_numbers_point_to_the_right_pages(multi):
    path, digest, _ = multi
    reader = PdfReader(path)
    front = outline(reader)[1][1]
    numbers = contents_numbers(path, front)
    assert len(numbers) == digest.count + 2 * len(digest.sections)
    for printed, target in numbers:
        assert printed == target + 1
    # in contents order: the section index, then sections and their articles; each number is the page that
    # shows that title
    pages = pages_text(path)
    titles = [s.title for s in digest.sections]
    titles += [t for s in digest.sections for t in (s.title, *(p.title for p in s.posts))]
    for title, (_, target) in zip(titles, numbers, strict=True):
        assert squash(title) in pages[target], title


def test_footers_headers_and_links(multi):
    path, digest, _ = multi
    reader = PdfReader(path)
    n = len(reader.pages)
    pages = pages_text(path)
    assert f"/{n}" not in pages[0]  # no footer on the cover
    for i in range(1, n):
        assert pages[i].endswith(f"{i + 1}/{n}"), f"page {i + 1}: footer"
    front = outline(reader)[1][1]
    for i in range(front, n):
        assert squash(digest.title) in pages[i]
        assert any(squash(s.title) in pages[i] for s in digest.sections)
    # the cover's headlines link to their articles
    links = [a.get_object() for a in reader.pages[0].get("/Annots") or []]
    targets = [dest_page(reader, a["/Dest"]) for a in links if "/Dest" in a]
    assert targets and all(t >= front for t in targets)
    # external links in the attribution blocks survive the merge
    uris = {a.get_object()["/A"]["/URI"] for p in reader.pages[front:] for a in p.get("/Annots") or []
            if "/A" in a.get_object()}
    assert any(u.startswith("http") for u in uris)
    # named destinations: file.pdf#<post id>
    named = {k.lstrip("/") for k in reader.named_destinations}  # /Dests keys are PDF names
    assert all(p.id in named for p in digest.posts) and all(s.anchor in named for s in digest.sections)


def test_metadata(multi):
    path, digest, _ = multi
    reader = PdfReader(path)
    meta = reader.metadata
    assert meta.title == digest.title
    assert meta.author == "ZNing"  # the site's _config.yml author
    assert reader.trailer["/Root"]["/Lang"] == "zh-CN"
    assert meta.creation_date.date() == digest.generated.date()


def test_plan_pieces_keeps_every_post_once_in_order(multi):
    _, digest, _ = multi
    heaviest = max(pdf_plan.weight(p) for p in digest.posts)
    for lo, hi in ((pdf_plan.PIECE_MIN, pdf_plan.PIECE_MAX), (2_000, 6_000), (10**9, 10**9)):
        parts = pdf_plan.plan_pieces(digest, lo, hi)
        assert [p for part in parts for p in part.posts] == list(digest.posts)
        assert [part.section.id for part in parts if part.first] == [s.id for s in digest.sections]
        assert all(len({p.category for p in part.posts}) == 1 for part in parts)  # one section per piece
        assert max(part.weight for part in parts) <= hi + heaviest
    # content-defined: one article added at the end of a section changes only that section's last piece
    section = digest.sections[0]
    extra = dataclasses.replace(section.posts[-1], id="a-added-late")
    grown = dataclasses.replace(digest, sections=(dataclasses.replace(section, posts=(*section.posts, extra)),
                                                  *digest.sections[1:]))
    def shape(parts):  # what a piece's HTML is made of
        return [(p.section.id, tuple(post.id for post in p.posts), p.first) for p in parts]

    before, after = shape(pdf_plan.plan_pieces(digest, 2_000, 6_000)), shape(pdf_plan.plan_pieces(grown, 2_000, 6_000))
    changed = [p for p in after if p not in before]
    assert changed and len(changed) <= 2 and all(extra.id in p[1] for p in changed)
    assert sum(p not in after for p in before) <= 1


def test_jobs_share_pieces_evenly():
    weights = [50, 40, 30, 30, 20, 10, 10, 5]
    jobs = pdf_plan.group_jobs(weights, 2)
    assert sorted(i for job in jobs for i in job) == list(range(len(weights)))
    loads = [sum(weights[i] for i in job) for job in jobs]
    assert len(jobs) == 4 and max(loads) - min(loads) <= max(weights)
    assert pdf_plan.group_jobs(weights, 1) == [list(range(len(weights)))]


# ------------------------------------------------------------------ small builds

@pytest.fixture
def one_post(tmp_path):
    site = tmp_path / "finews"
    shutil.copytree(EXAMPLE, site)
    return site


@pytest.mark.parametrize("size, width_mm, height_mm", [
    ("A4", 210, 297), ("Letter", 215.9, 279.4), ("A5", 148, 210), ("ereader", 90, 122)])
def test_page_sizes(one_post, tmp_path, size, width_mm, height_mm):
    path, digest, _ = build(one_post, tmp_path / "out", LATE_DAY, tmp_path / "cache", page_size=size)
    reader = PdfReader(path)
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(width_mm * MM, abs=0.5)
        assert float(page.mediabox.height) == pytest.approx(height_mm * MM, abs=0.5)
    body = squash(text(path))
    assert squash(digest.posts[0].title) in body
    assert "来源：上海证券报" in body


def test_reproducible_with_source_date_epoch(one_post, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a, _, _ = build(one_post, tmp_path / "a", LATE_DAY, tmp_path / "cache-a", workers=1)  # in this process
    b, _, _ = build(one_post, tmp_path / "b", LATE_DAY, tmp_path / "cache-b", workers=2)  # in workers
    assert a.read_bytes() == b.read_bytes()
    created = PdfReader(a).metadata.creation_date
    assert int(created.timestamp()) == 1700000000


def test_single_pass_when_sections_flow(one_post, tmp_path):
    """section_page_break = false: one WeasyPrint pass; contents numbers by target-counter()."""
    path, digest, _ = build(one_post, tmp_path / "out", date(2021, 12, 8), tmp_path / "cache",
                            section_page_break=False)
    reader = PdfReader(path)
    marks = outline(reader)
    assert [m[0] for m in marks][1:] == [s.title for s in digest.sections]
    assert [c[0] for c in marks[1][2]] == [p.title for p in digest.sections[0].posts]
    numbers = contents_numbers(path, marks[1][1])
    assert len(numbers) == digest.count + len(digest.sections)
    assert all(printed == target + 1 for printed, target in numbers)
    n = len(reader.pages)
    assert pages_text(path)[-1].endswith(f"{n}/{n}")


def test_pdfa_variant(one_post, tmp_path):
    path, _, _ = build(one_post, tmp_path / "out", LATE_DAY, tmp_path / "cache", variant="pdf/a-2b")
    reader = PdfReader(path)
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>2</pdfaid:part>" in xmp or 'pdfaid:part="2"' in xmp
    assert "/OutputIntents" in reader.trailer["/Root"]


def test_unknown_variant_is_a_config_error(one_post, tmp_path):
    with pytest.raises(ConfigError, match="pdf/x-9"):
        build(one_post, tmp_path / "out", LATE_DAY, tmp_path / "cache", variant="pdf/x-9")


def test_missing_glyph_is_reported_with_its_post(make_post, tmp_path):
    probe = subprocess.run(["fc-list", ":charset=1fae8"], capture_output=True, text=True).stdout
    if probe.strip():
        pytest.skip("an installed font has U+1FAE8")
    site = make_post("2022-04-19-smile.md", 'title: "笑脸"\ndate: 2022-04-19 10:00:00 +0800\ncategories: [news]',
                     "今天 \U0001FAE8 很好。\n")
    _, _, warnings = build(site, tmp_path / "out", DAY, tmp_path / "cache")
    assert any("U+1FAE8" in w and "smile.md" in w for w in warnings), warnings


# ------------------------------------------------------------------ no CJK font at all (own process)

def _no_fonts_env(tmp_path: Path) -> dict[str, str]:
    """A fontconfig that knows only the Latin DejaVu fonts: a system without any CJK font."""
    latin = Path("/usr/share/fonts/truetype/dejavu")
    if not latin.is_dir():
        pytest.skip("needs the DejaVu fonts as the only fonts of a CJK-less fontconfig")
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
                    f"<fontconfig><dir>{latin}</dir><cachedir>{tmp_path / 'fc'}</cachedir></fontconfig>",
                    encoding="utf-8")
    return {**os.environ, "FONTCONFIG_FILE": str(conf), "DIGEST_CACHE_DIR": str(tmp_path / "cache")}


def test_no_cjk_font_fails_with_install_hint(one_post, tmp_path):
    env = _no_fonts_env(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "digest", "build", str(one_post), "--date", LATE_DAY.isoformat(),
                           "--format", "pdf", "--out", str(tmp_path / "out")], env=env, capture_output=True, text=True)
    assert proc.returncode == 3, proc.stderr
    assert "apt-get install fonts-noto-cjk" in proc.stderr and "--allow-missing-fonts" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("digest: error:")
    assert not list((tmp_path / "out").rglob("*.pdf"))


def test_allow_missing_fonts_builds_and_warns(one_post, tmp_path):
    env = _no_fonts_env(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "digest", "build", str(one_post), "--date", LATE_DAY.isoformat(),
                           "--format", "pdf", "--allow-missing-fonts", "--out", str(tmp_path / "out")],
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("no CJK font installed") == 1  # (fontconfig asked, and the warning said, once)
    assert "has no glyph" in proc.stderr  # and every missing character is named, not silently boxed
    assert list((tmp_path / "out").rglob("*.pdf"))


def test_workers_start_from_a_fork_server_when_threads_run(one_post, tmp_path):
    """A progress spinner thread in the caller: workers must not be forked from a threaded process."""
    import threading

    stop = threading.Event()
    spinner = threading.Thread(target=stop.wait, daemon=True)
    spinner.start()
    try:
        pool = pdf_render._pool(2, 2)
        pool.shutdown()
        assert pool._mp_context.get_start_method() == "forkserver"
        path, digest, _ = build(one_post, tmp_path / "out", date(2021, 12, 8), tmp_path / "cache", workers=2)
    finally:
        stop.set()
    assert len(outline(PdfReader(path))[1][2]) == digest.count
