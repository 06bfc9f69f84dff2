"""The per-post rendering's shortcuts give what the long way gives: a link already valid is returned as
:func:`safe_link`'s round trip would return it, and sanitised HTML that :func:`fitting_depth` passes is what
:func:`repair` would leave unchanged, with the depth :func:`html_depth` counts. Checked on generated input
(hypothesis) and on the XSS and attack vectors."""
from __future__ import annotations

import html as htmllib
import json
from pathlib import Path

import nh3
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.render import sanitize
from digest.render.sanitize import Sanitizer, html_depth, link_round_trip, safe_link
from digest.render.structure import fitting_depth, repair
from digest.render.text import _BLOCK_END, SPACES, plain_text

DATA = Path(__file__).parent / "data"

_URL_CHARS = "aZ09.-_~!$&'()*+,;=:@/?#%[] \"<>\\^`{|}\t\ní\u3000"
_HOSTS = ["example.org", "EXAMPLE.org", "a..b", "-", "x.y:80", "x.y:99999", "u:p@x.y", "[::1]", "[::1", "", "é.cn"]


@settings(max_examples=400, deadline=None)
@given(scheme=st.sampled_from(["http://", "https://", "HTTP://", "http:/", "ftp://", " https://"]),
       host=st.sampled_from(_HOSTS), rest=st.text(alphabet=_URL_CHARS, max_size=30))
def test_a_valid_link_is_returned_as_the_round_trip_returns_it(scheme, host, rest):
    url = scheme + host + rest
    assert safe_link(url) == link_round_trip(url)


def test_the_link_shortcut_is_taken_for_plain_links_only():
    assert safe_link("https://data.eastmoney.com/cjsj/gyzjz.html?x=1&y=%20#top") == (
        "https://data.eastmoney.com/cjsj/gyzjz.html?x=1&y=%20#top")
    assert safe_link("https://x.y/a b") == "https://x.y/a%20b"  # the long way
    assert safe_link("https://x.y/?") == "https://x.y/" and safe_link("https://x.y/#") == "https://x.y/"
    assert safe_link("https://x.y/100%") == "https://x.y/100%25"


_TAGS = ["p", "div", "span", "a", "ul", "ol", "li", "em", "strong", "h2", "table", "tbody", "tr", "td", "th",
         "blockquote", "pre", "code", "img", "br", "hr", "dl", "dt", "dd", "time", "bdo", "data", "figure",
         "figcaption", "ruby", "rt", "section", "header", "footer", "sub", "q", "abbr", "caption", "del"]
_ATTRS = ['', ' id="x"', ' lang="zh_CN"', ' lang="en"', ' href="#x"', ' href="https://o.example/p"', ' dir="rtl"',
          ' reversed', ' datetime="2020-01-01"', ' datetime="soon"', ' title="a>b"', ' scope="row"', ' headers="h"']
_TEXT = ["x", " ", "\n", "\u3000", "&nbsp;", "&lt;", "a & b", "文"]
_PIECE = st.one_of(
    st.builds(lambda t, a: f"<{t}{a}>", st.sampled_from(_TAGS), st.sampled_from(_ATTRS)),
    st.builds(lambda t: f"</{t}>", st.sampled_from(_TAGS)),
    st.sampled_from(_TEXT),
)


def _nh3(fragment: str) -> str:
    """The sanitiser's own nh3 call without its callbacks (what matters here is the shape nh3 writes)."""
    clean = nh3.clean(fragment, tags=sanitize._NH3_TAGS, attributes=sanitize._NH3_ATTRIBUTES,
                      url_schemes=sanitize._NH3_SCHEMES, link_rel="noopener noreferrer", strip_comments=True)
    return sanitize._A_WITHOUT_HREF.sub(r"<a\1\2>", clean)


def _check_fits(clean: str) -> bool:
    depth = fitting_depth(clean)
    if depth is None:
        return False
    assert repair(clean) == clean
    assert depth == html_depth(clean)
    return True


@settings(max_examples=600, deadline=None)
@given(st.lists(_PIECE, max_size=40))
def test_html_that_fits_is_what_repair_leaves_unchanged(pieces):
    _check_fits(_nh3("".join(pieces)))


def _vectors() -> list[str]:
    lines = (DATA / "xss" / "vectors.txt").read_text(encoding="utf-8").splitlines()
    out = [line.replace("⏎", "\n") for line in lines if line and not line.startswith("#")]
    attacks = (DATA / "attacks" / "vectors.jsonl").read_text(encoding="utf-8").splitlines()
    return out + [json.loads(line)["vector"] for line in attacks if line.strip()]


