"""The PDF's running heads, stamped at the join (:mod:`digest.editions.pdf.heads`): every page looks and reads
as it did when WeasyPrint laid the heads out in every piece — the rasterised pages and the text of every
page (its layout too) of a stamped build are the same as those of a build laid out the old way
(``Renderer.heads_stamped = False``) — and each page's head is its section's title (the contents' label on
the contents, nothing on the cover), long, escaped and right-to-left titles included."""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from conftest import EXAMPLE
from pypdf import PdfReader

from digest import load_settings
from digest.build import make_digest, write_issue
from digest.editions.pdf import heads, render
from digest.editions.pdf import plan as pdf_plan
from digest.editions.pdf.pieces import FOLDER
from digest.runtime.env import Environment

pytestmark = pytest.mark.skipif(not shutil.which("pdftoppm") or not shutil.which("pdftotext"),
                                reason="poppler-utils not installed")
DAY = date(2021, 12, 8)
EPOCH = 1638979200
TITLES = {
    "cn": "东财滚动新闻",
    "long": ("A very long section title that goes on and on — 一个非常非常长的栏目名称，用来检验页眉里的换行"
             "与截断 — and still goes on past the right margin of the page"),
    "esc": "Q&A <Markets> \"quoted\" 'single' \\ back",
    "rtl": "أخبار السوق Market news عربي",
}


def make_site(root: Path) -> Path:
    """The example site's 98 articles of 2021-12-08, dealt out to four sections with awkward titles."""
    site = root / "site"
    shutil.copytree(EXAMPLE, site)
    keys = list(TITLES)
    for i, post in enumerate(sorted((site / "_posts").glob("2021-12-08-*.md"))):
        text = post.read_text(encoding="utf-8")
        post.write_text(re.sub(r"^categories: .*$", f"categories: {keys[i % len(keys)]}", text, count=1,
                               flags=re.M), encoding="utf-8")
    return site


def build(site: Path, out: Path, cache: Path, **pdf: str) -> Path:
    settings = load_settings(site, overrides={"sections": TITLES, "pdf": {"workers": 2, **pdf}})
    env = Environment(cache, EPOCH)
    (path,) = write_issue(make_digest(settings, DAY, DAY, env=env), ["pdf"], out, settings=settings, env=env)
    return path


def pages_text(pdf: Path, *flags: str) -> list[str]:
    text = subprocess.run(["pdftotext", *flags, str(pdf), "-"], capture_output=True, check=True).stdout
    return text.decode("utf-8").split("\f")[:-1]


def rasters(pdf: Path, folder: Path) -> list[bytes]:
    folder.mkdir()
    subprocess.run(["pdftoppm", "-r", "40", str(pdf), str(folder / "p")], check=True)
    return [p.read_bytes() for p in sorted(folder.glob("*.ppm"))]


@pytest.fixture(scope="module", params=["A4", "ereader"])
def builds(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"pdf-heads-{request.param}")
    site = make_site(root)
    with pytest.MonkeyPatch.context() as mp:  # small pieces: a section runs over several
        mp.setattr(pdf_plan, "PIECE_MIN", 6_000)
        mp.setattr(pdf_plan, "PIECE_MAX", 12_000)
        stamped = build(site, root / "out", root / "cache", page_size=request.param)
        mp.setattr(render.Renderer, "heads_stamped", False)
        old_way = build(site, root / "out-old", root / "cache-old", page_size=request.param)
    return root, stamped, old_way, request.param


def test_stamped_pages_look_and_read_as_the_pieces_laid_out_with_their_heads(builds):
    root, stamped, old_way, _size = builds
    assert len(PdfReader(stamped).pages) == len(PdfReader(old_way).pages) > 15
    new, old = rasters(stamped, root / "r-new"), rasters(old_way, root / "r-old")
    assert len(new) == len(old)
    assert [i + 1 for i, (a, b) in enumerate(zip(new, old, strict=True)) if a != b] == []
    for flags in ((), ("-layout",), ("-raw",)):
        assert pages_text(stamped, *flags) == pages_text(old_way, *flags)


