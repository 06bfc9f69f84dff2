"""Where a Jekyll site's posts are, and the URL, date, categories and publication Jekyll gives each one:
on the real sites of tests/sites/jekyll (every post against expected.json) and on cases made here."""
from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from digest import load_settings
from digest.errors import ConfigError
from digest.render.links import permalink_path, slugify
from digest.render.post import ContentRenderer, post_path_of
from digest.runtime.cache import Store
from digest.runtime.env import Environment
from digest.sources.collect import collect, read_posts
from digest.sources.discover import find_post_files

CORPUS = Path(__file__).parent / "sites" / "jekyll"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))["sites"]
# what a user of each site tells digest (in digest.toml) when _config.yml alone does not say it
SITE_KEYS = {"text-theme": {"jekyll_config": "docs/_config.yml"}, "made-mistakes": {"source": "src"}}


def _posts(name: str):
    s = load_settings(CORPUS / name, overrides=SITE_KEYS.get(name))
    got = read_posts(s, find_post_files(s), Store(None, s.site_root))
    return s, {p.path.as_posix(): p for p in got.posts}, got.problems


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_corpus_post_gets_jekylls_url_date_categories_and_publication(name):
    s, posts, problems = _posts(name)
    expected = EXPECTED[name]["posts"]
    assert sorted(posts) == sorted(e["path"] for e in expected)  # every post found, nothing else
    assert not [p for p in problems if p.skipped]
    for e in expected:
        post = posts[e["path"]]
        assert post_path_of(post, s) == e["url"], e["path"]
        assert post.date.isoformat() == e["date"], e["path"]
        assert list(post.categories) == e["categories"], e["path"]
        assert post.published is (e["not_published_because"] != "published: false"), e["path"]


def test_corpus_post_urls_carry_the_site_url_and_baseurl():
    s, posts, _ = _posts("text-theme")
    renderer = ContentRenderer(s, env=Environment(None))
    post = posts["docs/_posts/2016-06-06-lists.md"]
    assert renderer.post_url(post) == "https://kitian616.github.io/jekyll-TeXt-theme/post/2016/06/06/lists.html"
    s, posts, _ = _posts("cfap")
    url = ContentRenderer(s, env=Environment(None)).post_url(next(iter(posts.values())))
    assert url is not None and url.startswith("https://cfap.github.io/posts/")  # permalink from `defaults`


def test_corpus_site_settings_from_their_configs():
    text = load_settings(CORPUS / "text-theme", overrides=SITE_KEYS["text-theme"])
    assert (text.collections_dir, text.baseurl, text.timezone, text.lang) == ("docs", "/jekyll-TeXt-theme",
                                                                              "Asia/Shanghai", "en")
    mm = load_settings(CORPUS / "made-mistakes", overrides=SITE_KEYS["made-mistakes"])
    assert mm.lang == "en" and mm.permalink == "/:categories/:title/"  # `locale: en_US`
    assert load_settings(CORPUS / "18f").permalink == "pretty" and load_settings(CORPUS / "18f").lang == ""


def test_a_source_folder_that_does_not_exist_is_one_line_naming_the_key():
    s = load_settings(CORPUS / "made-mistakes")  # its _config.yml says `source: .tmp/src`, made by its build
    with pytest.raises(ConfigError) as e:
        find_post_files(s)
    assert "source" in str(e.value) and ".tmp/src" in str(e.value) and "\n" not in str(e.value)


def _site(tmp_path: Path, config: str) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "_config.yml").write_text(config, encoding="utf-8")
    return site


def _post(site: Path, rel: str, front: str = "") -> None:
    path = site / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\ntitle: {Path(rel).stem}\n{front}---\nBody.\n", encoding="utf-8")


def test_collections_dir_exclude_include_and_special_names(tmp_path):
    site = _site(tmp_path, "collections_dir: coll\nexclude: [coll/_posts/old, '*.markdown']\n"
                           "include: [2020-01-03-kept.md]\n")  # (Jekyll matches include by name)
    _post(site, "coll/_posts/2020-01-01-in.md")
    _post(site, "coll/news/_posts/2020-01-02-news.md")  # folders above _posts: categories
    _post(site, "coll/_posts/old/2020-01-03-out.md")  # excluded…
    _post(site, "coll/_posts/old/2020-01-03-kept.md")  # …but this one is included
    _post(site, "coll/_posts/2020-01-04-glob.markdown")  # excluded by a glob
    _post(site, "coll/_posts/_hidden/2020-01-05-x.md")  # special names are skipped
    _post(site, "coll/_posts/2020-01-06-backup.md~")
    _post(site, "_posts/2020-01-07-outside.md")  # outside collections_dir: not read
    _post(site, "coll/_drafts/draft.md")  # a draft: only with include_drafts
    s = load_settings(site)
    assert [p.as_posix() for p in find_post_files(s)] == [
        "coll/_posts/2020-01-01-in.md", "coll/_posts/old/2020-01-03-kept.md", "coll/news/_posts/2020-01-02-news.md"]
    got = read_posts(s, find_post_files(s), Store(None, site))
    cats = {p.path.name: p.categories for p in got.posts}
    assert cats == {"2020-01-01-in.md": (), "2020-01-03-kept.md": (), "2020-01-02-news.md": ("news",)}
    drafts = load_settings(site, overrides={"include_drafts": True})
    assert "coll/_drafts/draft.md" in [p.as_posix() for p in find_post_files(drafts)]


