import re
from pathlib import Path

import pytest

from digest import load_settings
from digest.assemble.assemble import unique_ids
from digest.render.links import permalink_path
from digest.render.post import ContentRenderer
from digest.render.text import cut, plain_text
from digest.runtime.env import Environment
from digest.sources.collect import collect
from digest.sources.posts import parse_post

NO_CACHE = Environment.from_os(cache=False)
from datetime import UTC

from tests.conftest import DAY, EXAMPLE, LATE_DAY


@pytest.fixture(scope="module")
def example_posts():
    s = load_settings(EXAMPLE)
    r = ContentRenderer(s)
    srcs = collect(s, DAY, LATE_DAY, env=NO_CACHE).posts
    return {src.path.name: r.render(src, pid) for src, pid in zip(srcs, unique_ids(srcs), strict=True)}


def render_one(body: str, front: str = 'title: "T"', **over):
    s = load_settings(EXAMPLE, overrides=over or None)
    src = parse_post(Path("_posts/2022-01-05-t.md"), f"---\n{front}\n---\n{body}".encode(), s)
    return ContentRenderer(s).render(src, "a-t")


def test_late_format_post_attribution(example_posts):
    p = example_posts["2022-04-19-202204192348142540.md"]
    assert p.attribution.outlet == "上海证券报"
    assert p.attribution.original_url == "http://finance.eastmoney.com/news/1355,202204192348142540.html"
    assert p.attribution.post_url == "https://finews.withounder.com/emnews/2022/04/19/202204192348142540.html"
    assert "（文章来源：上海证券报）" in p.text  # the attribution text stays as published
    assert "返回" not in p.html and "返回" not in p.text


def test_every_footer_style_removed_and_urls_found(example_posts):
    for name, p in example_posts.items():
        assert "返回首页" not in p.html and "返回东财滚动新闻" not in p.html, name
        raw = (EXAMPLE / "_posts" / name).read_text(encoding="utf-8")
        m = re.search(r"^<((?:https?:)?//[^>]*)>\s*$", raw, re.M)
        assert p.attribution.original_url == (m.group(1) if m else None), name
        if m:
            assert m.group(1) not in p.text  # the bare URL line became the attribution link


def test_empty_autolink_means_no_original(example_posts):
    p = example_posts["2021-12-08-202112082206870651.md"]
    assert p.attribution.original_url is None and p.attribution.outlet is None
    assert "&lt;&gt;" not in p.html and "<>" not in p.text


def test_outlet_from_host_table_when_body_names_none(example_posts):
    p = example_posts["2021-12-08-202112082206672930.md"]
    assert p.attribution.outlet == "东方财富网"  # examples/finews/digest.toml [attribution.hosts]


def test_invalid_attributes_dropped_and_ids_prefixed(example_posts):
    p = example_posts["2022-04-19-202204192348142540.md"]
    assert 'web="' not in p.html and "data-code" not in p.html and "<span href" not in p.html
    ids = re.findall(r'id="([^"]+)"', p.html)
    assert ids and all(i.startswith(p.id + ".") for i in ids)
    assert len(ids) == len(set(ids))
    assert f'id="{p.id}.Info.356"' in p.html


def test_sanitiser_removes_active_content():
    body = """<script>alert(1)</script><p onclick="x()">a<a href="javascript:alert(2)">j</a></p>
<iframe src="https://evil"></iframe><form action="x"><input></form><style>p{display:none}</style>
<p style="display:none">hidden</p><img src="x.png" onerror="alert(3)"><a href="vbscript:x">v</a>
<object data="x"></object><meta http-equiv="refresh" content="0;url=https://evil">"""
    html = render_one(body).html
    for bad in ("<script", "onclick", "javascript:", "<iframe", "<form", "<input", "<style", "style=",
                "onerror", "vbscript:", "<object", "<meta", "alert(1)"):
        assert bad not in html, bad
    assert "hidden" in html  # the text stays; only the style that hid it goes


def test_links_resolved_against_site_url():
    html = render_one("[a](//finews.withounder.com/x/) [b](/abs/) [c](../rel/) [d](#frag) "
                      '<a href="https://ok.example/">e</a> <span id="frag">f</span>\n').html
    assert 'href="https://finews.withounder.com/x/"' in html
    assert 'href="https://finews.withounder.com/abs/"' in html
    # the post's own URL is /2022/01/05/t.html, so ../rel/ is /2022/01/rel/
    assert 'href="https://finews.withounder.com/2022/01/rel/"' in html
    assert 'href="#a-t.frag"' in html and 'href="https://ok.example/"' in html


