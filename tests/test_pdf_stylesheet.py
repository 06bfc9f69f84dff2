"""The PDF's stylesheet given to WeasyPrint apart from each piece's HTML (parsed once per layout job): the same
pages as with it in the HTML, a cache key that follows it, and kept in the HTML wherever apart it would
cascade otherwise (WeasyPrint gives a stylesheet passed apart the user origin)."""
from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from conftest import EXAMPLE

from digest import load_settings
from digest.build import make_digest
from digest.editions.base import WriteContext
from digest.editions.pdf import render
from digest.editions.pdf.layout import Doc, Job, lay_out
from digest.editions.pdf.plan import plan_pieces
from digest.editions.pdf.stamp import FOOTER_FIRST, FOOTER_TOTAL
from digest.runtime.env import Environment
from digest.theming.loader import load_theme

DAY = date(2021, 12, 8)
GREEN = "rgb(0, 128, 0)"


def _renderer(site: Path, tmp: Path, **overrides: Any) -> render.Renderer:
    settings = load_settings(site, overrides=overrides or None)
    env = Environment(tmp / "cache", 1650326400)
    digest = make_digest(settings, DAY, DAY, env=env)
    return render.Renderer(digest, WriteContext(tmp / "out", load_theme(settings), settings, env))


def _calls(r: render.Renderer) -> list[tuple[str, dict[str, Any]]]:
    """Every piece's template call: the front, the body pieces, the footer sample."""
    anchors = [a for s in r.digest.sections for a in (s.anchor, *(p.id for p in s.posts))]
    return [("front", {"numbers": dict.fromkeys(anchors, render.BLANK)}),
            *(("body", {"parts": [p]}) for p in plan_pieces(r.digest)),
            ("stubs", {"stubs": 1, "first_page": FOOTER_FIRST, "total": FOOTER_TOTAL})]


@pytest.mark.parametrize("theme", ["default", "newspaper"])
def test_stylesheet_apart_lays_out_the_same_pieces(tmp_path, theme):
    r = _renderer(EXAMPLE, tmp_path, theme=theme)
    apart, inside = [], []
    for k, (mode, values) in enumerate(_calls(r)):
        html, css = r.page(mode, **values)
        assert css and css not in html  # apart, for the themes digest ships
        apart.append(Doc(f"p{k}", html, css))
        inside.append(Doc(f"p{k}", r.html(mode, **values)))
    assert len(apart) >= 4
    base = r.settings.site_root.resolve().as_uri() + "/"
    laid = {}
    for name, docs in (("apart", apart), ("inside", inside)):  # one job each: the sheet parsed once in "apart"
        (tmp_path / name).mkdir()
        laid[name] = lay_out(Job(name, docs, tmp_path / name, base, tmp_path / "fonts", rules=r.rules))
    for a, b in zip(laid["apart"], laid["inside"], strict=True):
        assert a.pages >= 1 and json.dumps(a.to_json()) == json.dumps(b.to_json())
        assert a.out.read_bytes() == b.out.read_bytes(), a.name


def test_the_piece_key_follows_the_stylesheet(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(EXAMPLE, site)
    keys = {}
    (site / "mine").mkdir()
    for accent in ("#b3261e", "#123456"):
        (site / "mine" / "theme.toml").write_text(f'name = "mine"\nextends = "default"\n[options]\n'
                                                  f'accent = "{accent}"\n', encoding="utf-8")
        r = _renderer(site, tmp_path, theme="mine")
        front = r.front("fonts")
        assert front.css and accent in front.css and accent not in front.html
        keys[accent] = (front.html, front.name)
    (html_a, key_a), (html_b, key_b) = keys.values()
    assert html_a == html_b and key_a != key_b  # only the stylesheet differs: the piece is laid out again


def _fill_colours(pdf: Path, page: int) -> set[tuple[float, ...]]:
    with pikepdf.open(pdf) as doc:
        return {tuple(round(float(x), 3) for x in operands)
                for operands, op in pikepdf.parse_content_stream(doc.pages[page]) if str(op) == "rg"}


OVERRIDES = {  # what would cascade otherwise from the user origin, or be lost in a sheet parsed apart
    "another stylesheet": ("front.html.j2", f'<style>h1 {{ color: {GREEN} }}</style>\n'
                                            '{% include "default:pdf/front.html.j2" %}'),
    "!important": ("print.css", '{% include "default:pdf/print.css" %}\n.stub { color: red !important; }'),
    "@counter-style": ("print.css", '{% include "default:pdf/print.css" %}\n'
                                    "@counter-style star { system: cyclic; symbols: '*'; }"),
}


@pytest.mark.parametrize("case", OVERRIDES)
def test_stylesheet_kept_in_the_document_where_apart_it_would_differ(tmp_path, case):
    site = tmp_path / "site"
    shutil.copytree(EXAMPLE, site)
    name, text = OVERRIDES[case]
    (site / "tpl" / "pdf").mkdir(parents=True)
    (site / "tpl" / "pdf" / name).write_text(text, encoding="utf-8")
    r = _renderer(site, tmp_path, template_overrides="tpl")
    for mode, values in _calls(r):
        html, css = r.page(mode, **values)
        if case == "another stylesheet" and mode != "front":  # (only the front includes front.html.j2)
            assert css and css not in html
        else:
            assert css == "" and html == r.html(mode, **values)
    if case == "another stylesheet":  # the theme's ``.cover-title`` outranks ``h1``, as in one document
        front = r.front("fonts")
        (tmp_path / "laid").mkdir()
        [laid] = lay_out(Job("front", [front], tmp_path / "laid", r.settings.site_root.resolve().as_uri() + "/",
                             tmp_path / "fonts", rules=r.rules))
        assert (0.0, 0.502, 0.0) not in _fill_colours(laid.out, 0)
        # and given apart, it would not: the sheet would then lose to the document's own <style>
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(render, "css_apart", lambda html, css: True)
            bare = r.front("fonts")
        assert bare.css and bare.css not in bare.html
        (tmp_path / "apart").mkdir()
        [wrong] = lay_out(Job("apart", [bare], tmp_path / "apart", r.settings.site_root.resolve().as_uri() + "/",
                              tmp_path / "fonts", rules=r.rules))
        assert (0.0, 0.502, 0.0) in _fill_colours(wrong.out, 0)
