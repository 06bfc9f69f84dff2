"""The incremental PDF: after one article is added, a rebuild lays out only that article's piece and the front
matter, and gives the same file as a cold build of the same posts — byte for byte, and so page count, text
of every page, contents numbers, bookmarks, links and the rasterised pages."""
from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from conftest import make_big_site
from pypdf import PdfReader

from digest import load_settings
from digest.build import make_digest, write_issue
from digest.editions.pdf import plan as pdf_plan
from digest.editions.pdf.pieces import FOLDER
from digest.runtime import parallel
from digest.runtime.env import Environment

pytestmark = pytest.mark.skipif(not shutil.which("pdftoppm") or not shutil.which("pdftotext"),
                                reason="poppler-utils not installed")
DAY = date(2022, 4, 19)
EPOCH = 1650412800


def build(site: Path, out: Path, cache: Path) -> Path:
    settings = load_settings(site, overrides={"pdf": {"workers": 2}})
    env = Environment(cache, EPOCH)
    digest = make_digest(settings, DAY, DAY, env=env)
    (path,) = write_issue(digest, ["pdf"], out, settings=settings, env=env)
    return path


def add_post(site: Path) -> Path:
    """A new article late in the day, copied from one of the site's with a title and a source of its own."""
    src = sorted((site / "_posts").glob("*.md"))[3]
    text = src.read_text(encoding="utf-8")
    text = re.sub(r"^date:.*$", "date: 2022-04-19 23:59:30 +0800", text, count=1, flags=re.M)
    text = re.sub(r'^title:\s*"?(.*?)"?\s*$', r'title: "\1 — 晚间更新"', text, count=1, flags=re.M)
    text = re.sub(r"^<(https?://[^>\s]+)>\s*$", r"<\1-late>", text, flags=re.M)
    new = site / "_posts" / "2022-04-19-209999999999.md"
    new.write_text(text, encoding="utf-8")
    return new


def pieces_in(cache: Path) -> set[str]:
    return {p.stem for p in (cache / FOLDER).glob("*.json")}


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("pdf-incremental")
    site = make_big_site(root / "site", 14)
    ahead: list[str] = []
    real_alongside = parallel.alongside
    with pytest.MonkeyPatch.context() as mp:  # small pieces: several per section with few posts
        mp.setattr(pdf_plan, "PIECE_MIN", 3_000)
        mp.setattr(pdf_plan, "PIECE_MAX", 9_000)
        mp.setattr(parallel, "alongside",
                   lambda fn, job, *ctx: ahead.append(job.docs[0].name) or real_alongside(fn, job, *ctx))
        first = build(site, root / "out-first", root / "cache")
        before = pieces_in(root / "cache")
        add_post(site)
        ahead.clear()
        warm = build(site, root / "out-warm", root / "cache")
        laid_now = pieces_in(root / "cache") - before
        warm_ahead = list(ahead)
        cold = build(site, root / "out-cold", root / "cache-cold")
        total = len(pieces_in(root / "cache-cold"))
        mp.setattr(parallel, "alongside", lambda fn, job, *ctx: None)  # one core, or threads running: no layout ahead
        one_by_one = build(site, root / "out-one", root / "cache-one")
    return first, warm, cold, laid_now, total, warm_ahead, one_by_one


def test_rebuild_lays_out_only_the_new_articles_piece_and_the_front(builds):
    first, warm, _cold, laid_now, total, warm_ahead, _ = builds
    assert total >= 8  # the front, two samples and several body pieces
    assert len(laid_now) == 2  # the piece the article joined, and the front (its contents grew)
    assert len(warm_ahead) == 1 and warm_ahead[0] in laid_now  # the front, started before the bodies were ready
    assert len(PdfReader(warm).pages) >= len(PdfReader(first).pages)


def test_incremental_pdf_is_the_cold_pdf_byte_for_byte(builds):
    _, warm, cold, _, _, _, one_by_one = builds
    assert warm.read_bytes() == cold.read_bytes() == one_by_one.read_bytes()


def _pages_text(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True,
                         text=True).stdout
    return out.split("\f")[:-1]


def _outline(reader: PdfReader, items=None) -> list:
    out = []
    for item in reader.outline if items is None else items:
        if isinstance(item, list):
            out.append(_outline(reader, item))
        else:
            out.append((item.title, reader.get_destination_page_number(item)))
    return out


def _links(reader: PdfReader) -> list:
    pages = [p.indirect_reference for p in reader.pages]
    out = []
    for i, page in enumerate(reader.pages):
        for annot in page.get("/Annots") or []:
            a = annot.get_object()
            rect = [round(float(v), 2) for v in a["/Rect"]]
            target = pages.index(a["/Dest"][0]) if "/Dest" in a else a["/A"].get("/URI")
            out.append((i, rect, target))
    return out


