from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from digest import load_settings
from digest.errors import PostError
from digest.runtime.env import Environment
from digest.sources.collect import collect
from digest.sources.discover import filename_date, find_post_files
from digest.sources.posts import parse_date, parse_post, split_words

NO_CACHE = Environment.from_os(cache=False)
from tests.conftest import DAY, EXAMPLE, LATE_DAY

SH = timezone(timedelta(hours=8))


def settings_for(site, **over):
    return load_settings(site, overrides=over or None)


def test_example_day_collects_every_post_of_the_day():
    s = load_settings(EXAMPLE)
    got = collect(s, DAY, DAY)
    names = {p.path.name for p in got.posts}
    on_disk = {p.name for p in (EXAMPLE / "_posts").glob("2021-12-08-*.md")}
    assert names == on_disk and len(names) == 98
    assert all(p.date.utcoffset() == timedelta(hours=8) for p in got.posts)
    assert [p.date for p in got.posts] == sorted(p.date for p in got.posts)


def test_blank_line_before_front_matter_is_read_and_noted():
    s = load_settings(EXAMPLE)
    got = collect(s, DAY, DAY)
    odd = [p for p in got.posts if p.path.name == "2021-12-08-202112082206703990.md"]
    assert odd and odd[0].title.startswith("FF")
    notes = [pr for pr in got.problems if pr.path.name == "2021-12-08-202112082206703990.md"]
    assert len(notes) == 1 and not notes[0].skipped and "blank line" in notes[0].message


def test_offset_and_naive_dates_both_land_in_site_timezone():
    s = load_settings(EXAMPLE)
    late = collect(s, LATE_DAY, LATE_DAY).posts
    assert len(late) == 1 and late[0].date == datetime(2022, 4, 19, 13, 22, 25, tzinfo=SH)


def test_local_day_not_utc_day(make_post):
    site = make_post("2022-04-19-late.md", 'title: "Late"\ndate: 2022-04-19 23:30:00 +0800\ncategories: a')
    make_post("2022-04-19-utc.md", 'title: "UTC"\ndate: 2022-04-19T20:00:00Z\ncategories: a')
    s = load_settings(site)
    on_19 = [p.title for p in collect(s, date(2022, 4, 19), date(2022, 4, 19)).posts]
    on_20 = [p.title for p in collect(s, date(2022, 4, 20), date(2022, 4, 20)).posts]
    assert on_19 == ["Late"]  # 15:30 UTC, but 19 April in Shanghai
    assert on_20 == ["UTC"]  # 20:00 UTC on the 19th is 04:00 on the 20th in Shanghai


def test_file_name_date_when_front_matter_has_none(make_post):
    site = make_post("2022-01-05-nodate.md", 'title: "No date"')
    got = collect(settings_for(site), date(2022, 1, 5), date(2022, 1, 5))
    assert [p.title for p in got.posts] == ["No date"] and not got.problems


def test_invalid_and_empty_dates_are_reported_not_guessed_silently(make_post):
    site = make_post("2022-01-05-bad.md", 'title: "Bad"\ndate: not a date')
    make_post("2022-01-05-empty.md", 'title: "Empty"\ndate:')
    make_post("undated.md", 'title: "Nowhere"\ndate: garbage')
    got = collect(settings_for(site), date(2022, 1, 5), date(2022, 1, 5))
    assert sorted(p.title for p in got.posts) == ["Bad", "Empty"]
    msgs = {pr.path.name: pr for pr in got.problems}
    assert "invalid date" in msgs["2022-01-05-bad.md"].message and not msgs["2022-01-05-bad.md"].skipped
    assert "empty date" in msgs["2022-01-05-empty.md"].message
    assert msgs["undated.md"].skipped and "invalid date" in msgs["undated.md"].message


@pytest.mark.parametrize("front,cats,tags", [
    ("categories: emnews", ("emnews",), ()),
    ("categories: a b\ntags: x y", ("a", "b"), ("x", "y")),
    ("categories: [a, b]\ntags: [东财滚动新闻]", ("a", "b"), ("东财滚动新闻",)),
    ("category: solo\ntag: one", ("solo",), ("one",)),
    ("categories:\n  - a\n  - b", ("a", "b"), ()),
])
def test_category_forms(make_post, front, cats, tags):
    site = make_post("2022-01-05-c.md", f'title: "C"\n{front}')
    (p,) = collect(settings_for(site), date(2022, 1, 5), date(2022, 1, 5)).posts
    assert p.categories == cats and p.tags == tags