def test_the_shortcuts_on_the_xss_and_attack_vectors():
    fitted = sum(_check_fits(_nh3(v)) for v in _vectors())
    assert fitted > 100  # the shortcut is taken on many of them
    s = Sanitizer("https://site.example")
    for v in _vectors():  # and the sanitiser's callbacks leave it as sound
        try:
            _check_fits(s.sanitize(v, "v", "https://site.example/a/b.html"))
        except Exception as e:  # a post past the limits: what the sanitiser refuses, it refuses either way
            assert "nested" in str(e)


def test_fitting_depth_passes_common_posts_and_sends_the_rest_to_repair():
    assert fitting_depth('<p>a <a href="https://x.y/" rel="noopener noreferrer">b</a><br></p><ul><li>c</li>\n</ul>') == 2
    for needs_repair in ("<p><div>x</div></p>", "<ul>text<li>x</li></ul>", "<li>x</li>", '<a href="#gone">x</a>',
                         '<span lang="zh_CN">x</span>', "<dl><dt>x</dt></dl>", "<p>x", "<!-- c --><p>x</p>"):
        assert fitting_depth(needs_repair) is None, needs_repair


_TEXT_PIECE = st.one_of(_PIECE, st.sampled_from(["<!-- c -->", "<PRE>", "\r", "<pre>\n", "&#39;", "&quot;", "&amp;lt;",
                                                  "<title>", "<svg>", "<textarea>", "\t", "  ", "\u00a0", "<br/>"]))


@settings(max_examples=500, deadline=None)
@given(st.lists(_TEXT_PIECE, max_size=40), st.booleans())
def test_plain_text_is_nh3s_text_of_each_line(pieces, sanitised):
    """Tags cut out where no parsing rule moves text, and the whole text decoded at once, give what nh3's
    text decoded line by line gave."""
    fragment = _nh3("".join(pieces)) if sanitised else "".join(pieces)
    text = nh3.clean(_BLOCK_END.sub("\n", fragment), tags=set())
    lines = (SPACES.sub(" ", htmllib.unescape(line)).strip() for line in text.split("\n"))
    assert plain_text(fragment) == "\n".join(line for line in lines if line)


def _text_the_long_way(fragment: str) -> str:
    text = nh3.clean(_BLOCK_END.sub("\n", fragment), tags=set())
    lines = (SPACES.sub(" ", htmllib.unescape(line)).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def test_plain_text_leaves_what_parsing_changes_to_nh3():
    """Where parsing does more than drop tags, the text is nh3's: a table moves what follows it in front
    (its end tags become line breaks), <pre> drops a first line break, a reference may be a line break."""
    cases = {"<table><tr><td>x</td></tr></table><p>y</p>": "y\nx", "a<div>b<pre>\nc</pre></div>": "abc",
             "a&#10;b": "a\nb", "a&NewLine;b": "a\nb", "x&copy y": "x© y", "<p>a</p><!-- c -->b": "a\nb",
             "<p>a</p><P>b": "a\nb", "a\r\nb": "a\nb"}
    for fragment, text in cases.items():
        assert plain_text(fragment) == _text_the_long_way(fragment) == text, fragment


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["<https://o.example/a>", "  <//o.example/b>\t", "<>", "text <https://x.y/>", "",
                                 "[返回首页](/)", "来源：新华网", "x"]), max_size=12), st.sampled_from(["\n", "\r\n"]))
def test_the_original_url_line_is_removed_as_a_substitution_removes_it(lines, newline):
    from digest.config.presets import resolve
    from digest.config.settings import AttributionRules
    from digest.render.attribution import AttributionFinder

    finder = AttributionFinder(resolve(AttributionRules(preset="news"), "news"))
    body = newline.join(lines)
    chromeless = body
    for rx in finder._chrome:
        chromeless = rx.sub("", chromeless)
    assert finder._url_line is not None
    expected = finder._url_line.sub("", chromeless) if finder._url_line.search(chromeless) else chromeless
    assert finder.strip_chrome(body)[0] == expected


def test_the_shortcuts_stay_linear_on_long_text():
    """A long value without tags (a front-matter summary is sanitised too) or a long run of tags: each
    shortcut is one pass (a search that backtracked over the text before every tag took minutes)."""
    import time

    started = time.perf_counter()
    long_text = "文" * 1_000_000
    assert Sanitizer("https://site.example").sanitize(long_text, "s", "") == long_text
    assert fitting_depth(long_text) == 0 and plain_text(long_text) == long_text
    assert fitting_depth("<p>" + "<b>x</b>" * 100_000 + "</p>") == 2
    assert plain_text("<a " * 100_000 + ">x") == "x"  # one tag of many attributes: nh3 reads it
    assert time.perf_counter() - started < 10
