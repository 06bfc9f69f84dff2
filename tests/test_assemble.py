from datetime import date

from digest import load_settings
from digest.assemble.assemble import assemble
from digest.build import make_digest, periods
from digest.runtime.env import Environment
from digest.sources.collect import Collected, collect

NO_CACHE = Environment.from_os(cache=False)
from tests.conftest import DAY, EXAMPLE

D = date(2022, 1, 5)


def test_example_day_one_section_with_human_title_and_unique_ids():
    d = make_digest(load_settings(EXAMPLE), DAY, DAY)
    assert [s.title for s in d.sections] == ["东财滚动新闻"] and d.sections[0].id == "emnews"
    assert d.count == 97 and d.duplicates_dropped == 1
    ids = [p.id for p in d.posts]
    assert len(ids) == len(set(ids))
    # the newest of the two copies of the same article is kept
    titles = [p.title for p in d.posts]
    assert "在岸人民币兑美元升至2018年5月以来新高 现报6.3565" in titles
    assert "在岸人民币兑美元升至2018年5月以来新高 现报6.3565。" not in titles


def test_dedupe_by_url_keeps_newest(make_post):
    site = make_post("2022-01-05-a.md", 'title: "Old"\ndate: 2022-01-05 09:00:00', "x\n\n<https://o.example/1>\n")
    make_post("2022-01-05-b.md", 'title: "New"\ndate: 2022-01-05 10:00:00', "y\n\n<https://o.example/1>\n")
    make_post("2022-01-05-c.md", 'title: "Other"\ndate: 2022-01-05 11:00:00', "z\n\n<https://o.example/2>\n")
    d = make_digest(load_settings(site), D, D)
    assert [p.title for p in d.posts] == ["New", "Other"] and d.duplicates_dropped == 1
    d2 = make_digest(load_settings(site, overrides={"dedupe": False}), D, D)
    assert d2.count == 3


def test_section_titles_order_and_article_order(make_post):
    site = make_post("2022-01-05-a.md", 'title: "A1"\ndate: 2022-01-05 09:00:00\ncategories: xinhuashe\ntags: 新华社新闻')
    make_post("2022-01-05-b.md", 'title: "A2"\ndate: 2022-01-05 10:00:00\ncategories: xinhuashe\ntags: 新华社新闻')
    make_post("2022-01-05-c.md", 'title: "B1"\ndate: 2022-01-05 08:00:00\ncategories: cailianshe\ntags: [x, y]')
    make_post("2022-01-05-d.md", 'title: "C1"\ndate: 2022-01-05 08:00:00\ncategories: emnews\ntags: t')
    s = load_settings(site, overrides={"sections": {"emnews": "东财"}, "section_order": ["xinhuashe"]})
    d = make_digest(s, D, D)
    assert [(x.id, x.title) for x in d.sections] == [
        ("xinhuashe", "新华社新闻"),  # the single common tag
        ("cailianshe", "cailianshe"),  # no single common tag: the id
        ("emnews", "东财"),  # from config
    ]
    assert [p.title for p in d.sections[0].posts] == ["A1", "A2"]
    s2 = load_settings(site, overrides={"article_order": "desc"})
    assert [p.title for p in make_digest(s2, D, D).sections[-1].posts] == ["A2", "A1"]


def test_neighbours_cross_sections(make_post):
    site = make_post("2022-01-05-a.md", 'title: "A"\ncategories: a\ndate: 2022-01-05 09:00:00')
    make_post("2022-01-05-b.md", 'title: "B"\ncategories: b\ndate: 2022-01-05 08:00:00')
    d = make_digest(load_settings(site), D, D)
    a, b = d.posts
    assert d.neighbours(a) == (None, b) and d.neighbours(b) == (a, None)
    assert d.section_of(b).id == "b"


def test_generated_time_is_reproducible(make_post, monkeypatch):
    site = make_post("2022-01-05-a.md", 'title: "A"\ndate: 2022-01-05 09:00:00')
    s = load_settings(site)
    d = make_digest(s, D, D)
    assert d.generated == d.posts[0].date
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert make_digest(s, D, D).generated.timestamp() == 1700000000


def test_periods_split_weeks_and_months():
    assert periods(date(2022, 1, 5), date(2022, 1, 6), "day") == [(date(2022, 1, 5),) * 2, (date(2022, 1, 6),) * 2]
    assert periods(date(2022, 1, 5), date(2022, 1, 12), "week") == [
        (date(2022, 1, 3), date(2022, 1, 9)), (date(2022, 1, 10), date(2022, 1, 16))]
    assert periods(date(2022, 1, 30), date(2022, 2, 2), "month") == [
        (date(2022, 1, 1), date(2022, 1, 31)), (date(2022, 2, 1), date(2022, 2, 28))]


