from datetime import date
from pathlib import Path

from digest import load_settings
from digest.runtime.env import Environment
from digest.sources.collect import collect
from digest.sources.index import read_meta, scan
from digest.sources.inventory import inventory
from digest.sources.posts import parse_post

NO_CACHE = Environment.from_os(cache=False)
from tests.conftest import EXAMPLE, make_big_site
from tests.jekyll_corpus import CORPUS, SITES


def test_meta_matches_full_parse_on_every_example_post():
    s = load_settings(EXAMPLE)
    root = EXAMPLE.resolve()
    for p in sorted((EXAMPLE / "_posts").glob("*.md")):
        rel = p.relative_to(EXAMPLE).as_posix()
        meta = read_meta(root, rel, s)
        full = parse_post(Path(rel), p.read_bytes(), s)
        assert (meta.date, meta.title, meta.categories, meta.tags, meta.published) == (
            full.date, full.title, full.categories, full.tags, full.published), rel


def test_inventory_counts_days_and_sections(tmp_path):
    site = make_big_site(tmp_path / "site", posts=40, days=3, start="2022-04-17")
    s = load_settings(site)
    inv = inventory(s)
    assert inv.total == 120 and sorted(inv.days) == [date(2022, 4, 17), date(2022, 4, 18), date(2022, 4, 19)]
    assert all(sum(c.values()) == 40 for c in inv.days.values())
    assert set(inv.titles.values()) <= {"东财滚动新闻", "新华社新闻", "财联社新闻", "证券时报新闻", "上海证券报新闻", "中国证券报新闻"}
    warm = inventory(s)
    assert warm.days == inv.days
    one = inventory(s, start=date(2022, 4, 18), end=date(2022, 4, 18))
    assert list(one.days) == [date(2022, 4, 18)] and one.total == 40


def test_one_day_of_many_reads_only_that_day_in_full(tmp_path, monkeypatch):
    site = make_big_site(tmp_path / "site", posts=30, days=5, start="2022-04-15")
    s = load_settings(site)
    import digest.sources.collect as c

    full_reads = []
    real = c._read
    monkeypatch.setattr(c, "_read", lambda root, rel, st: full_reads.append(rel) or real(root, rel, st))
    got = collect(s, date(2022, 4, 17), date(2022, 4, 17))
    assert len(got.posts) == 30 and all(p.date.date() == date(2022, 4, 17) for p in got.posts)
    assert len(full_reads) == 30 and all(r.name.startswith("2022-04-17-") for r in full_reads)


def test_changed_file_is_rescanned(tmp_path):
    site = tmp_path / "s"
    (site / "_posts").mkdir(parents=True)
    post = site / "_posts" / "2022-01-05-a.md"
    post.write_text('---\ntitle: "A"\ndate: 2022-01-05 10:00:00\ncategories: x\n---\nbody\n', encoding="utf-8")
    s = load_settings(site)
    e = [("_posts/2022-01-05-a.md", post.stat().st_mtime_ns, post.stat().st_size)]
    assert scan(s, e, env=Environment.from_os())["_posts/2022-01-05-a.md"].categories == ("x",)
    post.write_text('---\ntitle: "A"\ndate: 2022-01-06 10:00:00\ncategories: yy\n---\nbody\n', encoding="utf-8")
    e = [("_posts/2022-01-05-a.md", post.stat().st_mtime_ns, post.stat().st_size)]
    got = scan(s, e, env=Environment.from_os())["_posts/2022-01-05-a.md"]
    assert got.categories == ("yy",) and got.day == date(2022, 1, 6)


def test_index_rows_are_the_same_read_here_in_forked_shares_or_in_a_pool(tmp_path, monkeypatch):
    from digest.runtime import parallel
    from digest.sources.discover import list_post_files, stat_entries

    site = make_big_site(tmp_path / "site", 300, days=2)
    (site / "_posts" / "2022-04-19-zz-broken.md").write_text("---\ntitle: [\n---\nx\n", encoding="utf-8")
    s = load_settings(site)
    entries, _ = stat_entries(site, sorted(list_post_files(s)))
    assert len(entries) == 601
    forks = []
    real_fork_map = parallel.fork_map
    monkeypatch.setattr(parallel, "fork_map", lambda fn, jobs, **kw: forks.append(len(jobs)) or real_fork_map(fn, jobs, **kw))
    monkeypatch.setattr(parallel, "HEAD", parallel.Cost(fork_from=256))  # (by default a fork pays past ~1,000)
    shared = scan(s, entries, env=NO_CACHE)
    assert forks and forks[0] >= 2  # 601 files: forked shares
    monkeypatch.setattr(parallel, "HEAD", parallel.Cost(fork_from=10_000))
    here = scan(s, entries, env=NO_CACHE)
    monkeypatch.setattr(parallel, "HEAD", parallel.Cost(fork_from=100, pool_from=100))
    monkeypatch.setattr(parallel, "can_fork", lambda: False)  # a thread runs (a spinner): a pool instead of forks
    pooled = scan(s, entries, env=NO_CACHE)
    assert len(forks) == 1
    assert shared == here == pooled and len(here) == 601
    assert isinstance(here["_posts/2022-04-19-zz-broken.md"], str)