def test_the_pieces_drew_no_heads_and_the_old_way_did(builds):
    root, _stamped, _old, _size = builds
    pieces = [json.loads(p.read_text()) for p in (root / "cache" / FOLDER).glob("*.json")]
    old = [json.loads(p.read_text()) for p in (root / "cache-old" / FOLDER).glob("*.json")]
    samples = {k for d in pieces for k in map(tuple, d["heads"]) if d["drew_heads"]}
    assert sum(not d["drew_heads"] for d in pieces) >= 8  # the front and the body's pieces
    assert sum(d["drew_heads"] for d in pieces) == 1  # the footer sample only (the contents sample: none)
    assert {("cover", ""), ("", "目录"), *(("", t) for t in TITLES.values())} <= samples
    assert sum(d["drew_heads"] for d in old) >= 9


def section_starts(pdf: Path) -> list[tuple[int, str]]:
    reader = PdfReader(pdf)
    return sorted((reader.get_destination_page_number(item), item.title)
                  for item in reader.outline if not isinstance(item, list))


def test_each_page_shows_its_sections_title(builds):
    _root, stamped, _old, size = builds
    starts = section_starts(stamped)
    contents_page = starts[0][0]
    assert starts[0][1] == "目录" and contents_page == 1
    pages = pages_text(stamped, "-layout")
    assert pages[0].splitlines()[0].strip() == "2021年12月8日"  # the cover: its date first, no heads above
    for i, text in enumerate(pages[1:], start=1):
        title = [t for p, t in starts if p <= i][-1]
        lines = text.splitlines()
        head = " ".join(line.strip() for line in lines[: lines.index("")])  # the top margin: up to a gap
        words = re.sub(r"\s+", " ", title).split(" ")
        if "Market news" in title:  # right to left: pdftotext marks and reorders the runs
            words = ["Market", "news"]
        assert all(w in head for w in words[:6]), (i + 1, title, head)
        assert ("金融消息" in head) is (size != "ereader")  # the digest's title, left of it (not on e-readers)
        assert lines[0].startswith("金融消息") or size == "ereader"  # … and the section's right of it


def test_a_head_the_sample_lacks_is_laid_out_at_the_join(builds, tmp_path):
    """Pages whose (page name, string) the sample made before the layout does not have — a theme's own —
    get a sample laid out for them afterwards: the same pages."""
    _root, stamped, _old, size = builds
    site = make_site(tmp_path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pdf_plan, "PIECE_MIN", 6_000)
        mp.setattr(pdf_plan, "PIECE_MAX", 12_000)
        mp.setattr(render, "predicted", lambda titles, contents: [("", "")])
        again = build(site, tmp_path / "out", tmp_path / "cache", page_size=size)
    assert rasters(again, tmp_path / "r") == rasters(stamped, tmp_path / "r-stamped")
    assert pages_text(again, "-layout") == pages_text(stamped, "-layout")


def test_first_assignment_and_carry_follow_css_gcpm():
    """``string(section)``: the first assignment on a page, else the one carried from the pages before."""
    from weasyprint import HTML

    html = ("<style>@page { size: 100mm 60mm; margin: 10mm } .s { string-set: section attr(data-t) }"
            " p { margin: 0; height: 15mm }</style>"
            "<p>0</p><p>0</p><div class=s data-t=A><p>1</p><p>2</p></div>"
            "<div class=s data-t=B><p>3</p></div><div class=s data-t=C><p>4</p></div>"
            "<div style='page: named; break-before: page'><p>5</p></div>")
    pages = HTML(string=html).render().pages
    keys, drawn = heads.page_keys(pages)
    # page 3 starts with B (its first), page 4 sets nothing: C, the last one set before it
    assert keys == [("", ""), ("", "A"), ("", "B"), ("named", "C")] and not drawn
    drawing = HTML(string=html.replace("<style>", "<style>@page { @top-right { content: string(section) } }"))
    document = drawing.render()
    assert heads.page_keys(document.pages) == (keys, True)  # … as WeasyPrint's own heads say:
    reader = PdfReader(io.BytesIO(document.write_pdf()))
    assert [page.extract_text().split()[-1] for page in reader.pages] == ["0", "A", "B", "C"]
