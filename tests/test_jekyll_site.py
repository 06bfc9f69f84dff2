"""digest.jekyll.liquid.site: site.data read with bounds and only from inside the site; the
post_url/link resolvers match as Jekyll 4 does; url, baseurl and includes_dir from the config."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from digest.jekyll.liquid.site import DataLimits, JekyllSite, link_resolver, load_site_data, post_resolver

FIXTURE = Path(__file__).parent / "data" / "liquid" / "site"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(FIXTURE, site)
    return site


def test_data_files_of_every_kind_nested_by_folder(root: Path) -> None:
    loaded = load_site_data(root, {})
    assert loaded.problems == ()
    assert loaded.data == {
        "authors": {"ada": {"name": "Ada Lovelace", "born": 1815}, "grace": {"name": "Grace Hopper", "born": 1906}},
        "nav": {"main": [{"title": "Home", "url": "/"}, {"title": "About", "url": "/about/"}]},
        "table": [{"name": "alpha", "count": "1"}, {"name": "beta", "count": "2"}],
        "tabs": [{"name": "gamma", "count": "3"}],
    }


def test_data_dir_from_the_config_is_inside_the_site(root: Path) -> None:
    (root / "docs").mkdir()
    shutil.move(root / "_data", root / "docs" / "_data")
    assert load_site_data(root, {"data_dir": "/docs/_data"}).data["nav"]["main"][0]["title"] == "Home"
    outside = load_site_data(root, {"data_dir": "../elsewhere"})
    assert outside.data == {} and outside.problems == ("../elsewhere: data folder outside the site, not read",)


def test_bad_data_files_are_named_and_skipped(root: Path, tmp_path: Path) -> None:
    data = root / "_data"
    (data / "broken.yml").write_text("a: [1, 2\nb: 3\n", encoding="utf-8")
    (data / "broken.json").write_text('{"a": }', encoding="utf-8")
    (data / "latin1.yml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    (data / "huge.json").write_text(json.dumps(["x" * 100] * 30_000), encoding="utf-8")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    (data / "bomb.yml").write_text(bomb, encoding="utf-8")
    secret = tmp_path / "secret.yml"
    secret.write_text("key: SECRET\n", encoding="utf-8")
    (data / "linked.yml").symlink_to(secret)
    loaded = load_site_data(root, {})
    problems = sorted(loaded.problems)
    yaml_problem = problems.pop(2)  # libyaml and PyYAML word the reason differently
    assert yaml_problem.startswith("_data/broken.yml: invalid YAML at line 2: ") and yaml_problem.endswith(", not read")
    assert problems == [
        "_data/bomb.yml: too many values (YAML aliases expand too far), not read",
        "_data/broken.json: invalid JSON at line 1: Expecting value, not read",
        f"_data/huge.json: data file too large ({(data / 'huge.json').stat().st_size} bytes), not read",
        "_data/latin1.yml: not UTF-8 text, not read",
        "_data/linked.yml: leads outside the site, not read",
    ]
    assert set(loaded.data) == {"authors", "nav", "table", "tabs"}


def test_data_bounds_on_count_and_depth(root: Path) -> None:
    deep = root / "_data" / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (deep / "x.yml").write_text("v: 1\n", encoding="utf-8")
    loaded = load_site_data(root, {}, DataLimits(files=3, depth=2))
    assert loaded.problems == ("_data/a/b/c: data folders nested too deep, not read",
                               "_data/tabs.tsv: more than 3 data files, not read")
    assert sorted(loaded.data) == ["a", "authors", "nav", "table"] and loaded.data["a"] == {"b": {}}


def test_post_resolver_matches_as_jekyll_does() -> None:
    resolve = post_resolver({
        "_posts/articles/2016-08-21-static-comments.md": "/articles/static-comments/",
        "notes/_posts/2017-01-30-static-files.markdown": "/notes/static-files/",
        "_posts/2019-01-01-first.md": "/2019/first.html",
    })
    assert resolve("articles/2016-08-21-static-comments") == "/articles/static-comments/"
    assert resolve("/articles/2016-08-21-static-comments") == "/articles/static-comments/"
    assert resolve("2016-08-21-static-comments") == "/articles/static-comments/"  # Jekyll's deprecated fallback
    assert resolve("notes/2017-01-30-static-files") == "/notes/static-files/"
    assert resolve("2019-01-01-first") == "/2019/first.html"
    assert resolve("other/2019-01-01-first") == "/2019/first.html"  # by date-slug, as Jekyll falls back
    assert resolve("2019-01-02-first") is None
    assert resolve("first") is None


def test_link_resolver_takes_the_path_as_written() -> None:
    resolve = link_resolver({"_work/theme.md": "/work/theme/", "about.md": "/about/"})
    assert resolve("_work/theme.md") == "/work/theme/"
    assert resolve("/about.md") == "/about/"
    assert resolve("_work/other.md") is None


def test_site_from_config(root: Path) -> None:
    site = JekyllSite.from_config(root, {"url": "https://a.org/", "baseurl": "/blog/", "includes_dir": "parts"})
    assert (site.url, site.baseurl, site.includes_dir) == ("https://a.org", "/blog", root.resolve() / "parts")
    escaped = JekyllSite.from_config(root, {"includes_dir": "../../etc"})
    assert escaped.includes_dir == root / "_includes"
    assert site.variables()["url"] == "https://a.org" and site.variables()["data"] == {}
