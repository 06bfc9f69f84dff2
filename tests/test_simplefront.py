"""The front matter's fast path gives exactly what the safe YAML parse gives, or declines; and a post whose
file-name date and front-matter date differ is indexed by the latter, whichever path read it."""
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from digest import load_settings
from digest.errors import PostError
from digest.runtime.env import Environment
from digest.sources.frontmatter import decode, load_front_matter, split_front_matter
from digest.sources.index import read_rows
from digest.sources.posts import parse_post
from digest.sources.simplefront import simple_front
from digest.sources.siteindex import SiteIndex, dated_between
from tests.conftest import EXAMPLE
from tests.jekyll_corpus import CORPUS

CORPORA = [CORPUS.parent, EXAMPLE]


def full(fm: str) -> dict[str, object] | str:
    try:
        return load_front_matter(fm)
    except PostError as e:
        return e.message


def same(fm: str) -> dict[str, object] | None:
    """The fast path's answer, checked against the full parse: equal values of equal types, keys in order."""
    quick = simple_front(fm)
    if quick is not None:
        want = full(fm)
        assert isinstance(want, dict), (fm, want)
        assert list(quick.items()) == list(want.items()), fm
        assert [type(v) for v in quick.values()] == [type(v) for v in want.values()], fm
    return quick


HOSTILE = [
    'title: "a"\ndate: 2022-03-01 20:32:53 +0800\n',  # the common case: a date YAML leaves as text
    "date: 2022-03-01 20:32:53\n", "date: 2022-03-01\n", "date: 2022-03-01T20:32:53Z\n",
    "date: 2022-03-01 20:32:53 +08:00\n", "date: 2022-03-01 20:32:53.123456 -5\n", "date: 2022-03-01t20:32:53z\n",
    "date: 2022-02-30\n", "date: 2022-13-01 10:00:00\n", 'date: "2022-03-01"\n', "date: '2022-03-01 10:00'\n",
    "date: 2022-3-1 1:02:03\n", "date: 2022-03-01   10:00:00\n", "date: 20220301\n", "date: 2022-03-01 # c\n",
    "date: &d 2022-03-01\nx: *d\n", "date: !!str 2022-03-01\n", "date: !!timestamp 2022-03-01\n",
    "date:\n  2022-03-01\n", "date: >\n  2022-03-01\n", "date: |\n  x\n", "date: [2022-03-01]\n",
    "title: a\ntitle: b\n", "true: x\n", "null: x\n", "on: x\n", "y: x\n", "<<: {a: 1}\n", "=: x\n",
    "title: 标题\u3000\n", "title: \u3000标题\n", "title: a\u2028b\n", "title: a\x85b\n", "title: a\u2029b\n",
    "\ufefftitle: x\n", "title: \ufeffx\n", "title: a\x7fb\n", "title: a\x01b\n", "title: a\rb\n", "title: a\tb\n",
    "title: a\t#b\n", "title: a #b\n", "title: a#b\n", "title: a: b\n", "title: a:b\n", "title: a:\n", "title:a\n",
    'title: "a\\"b"\n', 'title: "a\\u0041"\n', "title: 'it''s'\n", "title: 'a\\b'\n", 'title: "a" x\n', "title: 'a\n",
    'title: "a # b"\n', "title: - a\n", "title: -a\n", "title: ? a\n", "title: %a\n", "title: @a\n", "title: `a\n",
    "title: [a, b]\n", "title: a, b\n", "title: {a: b}\n", "title: a [b]\n", "title: ~\n", "title: null\n",
    "title: NULL\n", "title:\n", "title: \n", 'title: ""\n', "title: ''\n", "published: false\n", "published: no\n",
    "published: off\n", "published: n\n", "published: False\n", "count: 12\n", "count: 1_000\n", "count: 0x1f\n",
    "count: 1:20\n", "count: .inf\n", "count: 1e3\n", "count: 1.5\n", "slug: 007\n", "a b: c\n", "key : v\n",
    "# a comment\ntitle: x\n", "title: x\n# c\n", "  title: x\n", "\ttitle: x\n", "title: x\n  more\n",
    "title: x\nmore\n", "- a\n- b\n", "just text\n", "---\n", "...\n", "title: x\n---\n", "", "\n\n", "   \n",
    "title: x\n   \ntags: y\n", "title: x\n\t\n", "title: x\r\ndate: 2022-03-01\r\n", "categories: a b c\n",
    "tags: 东财滚动新闻\n", "layout: post\n" * 2, "x" * 70_000 + ": y\n", "k: v\n" * 1500,
    "title: 2022-03-01 10:00:00 +0800 (note)\n", "title: 12:30\n", "time: 12:30:45\n", "title: Yes\n",
]


@pytest.mark.parametrize("fm", HOSTILE)
def test_fast_path_agrees_with_yaml_or_declines_on_odd_front_matter(fm):
    same(fm)