def test_nested_posts_folder_adds_category(make_post):
    site = make_post("2022-01-05-n.md", 'title: "N"', folder="markets/_posts")
    (p,) = collect(settings_for(site), date(2022, 1, 5), date(2022, 1, 5)).posts
    assert p.categories == ("markets",) and p.path == Path("markets/_posts/2022-01-05-n.md")


def test_extra_post_dirs_from_config(make_post):
    site = make_post("2022-01-05-old.md", 'title: "Old"', folder="old_post")
    s = settings_for(site)
    assert collect(s, date(2022, 1, 5), date(2022, 1, 5)).posts == []
    s2 = settings_for(site, post_dirs=["old_post"])
    assert [p.title for p in collect(s2, date(2022, 1, 5), date(2022, 1, 5)).posts] == ["Old"]


def test_unpublished_and_future_posts_skipped_unless_asked(make_post):
    site = make_post("2022-01-05-draft.md", 'title: "Draft"\npublished: false')
    future = datetime.now(SH) + timedelta(hours=3)
    make_post(f"{future:%Y-%m-%d}-future.md", f'title: "Future"\ndate: {future:%Y-%m-%d %H:%M:%S} +0800')
    d = date(2022, 1, 5)
    assert collect(settings_for(site), d, d).posts == []
    assert [p.title for p in collect(settings_for(site, include_unpublished=True), d, d).posts] == ["Draft"]
    fd = future.date()
    assert collect(settings_for(site), fd, fd).posts == []
    assert [p.title for p in collect(settings_for(site, include_future=True), fd, fd).posts] == ["Future"]


def test_one_day_build_reads_only_candidate_files(make_post, monkeypatch):
    site = make_post("2022-01-05-a.md", 'title: "A"')
    for day in range(10, 28):
        make_post(f"2022-01-{day:02d}-x.md", 'title: "X"')
    import digest.sources.collect as c

    read = []
    real = c._read
    monkeypatch.setattr(c, "_read", lambda root, rel, s: read.append(rel.name) or real(root, rel, s))
    collect(settings_for(site), date(2022, 1, 5), date(2022, 1, 5), env=NO_CACHE)
    assert read == ["2022-01-05-a.md"]


def test_cache_serves_unchanged_files_and_rereads_changed_ones(make_post, monkeypatch):
    site = make_post("2022-01-05-a.md", 'title: "A"')
    import digest.sources.collect as c

    s = settings_for(site)
    d = date(2022, 1, 5)
    assert [p.title for p in collect(s, d, d).posts] == ["A"]
    calls = []
    real = c._read
    monkeypatch.setattr(c, "_read", lambda root, rel, st: calls.append(rel) or real(root, rel, st))
    assert [p.title for p in collect(s, d, d).posts] == ["A"] and calls == []
    make_post("2022-01-05-a.md", 'title: "A changed, and longer"')
    assert [p.title for p in collect(s, d, d).posts] == ["A changed, and longer"] and len(calls) == 1


def test_bad_files_reported_on_one_line_and_skipped(make_post):
    site = make_post("2022-01-05-good.md", 'title: "Good"')
    (site / "_posts" / "2022-01-05-yaml.md").write_text('---\ntitle: "unclosed\n  : :\n---\nx', encoding="utf-8")
    (site / "_posts" / "2022-01-05-open.md").write_text('---\ntitle: x\nbody without end', encoding="utf-8")
    (site / "_posts" / "2022-01-05-empty.md").write_text("", encoding="utf-8")
    (site / "_posts" / "2022-01-05-bin.md").write_bytes(b"\x00\x01\x02binary")
    got = collect(settings_for(site), date(2022, 1, 5), date(2022, 1, 5))
    assert [p.title for p in got.posts] == ["Good"]
    bad = {p.path.name: p.message for p in got.problems if p.skipped}
    assert set(bad) == {"2022-01-05-yaml.md", "2022-01-05-open.md", "2022-01-05-empty.md", "2022-01-05-bin.md"}
    assert "YAML" in bad["2022-01-05-yaml.md"] and "not closed" in bad["2022-01-05-open.md"]
    assert all("\n" not in m for m in bad.values())


