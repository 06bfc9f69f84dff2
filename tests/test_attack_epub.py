"""Hostile posts against EPUBCheck (issue 16, items 7 and 8): every book still passes with 0 errors.

Before: categories ``Markets``/``markets`` gave ``s-Markets.xhtml`` and ``s-markets.xhtml`` (OPF-060: they
collide on case-blind storage), a stray ``<li>`` stayed outside any list (RSC-005), fragment links pointed at
ids that no longer exist (RSC-012), a ``mailto:`` held ``<`` (RSC-020); a site title with a line break or a
control character crashed the EPUB cover and reached the email HTML.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

JAR = Path(__import__("epubcheck").__file__).parent / "epubcheck.jar"
DAY = "2022-01-05"

# Bodies the HTML parser accepts and HTML's content model does not (each one failed EPUBCheck before).
BODIES = [
    "Text <li>stray item</li> more.",
    '<p>See <a href="#gone">gone</a>, <a href="#kept">kept</a> and <a href="#script-id">s</a>.</p>'
    '<h2 id="kept">Kept</h2><div id="script-id"><script>x</script></div>',
    '<a href="mailto:a<b>@example.org">mail</a> <a href="mailto:x@example.org?subject=<hi> there">m2</a> '
    '<a href="mailto:nobody">n</a> <a href="MAILTO:&quot;q&quot;@example.org">q</a>',
    "<ul><li>ok</li><p>para in ul</p> loose text </ul>",
    '<table><li>li in table</li><tr><td colspan="0" rowspan="99999999">x</td></tr></table>',
    "<dl><li>li in dl</li><dt>term without definition</dt></dl><dl><dd>definition first</dd></dl>",
    '<ol reversed="no" start="-3"><div>div in ol</div></ol>',
    "<em><div>div in em</div><ul><li>list in em</li></ul></em> <span><p>p in span</p></span>",
    "<h2><p>p in h2</p><div>div in h2</div></h2>",
    "<span><dt>x</dt><dd>y</dd></span><dd>orphan dd</dd><dt>orphan dt</dt>",
    '<table><tbody><tr><td>1</td></tr></tbody><tfoot><tr><td>f</td></tr></tfoot><thead><tr><th scope="bad" '
    'headers="zz">h</th></tr></thead><caption>c1</caption><caption>c2</caption></table>',
    "<ruby>漢<rt>kan</rt></ruby><rt>orphan rt</rt><rp>(</rp>",
    '<time>garbage</time> <time datetime="not a date">x</time> <time datetime="2022-01-05">ok</time> '
    '<data>d</data> <bdo>b</bdo> <span lang="en&quot; x">l</span> <a href="https://x.org/" hreflang="???">h</a> '
    '<del datetime="yesterday">d</del>',
    '<figure><img src="https://x.org/a.png" alt="a"><figcaption>a</figcaption><p>x</p><figcaption>b</figcaption>'
    "<figcaption>c</figcaption></figure>",
    "<header><footer>f in h</footer></header><dl><dt><h2>h in dt</h2></dt><dd>d</dd></dl>"
    "<table><tr><th><h3>h in th</h3><header>x</header></th></tr></table>",
    "<caption>loose caption</caption><tr><td>loose row</td></tr><td>loose cell</td><thead>x</thead>",
    '<p id="dup">a</p><p id="dup">b</p><a href="#dup">to dup</a> <p id="">empty id</p>',
    "<figcaption>loose figcaption</figcaption><colgroup><col></colgroup><tbody>t</tbody>",
    "<a href=\"#\">bare hash</a> <a href=\"#%3Cx%3E\">encoded</a> <span id=\"&lt;x&gt;\">t</span>",
    "<p>ok &nbsp; <b>bold</b><br>line <wbr> <hr> after hr</p><pre>\n\npre</pre>",
]


@pytest.fixture(scope="module")
def hostile_book(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    site = tmp_path_factory.mktemp("epub-attack") / "site"
    (site / "_posts").mkdir(parents=True)
    # a line break, a bell, an RLO, a C1 control and a line separator in the title; a tab and a NEL in the
    # description
    (site / "_config.yml").write_text('title: "Seven\\a\\nLines\\u202e\\x85\\u2028 Daily"\n'
                                      'description: "one\\ttwo\\x85three"\nurl: https://example.org\nlang: en\n')
    cats = ["Markets", "markets", "MARKETS", "Markets2", "x-y"]
    for i, body in enumerate(BODIES):
        (site / "_posts" / f"{DAY}-p{i}.md").write_text(
            f"---\ntitle: Post {i}\ndate: {DAY} 10:{i:02d}:00\ncategories: [{cats[i % len(cats)]}]\n---\n\n{body}\n")
    # slugs whose ids once clashed: "x" with an inner id "y" and the post "x-y"; "X" and "x"
    for name, body in (("x", '<p id="y">inner y</p><a href="#y">to y</a>'), ("x-y", "plain"), ("X", "upper")):
        (site / "_posts" / f"{DAY}-{name}.md").write_text(
            f"---\ntitle: Slug {name}\ndate: {DAY} 12:00:00\ncategories: [Markets]\n---\n\n{body}\n")
    out = site.parent / "out"
    run = subprocess.run([sys.executable, "-m", "digest", "build", str(site), "--date", DAY, "-f", "epub,email,html",
                          "-o", str(out), "--no-cache"], capture_output=True, text=True, timeout=300)
    return site, out, run


def test_the_build_succeeds_without_a_traceback(hostile_book):
    _site, _out, run = hostile_book
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr and "raqm" not in run.stderr


@pytest.mark.skipif(shutil.which("java") is None, reason="java not installed")
def test_epubcheck_finds_nothing(hostile_book, tmp_path):
    _site, out, _run = hostile_book
    report = tmp_path / "report.json"
    subprocess.run(["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(JAR),
                    str(out / "2022" / f"{DAY}.epub"), "--json", str(report)], capture_output=True, timeout=600)
    data = json.loads(report.read_text())
    bad = [f"{m['severity']} {m['ID']}: {m['message'][:200]} @ {m.get('locations', [{}])[0].get('path')}"
           for m in data["messages"] if m["severity"] in ("FATAL", "ERROR", "WARNING")]
    assert bad == []


def test_file_names_and_ids_are_unique_even_case_folded(hostile_book):
    _site, out, _run = hostile_book
    with zipfile.ZipFile(out / "2022" / f"{DAY}.epub") as z:
        names = z.namelist()
        docs = {n: z.read(n).decode() for n in names if n.endswith(".xhtml")}
    assert len({n.casefold() for n in names}) == len(names)
    web = (out / "2022" / f"{DAY}.html").read_text()
    ids = re.findall(r'\sid="([^"]+)"', web)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for doc in docs.values():
        ids = re.findall(r'\sid="([^"]+)"', doc)
        assert len(ids) == len(set(ids))


def test_the_text_of_every_hostile_body_is_kept(hostile_book):
    _site, out, _run = hostile_book
    web = (out / "2022" / f"{DAY}.html").read_text()
    for words in ("stray item", "para in ul", "loose text", "li in table", "term without definition",
                  "div in em", "list in em", "p in h2", "orphan dd", "orphan rt", "h in dt", "h in th",
                  "loose caption", "loose row", "loose figcaption", "after hr", "inner y"):
        assert words in web, words


def test_control_characters_of_the_title_reach_no_output(hostile_book):
    _site, out, _run = hostile_book
    bad = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]")
    for name in (f"{DAY}.email.html", f"{DAY}.email.txt", f"{DAY}.eml", f"{DAY}.html"):
        text = (out / "2022" / name).read_text()
        assert not bad.search(text), (name, bad.search(text))
        if name != f"{DAY}.eml":
            assert "Seven Lines Daily" in text
    with zipfile.ZipFile(out / "2022" / f"{DAY}.epub") as z:
        for n in z.namelist():
            if n.endswith((".xhtml", ".opf", ".ncx")):
                assert not bad.search(z.read(n).decode()), n
        assert any(n.endswith((".jpg", ".png")) and "cover" in n for n in z.namelist())


def test_a_url_with_a_control_character_is_one_config_error(tmp_path):
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text('title: T\nurl: "https://example.org/\\nx"\n')
    (site / "_posts" / f"{DAY}-a.md").write_text(f"---\ntitle: A\ndate: {DAY}\n---\n\nx\n")
    run = subprocess.run([sys.executable, "-m", "digest", "build", str(site), "--date", DAY, "-f", "epub",
                          "-o", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.splitlines() == [f"digest: error: {site}/_config.yml: url: 'https://example.org/ x' is not "
                                       "an http(s) URL: it holds white space or a character URLs cannot hold"]
