"""Screenshots of a real blog in every edition for docs/blogs.md: ``python scripts/shots/blog.py``.

Builds a week of the cfap corpus site (tests/sites/jekyll/cfap: a Chinese blog with code, maths and images),
then shoots the web page (phone and desktop, light and dark), an EPUB article (at an e-reader's 600×800) and
PDF pages (pdftoppm) into docs/img/blog-*.png. Needs what scripts/validators/install.sh installs.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMG = ROOT / "docs" / "img"
FROM, TO = "2024-01-08", "2024-01-15"  # Unity-0 (highlighted code) and Cholesterol (maths, images)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="digest-shots-"))
    site = work / "cfap"
    shutil.copytree(ROOT / "tests" / "sites" / "jekyll" / "cfap", site)
    out = work / "out"
    subprocess.run([sys.executable, "-m", "digest", "build", str(site), "--from", FROM, "--to", TO, "--period",
                    "range", "-f", "web,epub,pdf", "-o", str(out), "--no-cache", "-q"], check=True)
    [web] = [p for p in out.rglob("*.html") if p.parent != out]  # (not the archive's index)
    [epub] = out.rglob("*.epub")
    [pdf] = out.rglob("*.pdf")
    book = work / "book"
    with zipfile.ZipFile(epub) as z:
        z.extractall(book)
    article = next(p for p in sorted((book / "EPUB").glob("*.xhtml")) if "Cholesterol" in p.read_text() and
                   "<math" in p.read_text())
    jobs = [
        dict(url=web.as_uri(), out=str(IMG / "blog-web-desktop.png"), width=1280, height=900, dark=False,
             selector="math[display=block]", offset=260),
        dict(url=web.as_uri(), out=str(IMG / "blog-web-phone-dark.png"), width=375, height=812, dark=True,
             selector="pre", offset=160),
        dict(url=article.as_uri(), out=str(IMG / "blog-epub.png"), width=600, height=800, dark=False,
             selector="math[display=block]", offset=200),
    ]
    spec = work / "jobs.json"
    spec.write_text(json.dumps(jobs))
    subprocess.run(["node", str(Path(__file__).with_name("shoot.js")), str(spec)], check=True)
    pages = [*_pages_with(pdf, ("胆固醇", "Unity")), _first_image_page(pdf)]
    for name, page in zip(("blog-pdf-maths.png", "blog-pdf-code.png", "blog-pdf-image.png"), pages, strict=True):
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
                        str(IMG / name.removesuffix(".png"))], check=True)
    shutil.rmtree(work)
    print("\n".join(str(IMG / n) for n in ("blog-web-desktop.png", "blog-web-phone-dark.png", "blog-epub.png",
                                          "blog-pdf-maths.png", "blog-pdf-code.png", "blog-pdf-image.png")))


def _pages_with(pdf: Path, words: tuple[str, ...]) -> list[int]:
    """For each word, the first body page (after the contents) showing it with a formula or code around."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    found = []
    for word in words:
        hits = [i + 1 for i, p in enumerate(pages) if word in p and i > 1]
        found.append(hits[min(1, len(hits) - 1)] if hits else 1)
    return found


def _first_image_page(pdf: Path) -> int:
    listed = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = [int(line.split()[0]) for line in listed.splitlines()[2:] if line.split()]
    return min(pages) if pages else 1


if __name__ == "__main__":
    main()