def test_markdown_features():
    html = render_one("# H\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<https://x.example/p> **bold**\n",
                      ).html
    assert "<table>" in html and "<strong>bold</strong>" in html and 'href="https://x.example/p"' in html


def test_front_matter_wins_for_attribution_and_summary():
    p = render_one("（文章来源：新华社）\n\n正文第一段。\n", 'title: "T"\nsource: 证券时报\n'
                   'original_url: https://orig.example/a\nexcerpt: 自定义摘要\nauthor: 张三\nmood: happy')
    assert p.attribution.outlet == "证券时报" and p.attribution.original_url == "https://orig.example/a"
    assert p.summary == "自定义摘要" and p.attribution.author == "张三"
    assert dict(p.extra) == {"mood": "happy"}


@pytest.mark.parametrize("line,outlet", [
    ("（文章来源：上海证券报）", "上海证券报"),
    ("(来源：新华社)", "新华社"),
    ("来源：中国证券报", "中国证券报"),
    ("Source: Reuters", "Reuters"),
])
def test_source_line_forms(line, outlet):
    assert render_one(f"正文。\n\n{line}\n").attribution.outlet == outlet


def test_summary_prefers_leading_blockquote_then_first_paragraph(example_posts):
    late = example_posts["2022-04-19-202204192348142540.md"]
    assert late.summary.startswith("“一季度工业经济实现平稳开局") and len(late.summary) <= 121
    p = render_one("第一段。\n\n第二段。\n")
    assert p.summary == "第一段。"


def test_cut_is_cjk_aware():
    assert cut("一二三四五六七八九十", 5) == "一二三四五…"
    assert cut("hello wonderful world", 9) == "hello…"
    assert cut("短", 5) == "短"


def test_plain_text_keeps_blocks():
    assert plain_text("<p>a &amp; b</p><p>c<br>d</p>") == "a & b\nc\nd"


def test_permalink_styles():
    from datetime import datetime

    w = datetime(2022, 4, 19, 13, 0, tzinfo=UTC)
    kw = dict(when=w, categories=("EMNews",), title="t1", slug="T 1")
    assert permalink_path("date", **kw) == "/emnews/2022/04/19/t1.html"
    assert permalink_path("pretty", **kw) == "/emnews/2022/04/19/t1/"
    assert permalink_path("none", **kw) == "/emnews/t1.html"
    assert permalink_path("/:year/:slug/", **kw) == "/2022/t-1/"


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_an_error_inside_the_sanitisers_url_callbacks_is_raised_not_lost(monkeypatch, error):
    """nh3 would print it and drop the attribute (a Ctrl-C there used to be lost, the build going on)."""
    from digest.render import sanitize

    r = ContentRenderer(load_settings(EXAMPLE))
    html = '<p><a href="https://o.example/a">a</a> <a href="/b">b</a></p>'
    assert 'href="https://o.example/a"' in r.sanitize(html, "a-x", "https://finews.withounder.com/")

    def broken(url):
        raise error("stop")

    monkeypatch.setattr(sanitize, "safe_link", broken)
    with pytest.raises(error, match="stop"):
        r.sanitize(html, "a-x", "https://finews.withounder.com/")


def test_ctrl_c_while_the_sanitiser_runs_is_held_then_raised():
    """Ctrl-C landing while nh3 runs (its next Python code is the first line of a callback, outside
    any ``try``) was printed and lost there, and the build went on: it must stop the build."""
    import signal
    import threading
    import time

    r = ContentRenderer(load_settings(EXAMPLE))
    html = "<p>" + "".join(f'<a href="https://o.example/{i}" title="t{i}">{i}</a> ' for i in range(60_000)) + "</p>"
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # what a command-line run has
    try:
        for delay in (0.05, 0.1, 0.2):
            timer = threading.Timer(delay, signal.raise_signal, (signal.SIGINT,))
            timer.start()
            started = time.perf_counter()
            with pytest.raises(KeyboardInterrupt):
                r.sanitize(html, "a-x", "https://finews.withounder.com/")
                time.sleep(5)  # not reached when the interrupt is raised, as it must be
            timer.join()
            assert time.perf_counter() - started < 4
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    finally:
        signal.signal(signal.SIGINT, before)
