"""digest.jekyll.kramdown.math: TeX from real posts to MathML and to self-contained SVG."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from digest.jekyll.kramdown.math import MathError, to_mathml, to_svg

MML = "{http://www.w3.org/1998/Math/MathML}"
CORPUS_TEX = [
    r"a \ne 0", r"ax^2 + bx + c = 0", r"x_1 = {-b + \sqrt{b^2-4ac} \over 2a}",
    r"x_2 = {-b - \sqrt{b^2-4ac} \over 2a} \notag", r"LDL\mbox{-}C \approx TC - HDL\mbox{-}C - \frac{TG}{2.2}",
]


@pytest.mark.parametrize("tex", CORPUS_TEX)
def test_corpus_formulas_convert(tex: str) -> None:
    root = ET.fromstring(to_mathml(tex, True))
    assert root.tag == f"{MML}math" and root.get("display") == "block"
    assert "\\" not in "".join(root.itertext())


def test_structures_mathjax_users_write() -> None:
    aligned = ET.fromstring(to_mathml(r"\begin{aligned} a &= b \\ c &= d \end{aligned}", True))
    assert len(list(aligned.iter(f"{MML}mtr"))) == 2
    matrix = ET.fromstring(to_mathml(r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}", False))
    assert [td.findtext(f".//{MML}mn") for td in matrix.iter(f"{MML}mtd")] == ["1", "2", "3", "4"]
    sets = ET.fromstring(to_mathml(r"\{x \in \mathbb{R} \mid x > 0\} \text{ if } \frac{a}{b}", False))
    texts = "".join(sets.itertext())
    assert "{" in texts and "\u211d" in texts and "if" in texts and sets.find(f".//{MML}mfrac") is not None
    assert to_mathml(r"a < b \& c", False).count("<math") == 1
    with pytest.raises(MathError):  # a bare & outside an alignment is an error in TeX too
        to_mathml("a & c", False)


@pytest.mark.parametrize(("tex", "reason"), [
    (r"\frac{1}{", "brace"), (r"\unknowncommand x", r"\unknowncommand"), ("", "empty"), ("x" * 30_000, "too long"),
])
def test_bad_tex_raises_one_line(tex: str, reason: str) -> None:
    with pytest.raises(MathError, match=re.escape(reason)) as info:
        to_mathml(tex, False)
    assert "\n" not in str(info.value)
    with pytest.raises(MathError):
        to_svg(tex, False)


def test_svg_is_outlines_with_distinct_ids() -> None:
    one, two = to_svg(r"x^2", False), to_svg(r"\frac{a}{b}", True)
    for svg in (one, two):
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.find(".//{http://www.w3.org/2000/svg}path") is not None
        assert root.find(".//{http://www.w3.org/2000/svg}text") is None
    ids_one = set(re.findall(r'id="([^"]+)"', one))
    assert ids_one and not ids_one & set(re.findall(r'id="([^"]+)"', two))
    assert set(re.findall(r'href="#([^"]+)"', one)) <= ids_one
    assert to_svg("x^2", False) == one  # deterministic
    assert 'id="p7-' in to_svg("y", False, id_prefix="p7-")