def test_incremental_pdf_reads_and_looks_like_the_cold_pdf(builds, tmp_path):
    _, warm, cold, _, _, _, _ = builds
    a, b = PdfReader(warm), PdfReader(cold)
    assert len(a.pages) == len(b.pages)
    texts = _pages_text(warm)
    assert texts == _pages_text(cold)
    n = len(a.pages)
    assert all(re.search(rf"\b{i + 1} / {n}\s*$", t) for i, t in enumerate(texts) if i > 0)  # footers n / N
    assert "晚间更新" in "".join(texts)
    contents = texts[1]
    numbers = [int(m) for m in re.findall(r"\s(\d+)\s*$", contents, flags=re.M)]
    # the contents' numbers: the section index (one per section), then the sections and their articles
    sections = [item for item in _outline(a)[1:] if not isinstance(item, list)]
    index, toc = numbers[:len(sections)], numbers[len(sections):]
    assert index == [page + 1 for _, page in sections] and index == sorted(index)
    assert toc and toc == sorted(toc) and all(2 < k <= n for k in numbers) and set(index) <= set(toc)
    assert _outline(a) == _outline(b) and len(_outline(a)) > 2
    assert _links(a) == _links(b) and any(isinstance(t, int) for _, _, t in _links(a))
    for pdf, name in ((warm, "warm"), (cold, "cold")):
        subprocess.run(["pdftoppm", "-r", "24", "-gray", str(pdf), str(tmp_path / name)], check=True)
    images = sorted(tmp_path.glob("warm-*.pgm"))
    assert len(images) == n
    for image in images:
        assert image.read_bytes() == (tmp_path / image.name.replace("warm", "cold")).read_bytes(), image.name


def retitle(site: Path) -> str:
    """An early article's title made long enough to take a second line in the contents (every entry after it
    moves down); returns the new title."""
    src = sorted((site / "_posts").glob("*.md"))[1]
    text = src.read_text(encoding="utf-8")
    title = "改过的标题：" + "一个长得足以在目录里折成两行的标题，" * 3
    src.write_text(re.sub(r"^title:.*$", f'title: "{title}"', text, count=1, flags=re.M), encoding="utf-8")
    return title


@pytest.fixture(scope="module")
def retitled(tmp_path_factory):
    root = tmp_path_factory.mktemp("pdf-retitled")
    site = make_big_site(root / "site", 14)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pdf_plan, "PIECE_MIN", 3_000)
        mp.setattr(pdf_plan, "PIECE_MAX", 9_000)
        first = build(site, root / "out-first", root / "cache")
        before = pieces_in(root / "cache")
        title = retitle(site)
        warm = build(site, root / "out-warm", root / "cache")
        laid_now = pieces_in(root / "cache") - before
        cold = build(site, root / "out-cold", root / "cache-cold")
    return first, warm, cold, laid_now, title


def test_a_title_that_moves_the_contents_rebuilds_to_the_cold_pdf(retitled, tmp_path):
    first, warm, cold, laid_now, title = retitled
    assert len(laid_now) == 2  # the front (its contents reflowed) and the article's own piece
    assert warm.read_bytes() == cold.read_bytes() != first.read_bytes()
    texts = _pages_text(warm)
    assert texts == _pages_text(cold)
    contents = "".join(texts[1:3]).replace(" ", "").replace("\n", "")
    assert title.replace(" ", "")[:20] in contents
    old_lines, new_lines = (re.findall(r"\s(\d+)\s*$", "\n".join(_pages_text(p)[1:3]), flags=re.M)
                            for p in (first, warm))
    assert len(new_lines) == len(old_lines)  # every entry still numbered
    lines = [sum(1 for line in "\n".join(_pages_text(p)[:4]).splitlines() if line.strip()) for p in (first, warm)]
    assert lines[1] > lines[0]  # the title took more lines: what follows it moved down
    a, b = PdfReader(warm), PdfReader(cold)
    assert _outline(a) == _outline(b) and _links(a) == _links(b)
    for pdf, name in ((warm, "warm"), (cold, "cold")):
        subprocess.run(["pdftoppm", "-r", "24", "-gray", "-f", "1", "-l", "4", str(pdf), str(tmp_path / name)],
                       check=True)
    for image in sorted(tmp_path.glob("warm-*.pgm")):
        assert image.read_bytes() == (tmp_path / image.name.replace("warm", "cold")).read_bytes(), image.name