def test_a_draft_is_dated_by_its_file_and_built_only_when_asked(tmp_path):
    site = _site(tmp_path, "timezone: UTC\n")
    _post(site, "_posts/2020-01-01-post.md")
    _post(site, "_drafts/idea.md")
    when = datetime(2020, 1, 1, 12, 0, tzinfo=UTC).timestamp()
    os.utime(site / "_drafts" / "idea.md", (when, when))
    d = date(2020, 1, 1)
    env = Environment(tmp_path / "cache")
    assert [p.title for p in collect(load_settings(site), d, d, env=env).posts] == ["2020-01-01-post"]
    s = load_settings(site, overrides={"include_drafts": True})
    got = collect(s, d, d, env=env).posts
    assert sorted(p.title for p in got) == ["2020-01-01-post", "idea"]
    assert [p.slug for p in got if p.title == "idea"] == ["idea"]
    (site / "_config.yml").write_text("timezone: UTC\nshow_drafts: true\n", encoding="utf-8")
    assert load_settings(site).include_drafts  # Jekyll's own switch


def test_future_and_unpublished_follow_the_jekyll_config(tmp_path):
    site = _site(tmp_path, "future: true\nunpublished: true\n")
    s = load_settings(site)
    assert s.include_future and s.include_unpublished
    (site / "_config.yml").write_text("collections:\n  posts:\n    future: true\n", encoding="utf-8")
    assert load_settings(site).include_future


def test_front_matter_defaults_by_path_and_type(tmp_path):
    site = _site(tmp_path, """
url: https://x.example
defaults:
  - scope: {path: "", type: posts}
    values: {permalink: "/p/:title/", category: general, author: Site Author}
  - scope: {path: "_posts/news"}
    values: {permalink: "/news/:year/:title/", published: false}
  - scope: {path: "_posts/*/deep", type: pages}
    values: {permalink: "/pages-only/"}
""")
    _post(site, "_posts/2020-01-01-a.md")
    _post(site, "_posts/news/2020-01-02-b.md")
    _post(site, "_posts/2020-01-03-c.md", "permalink: /own/:slug.html\ncategory: mine\n")
    s = load_settings(site)
    got = {p.path.name: p for p in read_posts(s, find_post_files(s), Store(None, site)).posts}
    assert post_path_of(got["2020-01-01-a.md"], s) == "/p/a/"
    assert post_path_of(got["2020-01-02-b.md"], s) == "/news/2020/b/" and not got["2020-01-02-b.md"].published
    assert post_path_of(got["2020-01-03-c.md"], s) == "/own/c.html"  # the post's own permalink wins
    assert got["2020-01-03-c.md"].categories == ("mine",) and got["2020-01-01-a.md"].categories == ("general",)
    assert got["2020-01-01-a.md"].front["author"] == "Site Author"


def test_collections_posts_permalink_wins_over_the_site_style(tmp_path):
    site = _site(tmp_path, "permalink: pretty\ncollections:\n  posts:\n    permalink: /blog/:year/:month/:title/\n")
    assert load_settings(site).permalink == "/blog/:year/:month/:title/"


@pytest.mark.parametrize("style,expected", [
    ("date", "/tech/news/2022/04/19/Hello,-World!.html"),
    ("pretty", "/tech/news/2022/04/19/Hello,-World!/"),
    ("ordinal", "/tech/news/2022/109/Hello,-World!.html"),
    ("weekdate", "/tech/news/2022/W16/Tue/Hello,-World!.html"),
    ("none", "/tech/news/Hello,-World!.html"),
    (":pretty", "/tech/news/2022/04/19/Hello,-World!/"),
    ("/:year/:i_month/:i_day/:slug", "/2022/4/19/hello-world"),
    ("/:slugified_categories/:short_year/:long_month/:hour:minute/", "/tech/news/22/April/1305/"),
    ("/:month_:day/:title", "/04_19/Hello,-World!"),
    ("/a/../b/./:title/", "/a/b/Hello,-World!/"),
])
def test_permalink_styles_and_templates(style, expected):
    when = datetime(2022, 4, 19, 13, 5, tzinfo=UTC)
    got = permalink_path(style, when=when, categories=("Tech", "news"), title="Hello, World!", slug="Hello, World!")
    assert got == expected


def test_slugify_modes_and_escaping():
    assert slugify("Hello, World!") == "hello-world"
    assert slugify("Hello, World!", "pretty", cased=True) == "Hello,-World!"
    assert slugify("Crème brûlée à la carte", "latin") == "creme-brulee-a-la-carte"
    assert slugify("Crème brûlée", "ascii") == "cr-me-br-l-e"
    assert slugify("a  b\tc", "raw") == "a-b-c"
    assert slugify("中文 标题") == "中文-标题"
    assert slugify("The _config.yml file", "pretty") == "the-_config.yml-file"
    when = datetime(2022, 4, 19, tzinfo=UTC)
    assert permalink_path("/:title/", when=when, categories=(), title="中文", slug="x") == "/%E4%B8%AD%E6%96%87/"
    assert permalink_path("/:title/", when=when, categories=(), title="a?b#c", slug="x") == "/a-b-c/"
