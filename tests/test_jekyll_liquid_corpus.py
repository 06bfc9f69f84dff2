"""Every post of the four real Jekyll sites (tests/sites/jekyll) through digest.jekyll.

After Liquid no ``{%``/``{{`` is left except inside what ``{% raw %}`` protected, every
``post_url``/``link`` resolves (to the URL its target's permalink gives), and the only problem
is the one tag no Liquid knows: made-mistakes' own ``{% notice %}`` plugin, whose content stays.
"""
from __future__ import annotations

import re
from functools import cache

import pytest

from digest.jekyll.liquid.engine import LiquidRenderer, LiquidResult
from tests.jekyll_corpus import SITES, Post, Site, load, page_of

RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.DOTALL)
TARGET = re.compile(r"\{%-?\s*(post_url|link)\s+(.*?)\s*-?%\}")


@cache
def site(name: str) -> tuple[Site, LiquidRenderer]:
    loaded = load(name)
    return loaded, LiquidRenderer(loaded.jekyll)


def render(name: str, post: Post) -> LiquidResult:
    loaded, renderer = site(name)
    return renderer.render(post.body, page=page_of(loaded, post), path=post.path, first_line=post.first_line)


def live(body: str, pattern: str | re.Pattern[str]) -> list[re.Match[str]]:
    """Matches outside raw blocks."""
    spans = [m.span() for m in RAW.finditer(body)]
    return [m for m in re.finditer(pattern, body) if not any(a <= m.start() < b for a, b in spans)]


def all_posts() -> list[tuple[str, str]]:
    return [(name, post.path) for name in SITES for post in site(name)[0].posts]


def test_the_corpus_is_all_there() -> None:
    counts = {name: len(site(name)[0].posts) for name in SITES}
    assert counts == {"text-theme": 24, "made-mistakes": 31, "18f": 29, "cfap": 40}


@pytest.mark.parametrize(("name", "path"), all_posts())
def test_every_post(name: str, path: str) -> None:
    loaded, _renderer = site(name)
    post = next(p for p in loaded.posts if p.path == path)
    result = render(name, post)
    assert result.ran
    notices = live(post.body, r"\{%-?\s*notice\b")
    expected = []
    if notices:
        line = post.first_line + post.body.count("\n", 0, notices[0].start())
        expected = [f"unknown Liquid tag 'notice' at line {line}"]
    assert [str(p) for p in result.problems] == expected
    rest = result.text
    for protected in RAW.findall(post.body):
        assert protected in rest
        rest = rest.replace(protected, "", 1)
    assert "{%" not in rest and "{{" not in rest
    for match in live(post.body, TARGET):
        kind, target = match.groups()
        resolver = loaded.jekyll.resolve_post if kind == "post_url" else loaded.jekyll.resolve_link
        url = resolver(target.lstrip("/") if kind == "post_url" else target)
        assert url, (kind, target)
        assert f"]({loaded.jekyll.baseurl}{url}" in result.text


def _rendered(name: str, suffix: str) -> tuple[Post, str]:
    loaded, _renderer = site(name)
    post = next(p for p in loaded.posts if p.path.endswith(suffix))
    return post, render(name, post).text


def test_text_theme_includes_and_highlight_blocks() -> None:
    _post, out = _rendered("text-theme", "2017-08-02-extensions.md")
    assert out.count("<iframe") == 8
    assert 'src="https://www.youtube.com/embed/wbY97-hdD5c?rel=0&showinfo=0"' in out
    assert "//codepen.io/kitian616/embed/aQmWZG/?theme-id=0&default-tab=html,result" in out
    _post, out = _rendered("text-theme", "2016-06-16-code-blocks.md")
    section = out[out.index("## Highlighting Code Snippets"):out.index("## Fenced Code Blocks")]
    assert re.findall(r"^```(.*)$", section, re.MULTILINE) == [  # four highlight blocks, two raw examples
        "javascript", "", "", "", "javascript {linenos}", "", "", "", "javascript", "", "none", ""]
    assert "```javascript {linenos}\nvar hello = 'hello';\n" in out


def test_made_mistakes_figures_embeds_links_and_cached_includes() -> None:
    tags = html = videos = 0
    loaded, _renderer = site("made-mistakes")
    for post in loaded.posts:
        out = render("made-mistakes", post).text
        figure_tags, figure_html = len(live(post.body, r"\{%\s*figure\b")), len(live(post.body, r"<figure\b"))
        youtube = len(live(post.body, r"\{%\s*youtube\b"))
        assert out.count("<figure") == figure_tags + figure_html
        captions = len(live(post.body, r"\{%\s*figure\s+caption:")) + len(live(post.body, r"<figcaption\b"))
        assert out.count("<figcaption") == captions
        assert out.count("Video: YouTube — ") == youtube
        tags, html, videos = tags + figure_tags, html + figure_html, videos + youtube
    assert (tags, html, videos) == (66, 3, 8)  # the corpus README counts 66 figure and 8 youtube tags
    _post, out = _rendered("made-mistakes", "2014-09-29-paper-2-0.md")
    assert ("<figure>\n\n<p class=\"embed\">Video: YouTube — <a href=\"https://www.youtube.com/watch?v=cleK43E6M6o\">"
            in out)
    assert "[new watercolor brush behavior](/mastering-paper/watercolor-brush-update/)" in out
    _post, out = _rendered("made-mistakes", "2016-02-17-using-jekyll-2016.md")
    assert "[my Jekyll themes](/work/jekyll-themes/)" in out
    _post, out = _rendered("made-mistakes", "2015-09-07-jenell-d-portrait.md")
    assert "#### Tools used\n\n- [Pencil by FiftyThree]" in out


def test_18f_baseurl_oembed_and_svg_includes() -> None:
    _post, out = _rendered("18f", "2015-03-24-making-twitter-images-more-accessible.md")
    assert out.count('<p class="embed">Tweet — <a href="https://twitter.com/') == 3
    _post, out = _rendered("18f", "2017-09-05-ficam-partners-with-federalist.md")
    assert out.count("<svg") == 5
    _post, out = _rendered("18f", "2014-11-17-taking-control-of-our-website-with-jekyll-and-webhooks.md")
    assert "![18F site webhooks](/assets/blog/new-jekyll-site/webhooks.png)" in out


def test_cfap_images_through_relative_url() -> None:
    _post, out = _rendered("cfap", "2024-01-15-Cholesterol.md")
    assert "![FH_1](/assets/img/FH_1.png){: .normal }" in out
    assert out.count("](/assets/img/FH_") == 8
