"""Attribution presets: ``news`` (the finews rules), ``blog`` (author and the post's own URL, nothing taken out
of the body), ``auto`` (decided from the site's newest posts); every rule can be turned off; a bad value is one
line naming the key. Plus the defaults and words an ordinary blog meets."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from lxml import html
from typer.testing import CliRunner

from digest import load_settings
from digest.build import make_digest, write_issue
from digest.cli.app import app
from digest.config.presets import looks_like_news
from digest.errors import ConfigError
from digest.runtime.env import Environment
from digest.sources.sample import settled
from tests.conftest import DAY, EXAMPLE

NO_CACHE = Environment(None)
REFERENCES = """A post about a paper.

It builds on earlier work on the subject.

## References

<https://link.springer.com/article/10.1007/s00000-000-0000-0>
"""


def _blog(root: Path, body: str = REFERENCES, config: str = "") -> Path:
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text(f"title: A Blog\nurl: https://blog.example\nauthor:\n  name: Ann Author\n{config}",
                                      encoding="utf-8")
    (root / "_posts" / "2023-05-04-paper.md").write_text(f"---\ntitle: The paper\n---\n\n{body}", encoding="utf-8")
    return root


def test_the_first_users_site_is_news_without_being_told():
    s = settled(load_settings(EXAMPLE), Environment(None))
    assert s.attribution.preset == "news"
    digest = make_digest(load_settings(EXAMPLE), DAY, DAY, env=NO_CACHE)
    post = next(p for p in digest.posts if p.path.name == "2021-12-08-202112082206672930.md")
    assert post.attribution.outlet == "东方财富网" and post.attribution.original_url.startswith("http://finance.east")


def test_a_blog_keeps_its_reference_list_and_is_credited_to_its_author(tmp_path):
    s = load_settings(_blog(tmp_path / "b"))
    assert settled(s, NO_CACHE).attribution.preset == "blog"
    post = make_digest(s, date(2023, 5, 4), date(2023, 5, 4), env=NO_CACHE).posts[0]
    a = post.attribution
    assert a.outlet is None and a.original_url is None  # not springer.com, not "the original article"
    assert a.author == "Ann Author" and a.post_url == "https://blog.example/2023/05/04/paper.html"
    assert "link.springer.com/article" in post.html  # the line stays in the body


def test_news_can_be_chosen_on_any_site(tmp_path):
    s = load_settings(_blog(tmp_path / "b"), overrides={"attribution": {"preset": "news"}})
    post = make_digest(s, date(2023, 5, 4), date(2023, 5, 4), env=NO_CACHE).posts[0]
    assert post.attribution.original_url.startswith("https://link.springer.com/")
    assert post.attribution.outlet == "link.springer.com" and "link.springer.com/article" not in post.html


def test_each_rule_turns_off_with_its_documented_value(tmp_path):
    """`original_url_pattern = ""` used to be a traceback."""
    site = tmp_path / "finews"
    import shutil

    shutil.copytree(EXAMPLE, site)
    (site / "digest.toml").write_text(
        (EXAMPLE / "digest.toml").read_text(encoding="utf-8")
        + '\n[attribution]\noriginal_url_pattern = ""\nsource_patterns = []\nchrome_patterns = []\n'
          "host_fallback = false\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["build", str(site), "--date", DAY.isoformat(), "-o", str(tmp_path / "out"),
                                 "--no-cache"])
    assert r.exit_code == 0 and "Traceback" not in r.output, r.output
    page = (tmp_path / "out" / "2021" / f"{DAY}.html").read_text(encoding="utf-8")
    tree = html.fromstring(page)
    assert not tree.find_class("original") and not tree.find_class("outlet")  # no rule found anything
    assert "返回首页" in tree.text_content()  # the chrome stays: its rule is off


@pytest.mark.parametrize("toml,key", [
    ('[attribution]\nsource_patterns = ["(unclosed"]\n', "attribution.source_patterns: item 0: invalid regular"),
    ('[attribution]\noriginal_url_pattern = "[a-"\n', "attribution.original_url_pattern: invalid regular"),
    ('[attribution]\nchrome_patterns = ["ok", "*bad"]\n', "attribution.chrome_patterns: item 1: invalid regular"),
    ('[attribution]\npreset = "newspaper"\n', "attribution.preset"),
])
def test_a_bad_value_is_one_line_naming_the_key(tmp_path, toml, key):
    site = _blog(tmp_path / "b")
    (site / "digest.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_settings(site)
    assert key in str(e.value) and "digest.toml" in str(e.value) and "\n" not in str(e.value)
    r = CliRunner().invoke(app, ["build", str(site), "--date", "2023-05-04", "-o", str(tmp_path / "out")])
    assert r.exit_code == 2 and "Traceback" not in r.output and key in r.output


@pytest.mark.parametrize("body,news", [
    ("快讯正文。\n\n<http://finance.eastmoney.com/a/1.html>\n", True),
    ("正文。\n\n<http://x.example/1.html>\n\n[返回首页](../)\n", True),  # chrome after the link
    ("正文。（文章来源：上海证券报）\n", True),
    ("Text.\n\n<https://a.example/1>\n\n<https://b.example/2>\n", False),  # a reference list
    ("Text.\n\n<https://a.example/1>\n\nMore text after it.\n", False),
    ("Text.\n\nSource: Wikipedia\n", False),  # an English "Source:" line alone is not news
    (REFERENCES, False),  # one reference, under a heading
])
def test_what_looks_like_news(body, news):
    assert looks_like_news(body) is news


def test_words_and_defaults_of_a_plain_english_blog(tmp_path):
    site = tmp_path / "myblog"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("url: https://me.example\n", encoding="utf-8")  # no title, no name
    (site / "_posts" / "2023-05-01-first.md").write_text(
        "---\ntitle: First\ndate: 2023-05-01\nsource: The Wire\n---\n\nThe opening post, about the blog and the city.\n",
        encoding="utf-8")
    (site / "_posts" / "2023-05-03-second.md").write_text(
        "---\ntitle: Second\ndate: 2023-05-03 18:20\n---\n\nThe second post, written in the evening.\n",
        encoding="utf-8")
    s = load_settings(site)
    assert s.title == "myblog"  # the folder's name
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["build", str(site), "--from", "2023-05-01", "--to", "2023-05-07", "--period", "week",
                                 "-f", "web,email", "-o", str(out), "--no-cache"])
    assert r.exit_code == 0 and "2 articles in 1 section" in r.output, r.output
    page = html.fromstring((out / "2023" / "2023-W18.html").read_bytes())
    shown = page.text_content()
    assert "myblog" in shown and "uncategorized" not in shown and not page.find_class("section-title")
    times = {a.get("id"): [t.text for t in a.iter("time")] for a in page.iter("article")}
    assert times == {"a-second": ["05-03 18:20"], "a-first": ["05-01"]}  # date and time in a weekly issue
    assert "00:00" not in shown  # a date-only post gets no made-up time
    assert "Source: The Wire" in shown and "Source：" not in shown
    text = (out / "2023" / "2023-W18.email.txt").read_text(encoding="utf-8")
    assert text.splitlines()[1] == "2 articles" and "Source: The Wire" in text
    eml = (out / "2023" / "2023-W18.eml").read_text(encoding="utf-8")
    assert "\nFrom:" not in eml and "digest@" not in eml  # no sender configured: none made up
    r = CliRunner().invoke(app, ["send", str(site), "--date", "2023-05-03", "--period", "week", "--to",
                                 "me@example.org", "-o", str(out)])
    assert r.exit_code == 2 and "email.from_addr" in r.output


def test_one_article_is_singular(tmp_path):
    site = _blog(tmp_path / "b", "One English post, the whole of the day, and the end of it.\n")
    s = load_settings(site)
    digest = make_digest(s, date(2023, 5, 4), date(2023, 5, 4), env=NO_CACHE)
    page = write_issue(digest, ["web"], tmp_path / "out", settings=s, env=NO_CACHE)[0].read_text(encoding="utf-8")
    counts = html.fromstring(page.encode()).find_class("counts")[0].text_content()
    assert counts.strip() == "1 article"