def _tricky_site(root: Path) -> Path:
    """Posts that take each way through the index's fast path and out of it."""
    (root / "_posts").mkdir(parents=True)
    (root / "news" / "world" / "_posts").mkdir(parents=True)
    (root / "_drafts").mkdir()
    (root / "_config.yml").write_text(
        "title: t\ntimezone: Asia/Shanghai\ndefaults:\n"
        "  - scope: {path: news, type: posts}\n    values: {categories: [deflt], tags: dtag}\n"
        "  - scope: {path: _posts/2022-01-0, type: posts}\n    values: {published: false}\n", encoding="utf-8")
    posts = {
        "_posts/2022-01-01-plain.md": "---\ntitle: a\ndate: 2022-01-01 23:30:00 -0500\ncategories: x y\n---\nbody",
        "_posts/2022-01-02-nodate.md": "---\ntitle: b\ntags: t1 t2\ntag: t3\n---\n",
        "_posts/2022-01-03-empty.md": "---\ntitle: c\ndate:\ncategory: one\npublished: false\n---\n",
        "_posts/2022-01-04-bad.md": "---\ntitle: d\ndate: not a date at all\n---\n",
        "_posts/undated-bad.md": "---\ntitle: e\ndate: nonsense\n---\n",
        "_posts/undated.md": "---\ntitle: f\n---\n",
        "_posts/2022-01-05-list.md": "---\ntitle: g\ncategories: [p, q, p]\ntags:\n  - u\ndate: 2022-01-05\n---\n",
        "_posts/2022-01-06-free.md": "---\ntitle: h\ndate: January 7, 2022\npublished: no\n---\n",
        "_posts/2022-01-07-crlf.md": "---\r\ntitle: i\r\ndate: 2022-01-08 01:00:00\r\n---\r\n",
        "_posts/2022-01-08-bom.md": "\ufeff---\ntitle: j\ndate: 2022-01-09\n---\n",
        "_posts/2022-01-09-quoted.md": "---\ntitle: 'k: l'\ndate: \"2022-01-10 10:00:00 +0800\"\ntags: \"a b\"\n---\n",
        "_posts/2022-01-10-typed.md": "---\ntitle: 12\ncategories: 2022\ndate: 2022-01-11T05:00:00Z\n---\n",
        "_posts/2022-01-11-year.md": "---\ndate: 1850-01-01\n---\n",
        "_posts/2022-02-30-nosuchday.md": "---\ntitle: m\n---\n",
        "news/world/_posts/2022-01-12-deep.md": "---\ntitle: n\ncategories: extra\n---\n",
        "news/world/_posts/2022-01-13-deflt.md": "---\ntitle: o\ntags: own\n---\n",
        "_drafts/draft.md": "---\ntitle: p\n---\n",
        "_drafts/dated-draft.md": "---\ntitle: q\ndate: 2022-01-14\n---\n",
    }
    for rel, text in posts.items():
        (root / rel).write_bytes(text.encode("utf-8"))
    return root


def _rows_by_full_parse(root: Path, s, entries):
    """The index rows the slow way: every file parsed whole (its reason kept when it cannot be)."""
    from digest.errors import PostError
    from digest.sources.index import make_row

    out = []
    for e in entries:
        mtime = e[1] if "_drafts/" in e[0] else None
        try:
            meta = parse_post(Path(e[0]), (root / e[0]).read_bytes(), s, mtime).meta
        except PostError as err:
            meta = err.message
        out.append(make_row(e, meta))
    return out


def test_index_rows_match_full_parse(tmp_path):
    """Every file's index row (the fast path for most) is what parsing the whole file gives: the example site,
    real Jekyll sites with front-matter defaults, and a site of odd posts, drafts included."""
    from digest.sources.discover import list_post_files, stat_entries
    from digest.sources.index import read_rows

    sites = [(EXAMPLE, {}), (_tricky_site(tmp_path / "tricky"), {})]
    for name, (root, config) in SITES.items():  # (made-mistakes' config is outside its posts' root: not read)
        sites.append((CORPUS / name / root, {"jekyll_config": config} if (CORPUS / name / root / config).is_file()
                      else {}))
    for site, config in sites:
        s = load_settings(site, overrides={"include_drafts": True, **config})
        root = site.resolve()
        entries, _ = stat_entries(root, sorted(list_post_files(s)))
        assert entries, site
        assert read_rows(str(root), s, entries) == _rows_by_full_parse(root, s, entries), site