def test_fast_path_takes_the_common_lines():
    got = same('layout: post\ntitle: "瑞士信贷（094500）"\ndate: 2022-03-01 20:32:53 +0800\n'
               'categories: emnews\ntags: 东财滚动新闻\n')
    assert got == {"layout": "post", "title": "瑞士信贷（094500）", "date": "2022-03-01 20:32:53 +0800",
                   "categories": "emnews", "tags": "东财滚动新闻"}
    assert isinstance(same("date: 2022-03-01 20:32:53\n"), dict)  # a timestamp, built by PyYAML's constructor
    assert same("title: a #b\n") is None and same("title: a\u2028b\n") is None and same("a: 1\na: 2\n") is None


LINES = ["title", "date", "categories", "tags", "published", "slug", "layout", "true", "x-y"]
VALUES = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["2021-12-08 10:46:18", "2022-04-19 13:22:25 +0800", "2022-04-19T13:22:25+08:00", "2022-04-19",
                     "false", "no", "true", "emnews", '"a: b"', "'x''y'", "[a, b]", "~", "null", "&a x", "*a", "12",
                     "- x", "a #c", '"esc\\"q"', "\u3000x\u3000", "a\tb", "'q'", '"d"', "", " "]),
)


@hsettings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(LINES), VALUES, st.sampled_from([": ", ":", ":\t", " : ", ":  "])),
                max_size=6))
def test_fast_path_agrees_with_yaml_on_generated_front_matter(lines):
    same("".join(f"{k}{sep}{v}\n" for k, sep, v in lines))


def front_matters() -> list[tuple[Path, str]]:
    out = []
    for root in CORPORA:
        for p in sorted(root.rglob("*")):
            if p.suffix not in (".md", ".markdown", ".html") or not p.is_file():
                continue
            try:
                text = decode(p.read_bytes())[0].replace("\r\n", "\n").replace("\r", "\n")
                fm = split_front_matter(text.lstrip())[0]
            except PostError:
                continue
            if fm is not None:
                out.append((p, fm))
    return out


def test_fast_path_agrees_with_yaml_on_the_real_corpora():
    got = [(p, same(fm)) for p, fm in front_matters()]
    assert len(got) > 200
    assert sum(quick is not None for _, quick in got) > 90  # (the Jekyll corpus's have lists: the full parse)
    assert all(quick is not None for p, quick in got if p.is_relative_to(EXAMPLE / "_posts"))


def test_index_rows_read_from_heads_are_those_of_the_full_parse_on_the_corpora():
    """Every post of the real corpora: the index's row from the file's head (fast path or not) says the day,
    time, sections and publication the full reading of the file says — or it is unreadable for both."""
    from tests.jekyll_corpus import SITES

    for site in [EXAMPLE, *((CORPUS / name / root).resolve() for name, (root, _) in SITES.items())]:
        s = load_settings(site)
        root = site.resolve()
        posts = sorted(p for p in root.rglob("*")
                       if p.is_file() and "_posts" in p.parts and p.suffix in (".md", ".markdown", ".html"))
        entries = [(p.relative_to(root).as_posix(), 0, 0) for p in posts]
        for (rel, *_), row in zip(entries, read_rows(str(root), s, entries), strict=True):
            try:
                meta = parse_post(Path(rel), (root / rel).read_bytes(), s).meta
            except PostError as e:
                assert row[8] == e.message, rel
                continue
            assert row[8] is None, (rel, row[8])
            assert (row[3], row[4], row[5], row[6], row[7]) == (
                meta.date.toordinal(), meta.date.timestamp(), "\x1f".join(meta.categories), "\x1f".join(meta.tags),
                int(meta.published)), rel


@pytest.mark.parametrize("front", [
    "date: 2022-03-05 10:00:00 +0800",  # the fast path: text
    "date: 2022-03-05 10:00:00",  # the fast path: a timestamp
    "date: 2022-03-05",
    'date: "2022-03-05 10:00:00"',
    "date: 2022-03-05T02:00:00Z",
    "date: &d 2022-03-05 10:00:00\nlast: *d",  # the full parse (an anchor)
    "date: 2022-03-05 10:00:00 # a comment",
    "date:\n  2022-03-05 10:00:00",
])
def test_a_post_dated_another_day_than_its_name_is_found_on_its_day(tmp_path, front):
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_posts" / "2021-01-01-moved.md").write_text(f"---\ntitle: Moved\n{front}\n---\nbody\n", encoding="utf-8")
    (site / "_posts" / "2022-03-05-stays.md").write_text("---\ntitle: Stays\n---\nbody\n", encoding="utf-8")
    s = load_settings(site, overrides={"timezone": "Asia/Shanghai"})
    for env in (Environment.from_os(cache=False), Environment(cache_dir=tmp_path / "cache")):
        index = SiteIndex(s, env)
        assert dated_between(index, date(2022, 3, 5), date(2022, 3, 5)) == [
            "_posts/2021-01-01-moved.md", "_posts/2022-03-05-stays.md"], front
        assert dated_between(index, date(2021, 1, 1), date(2021, 1, 1)) == []