def test_exclude_urls_for_cross_day_dedupe(make_post):
    site = make_post("2022-01-05-a.md", 'title: "A"', "x\n\n<https://o.example/1>\n")
    s = load_settings(site)
    c = collect(s, D, D)
    assert assemble(s, c, D, D, exclude_urls=frozenset({"https://o.example/1"}), env=NO_CACHE).count == 0


def test_rendered_posts_cached_and_invalidated(make_post, monkeypatch):
    import digest.render.post as content

    site = make_post("2022-01-05-a.md", 'title: "A"\nmood: calm', "正文 *a*。\n\n<https://o.example/1>\n")
    make_post("2022-01-05-b.md", 'title: "B"', "正文 b。\n")
    calls = []
    real = content.ContentRenderer.render
    monkeypatch.setattr(content.ContentRenderer, "render", lambda self, src, pid: calls.append(pid) or real(self, src, pid))
    s = load_settings(site)
    first = make_digest(s, D, D)
    assert len(calls) == 2
    second = make_digest(s, D, D)
    assert len(calls) == 2 and second.posts == first.posts  # served from the cache, equal in every field
    assert dict(second.posts[0].extra) == {"mood": "calm"}
    make_post("2022-01-05-b.md", 'title: "B2"', "正文 b，改了。\n")
    assert [p.title for p in make_digest(s, D, D).posts] == ["A", "B2"] and len(calls) == 3
    make_digest(load_settings(site, overrides={"summary_length": 30}), D, D)  # settings changed: all again
    assert len(calls) == 5
    make_digest(s, D, D, env=NO_CACHE)
    assert len(calls) == 7


def test_many_new_posts_render_in_worker_processes_exactly_as_in_one(make_post, monkeypatch):
    from digest.assemble import assemble as assembly
    from digest.runtime import parallel

    bodies = sorted((EXAMPLE / "_posts").glob("2021-12-08-*.md"))[:80]
    for i, src in enumerate(bodies):
        make_post(f"2022-01-05-p{i:03d}.md", f'title: "第{i}条"\ndate: 2022-01-05 08:{i % 60:02d}:00',
                  src.read_text(encoding="utf-8").split("---", 2)[2])
    site = make_post("2022-01-05-deep.md", 'title: "Deep"\ndate: 2022-01-05 07:00:00', "<div>" * 2000 + "x")
    s = load_settings(site)
    collected = collect(s, D, D, env=NO_CACHE)
    ids = assembly.unique_ids(collected.posts)
    shares = []  # the size of each share a forked child took

    class Forked(parallel.Background):
        def __init__(self, fn, arg):
            shares.append(len(arg))
            super().__init__(fn, arg)

    monkeypatch.setattr(parallel, "Background", Forked)
    again = Collected(list(collected.posts), list(collected.problems))  # render_posts takes the posts it renders
    posts, problems = assembly.render_posts(s, collected, ids, env=NO_CACHE)
    assert not collected.posts
    assert len(shares) >= 2 and 0 not in shares  # the posts were shared out to worker processes
    forked = len(shares)
    monkeypatch.setattr(parallel, "POST", parallel.Cost(fork_from=10_000))
    one_posts, one_problems = assembly.render_posts(s, again, ids, env=NO_CACHE)
    assert len(shares) == forked
    assert len(posts) == len(bodies) and posts == one_posts  # same posts, same order, same HTML
    assert [(p.path.name, p.message) for p in problems] == [(p.path.name, p.message) for p in one_problems]
    assert [p.path.name for p in problems] == ["2022-01-05-deep.md"] and "nested" in problems[0].message


def test_rendered_posts_are_shared_by_builds_of_other_formats_but_not_other_rules(monkeypatch):
    from digest.render import post as content
    from digest.runtime import parallel

    monkeypatch.setattr(parallel, "POST", parallel.Cost(fork_from=10_000))  # rendered here, where the calls are counted
    calls = []
    real = content.ContentRenderer.render
    monkeypatch.setattr(content.ContentRenderer, "render", lambda self, *a: calls.append(1) or real(self, *a))
    make_digest(load_settings(EXAMPLE, overrides={"formats": ["html"]}), DAY, DAY)
    first = len(calls)
    assert first > 90
    make_digest(load_settings(EXAMPLE, overrides={"formats": ["epub", "pdf"], "theme": "newspaper",
                                                  "epub": {"embed_fonts": True}}), DAY, DAY)
    assert len(calls) == first  # nothing re-rendered: none of those settings shapes a post
    make_digest(load_settings(EXAMPLE, overrides={"summary_length": 40}), DAY, DAY)
    assert len(calls) == 2 * first  # a setting that shapes posts: all rendered again
