import re

import html5lib
import pytest

from digest import load_settings
from digest.build import build
from tests.conftest import DAY, EXAMPLE, LATE_DAY


@pytest.fixture(scope="module")
def web_day(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    s = load_settings(EXAMPLE)
    result = build(s, DAY, DAY, ["html"], out)
    (path,) = result.files
    return path, path.read_text(encoding="utf-8"), result


def test_output_name_is_stable(web_day):
    path, _, _ = web_day
    assert path.parts[-2:] == ("2021", "2021-12-08.html")


def test_parses_as_html5_without_errors(web_day):
    _, html, _ = web_day
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    doc = parser.parse(html)
    assert doc.find(".//title").text == "金融消息 2021-12-08"
    assert doc.get("lang") == "zh-CN"


def test_every_article_once_with_attribution(web_day):
    _, html, result = web_day
    (issue,) = result.issues
    titles = re.findall(r'<h3 class="article-title">(.*?)</h3>', html)
    assert len(titles) == len(set(titles)) == issue.digest.count == 97
    for post in issue.digest.posts:
        block = html.split(f'id="{post.id}"', 1)[1].split("</article>", 1)[0]
        if post.attribution.original_url:
            assert f'href="{post.attribution.original_url}"' in block.replace("&amp;", "&")
        assert f'href="{post.attribution.post_url}"' in block
    assert '<h2 class="section-title" id="s-emnews-h">东财滚动新闻 <span class="n">97 篇文章</span></h2>' in html


def test_no_script_no_footer_no_duplicate_ids(web_day):
    _, html, _ = web_day
    assert "<script" not in html.lower() and "返回首页" not in html and "返回东财滚动新闻" not in html
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    for target in re.findall(r'href="#([^"]+)"', html):
        assert target in ids


def test_late_post_names_its_outlet(tmp_path):
    (path,) = build(load_settings(EXAMPLE), LATE_DAY, LATE_DAY, ["html"], tmp_path).files
    html = path.read_text(encoding="utf-8")
    assert '<span class="outlet">来源：上海证券报</span>' in html
    # the source line stays in the article text as published (the outlet name had a <span> in it)
    assert "（文章来源：上海<span>证券</span>报）" in html
    assert 'id="a-202204192348142540.Info.356"' in html


def test_writes_atomically_leaving_no_temp_files(web_day):
    path, _, _ = web_day
    assert [p.name for p in path.parent.iterdir()] == ["2021-12-08.html"]


def test_inline_css_is_not_html_escaped(web_day):
    _, html, _ = web_day
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert '"Noto Sans CJK SC"' in style and "&#34;" not in style and "&quot;" not in style