def test_encodings_bom_gb18030_crlf(make_post):
    site = make_post("2022-01-05-plain.md", 'title: "plain"')
    text = '---\r\ntitle: "中文标题"\r\n---\r\n\r\n正文内容。\r\n'
    (site / "_posts" / "2022-01-05-bom.md").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (site / "_posts" / "2022-01-05-early.md").write_bytes(text.encode("gb18030"))
    got = collect(settings_for(site), date(2022, 1, 5), date(2022, 1, 5))
    titles = {p.path.name: p.title for p in got.posts}
    assert titles["2022-01-05-bom.md"] == "中文标题" and titles["2022-01-05-early.md"] == "中文标题"
    assert any("GB18030" in p.message for p in got.problems if p.path.name == "2022-01-05-early.md")


def test_parse_helpers():
    tz = load_settings(EXAMPLE).tz
    assert parse_date("2022-04-19 13:22:25 +0800", tz) == datetime(2022, 4, 19, 13, 22, 25, tzinfo=SH)
    assert parse_date("2022-04-19 05:22:25 +00:00", tz).hour == 13
    assert parse_date("2022-04-19", tz).hour == 0
    with pytest.raises(ValueError):
        parse_date("2022-13-45", tz)
    assert filename_date("2021-12-08-2021.md") == date(2021, 12, 8) and filename_date("x.md") is None
    assert split_words("a  b") == ("a", "b") and split_words(["a", None, ""]) == ("a",)
    with pytest.raises(PostError):
        parse_post(Path("x.md"), b"x" * 20, load_settings(EXAMPLE).model_copy(update={"max_post_bytes": 10}))


def test_find_post_files_skips_output_and_hidden(make_post):
    site = make_post("2022-01-05-a.md", 'title: "A"')
    make_post("2022-01-05-b.md", 'title: "B"', folder="_site/_posts")
    make_post("2022-01-05-c.md", 'title: "C"', folder=".git/_posts")
    assert [p.as_posix() for p in find_post_files(settings_for(site))] == ["_posts/2022-01-05-a.md"]


def test_many_files_read_in_worker_processes_exactly_as_in_one(make_post, monkeypatch):
    from datetime import date

    from digest.runtime import parallel

    for i in range(80):
        make_post(f"2022-01-05-p{i:03d}.md", f'title: "第{i}条"\ndate: 2022-01-05 08:{i % 60:02d}:00', f"正文 {i}。\n")
    make_post("2022-01-05-bad.md", 'title: "x\ndate: [', "broken front matter\n")
    site = make_post("2022-01-05-early.md", 'title: "Ok"\ndate: 2022-01-05 07:00:00', "y\n")
    s = load_settings(site)
    day = date(2022, 1, 5)
    shares = []  # the size of each share a forked child took

    class Forked(parallel.Background):
        def __init__(self, fn, arg):
            shares.append(len(arg))
            super().__init__(fn, arg)

    monkeypatch.setattr(parallel, "Background", Forked)
    many = collect(s, day, day, env=NO_CACHE)
    assert len(shares) >= 2 and 0 not in shares
    forked = len(shares)
    monkeypatch.setattr(parallel, "POST", parallel.Cost(fork_from=10_000))
    one = collect(s, day, day, env=NO_CACHE)
    assert len(shares) == forked
    assert len(many.posts) == 81 and many.posts == one.posts
    assert [(p.path, p.message) for p in many.problems] == [(p.path, p.message) for p in one.problems]
    assert [p.path.name for p in many.problems if p.skipped] == ["2022-01-05-bad.md"]


def test_a_word_read_as_an_unknown_time_zone_warns_nothing(recwarn):
    """dateutil's fuzzy reading took 'XSS' in ``&#39;&#88;&#83<WBR>;&#83;&#39;`` for a zone name and printed an
    UnknownTimezoneWarning on stderr (attack corpus a296/a297 as a post's date): a date's words never warn."""
    from zoneinfo import ZoneInfo

    from digest.sources.defaults import loose_date

    tz = ZoneInfo("Asia/Shanghai")
    for text in ("12 Jan 2022 10:00 XSS", "&#108;&#101;&<WBR>#114;&#116;&#40;&#39;&#88;&#83<WBR>;&#83;&#39;&#41>"):
        loose_date(text, tz)
    assert loose_date("12 Jan 2022 10:00 XSS", tz) == (datetime(2022, 1, 12, 10, 0, tzinfo=tz), True)
    assert not [w for w in recwarn if "tzname" in str(w.message)]
