"""A post is in the issue of its front-matter date (Jekyll's rule), whatever its file name says — with a cold
and a warm cache, by --date, --period month and --from/--to; the index finds a post edited to another day."""
from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest import load_settings
from digest.build.check import check_site
from digest.cli.app import app
from digest.runtime.env import Environment
from digest.sources.collect import collect
from digest.sources.inventory import inventory
from digest.sources.siteindex import SiteIndex

# (file name, front-matter date): the name says one day, the front matter another
MOVED = {
    "2014-01-29-later.md": "2015-01-29 10:00:00 +0800",  # the case: a year later than its name
    "2015-03-02-earlier.md": "2015-01-29 11:00:00 +0800",  # earlier than its name
    "2015-01-31-next-month.md": "2015-02-01 09:00:00 +0800",  # its name in January, its date in February
    "2015-02-01-previous-month.md": "2015-01-31 23:30:00 +0800",  # its name in February, its date in January
}


def _site(root: Path) -> Path:
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text("title: Dates\ntimezone: Asia/Shanghai\nurl: https://d.example\n",
                                      encoding="utf-8")
    for name, when in MOVED.items():
        (root / "_posts" / name).write_text(f"---\ntitle: {Path(name).stem}\ndate: {when}\n---\n\nBody of {name}.\n",
                                            encoding="utf-8")
    (root / "_posts" / "2015-01-29-plain.md").write_text("---\ntitle: plain\n---\n\nA plain post.\n", encoding="utf-8")
    return root


def _titles(got) -> list[str]:
    return sorted(p.title for p in got.posts)


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_collect_by_front_matter_date_cold_and_warm(tmp_path, cache):
    site = _site(tmp_path / "site")
    s = load_settings(site)
    env = Environment(tmp_path / "cache" if cache else None)
    for _ in range(2):  # cold, then warm
        assert _titles(collect(s, date(2015, 1, 29), date(2015, 1, 29), env=env)) == [
            "2014-01-29-later", "2015-03-02-earlier", "plain"]
        assert _titles(collect(s, date(2014, 1, 29), date(2014, 1, 29), env=env)) == []
        assert _titles(collect(s, date(2015, 3, 2), date(2015, 3, 2), env=env)) == []
        assert _titles(collect(s, date(2015, 2, 1), date(2015, 2, 28), env=env)) == ["2015-01-31-next-month"]
        assert _titles(collect(s, date(2015, 1, 31), date(2015, 1, 31), env=env)) == ["2015-02-01-previous-month"]


def _run(*args: object, cache: Path) -> object:
    return CliRunner().invoke(app, [str(a) for a in args], env={"DIGEST_CACHE_DIR": str(cache)})


def test_build_by_date_month_and_range_cold_and_warm(tmp_path):
    site = _site(tmp_path / "site")
    cache = tmp_path / "cache"
    for attempt in ("cold", "warm"):
        out = tmp_path / f"out-{attempt}"
        r = _run("build", site, "--date", "2015-01-29", "-o", out, cache=cache)
        assert r.exit_code == 0, r.output
        page = (out / "2015" / "2015-01-29.html").read_text(encoding="utf-8")
        assert "Body of 2014-01-29-later.md" in page and "Body of 2015-03-02-earlier.md" in page
        r = _run("build", site, "--from", "2015-01-01", "--to", "2015-01-31", "--period", "month", "-o", out,
                 cache=cache)
        assert r.exit_code == 0, r.output
        month = (out / "2015" / "2015-01.html").read_text(encoding="utf-8")
        assert "Body of 2015-02-01-previous-month.md" in month and "Body of 2015-01-31-next-month.md" not in month
        assert "Body of 2014-01-29-later.md" in month
        r = _run("build", site, "--from", "2015-02-01", "--to", "2015-02-01", "-o", out, cache=cache)
        assert r.exit_code == 0 and "Body of 2015-01-31-next-month.md" in (
            out / "2015" / "2015-02-01.html").read_text(encoding="utf-8")
        r = _run("build", site, "--date", "2014-01-29", "-o", out, cache=cache)
        assert r.exit_code == 1 and "no posts for 2014-01-29" in r.output  # its file name's day has nothing


def test_a_file_edited_to_another_day_moves_with_a_warm_cache(tmp_path):
    site = _site(tmp_path / "site")
    s = load_settings(site)
    env = Environment(tmp_path / "cache")
    d = date(2015, 1, 29)
    assert "2015-03-02-earlier" in _titles(collect(s, d, d, env=env))
    post = site / "_posts" / "2015-03-02-earlier.md"
    text = post.read_text(encoding="utf-8").replace("2015-01-29 11:00:00", "2016-06-01 11:00:00")
    tmp = post.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, post)  # saved as most tools save: a new file put in place (the folder changes)
    assert "2015-03-02-earlier" not in _titles(collect(s, d, d, env=env))
    assert _titles(collect(s, date(2016, 6, 1), date(2016, 6, 1), env=env)) == ["2015-03-02-earlier"]


def test_an_in_place_edit_is_found_by_list_then_by_builds(tmp_path):
    """Written in place (no rename): the folder does not change; `digest list` checks every file."""
    site = _site(tmp_path / "site")
    s = load_settings(site)
    env = Environment(tmp_path / "cache")
    assert _titles(collect(s, date(2017, 5, 5), date(2017, 5, 5), env=env)) == []
    post = site / "_posts" / "2014-01-29-later.md"
    with post.open("r+", encoding="utf-8") as f:
        text = f.read().replace("2015-01-29 10:00:00", "2017-05-05 10:00:00")
        f.seek(0)
        f.write(text)
        f.truncate()
    assert date(2017, 5, 5) in inventory(s, env=env).days
    assert _titles(collect(s, date(2017, 5, 5), date(2017, 5, 5), env=env)) == ["2014-01-29-later"]


def test_a_second_list_takes_the_first_ones_record_until_a_file_changes(tmp_path, monkeypatch):
    """`digest list` records what a full check found; the next one, every file unchanged (names, sizes, times),
    takes the record without loading or counting the index — and still sees a file edited in place."""
    from digest.runtime.cache import Store

    site = _site(tmp_path / "site")
    (site / "_posts" / "2015-01-30-folder.md").mkdir()  # not a regular file: reported by both lists
    s = load_settings(site)
    env = Environment(tmp_path / "cache")
    first = inventory(s, env=env)

    def refused(*args, **kwargs):
        raise AssertionError("the index was loaded")

    with monkeypatch.context() as m:
        for name in ("head_stats_all", "head_counts", "head_errors", "heads"):
            m.setattr(Store, name, refused)
        second = inventory(s, env=env)
    assert (second.days, second.categories, second.problems) == (first.days, first.categories, first.problems)
    assert [p.path.name for p in second.problems] == ["2015-01-30-folder.md"] * 2  # (stat and index: as before)
    post = site / "_posts" / "2014-01-29-later.md"
    with post.open("r+", encoding="utf-8") as f:  # in place, same size: only its time changes
        text = f.read().replace("2015-01-29 10:00:00", "2017-05-05 10:00:00")
        f.seek(0)
        f.write(text)
    os.utime(post, ns=(post.stat().st_atime_ns, post.stat().st_mtime_ns + 1_000_000))
    third = inventory(s, env=env)
    assert date(2017, 5, 5) in third.days and third.days[date(2015, 1, 29)] == {"uncategorized": 2}


def test_a_record_is_forgotten_when_a_build_writes_the_index(tmp_path):
    """A post added, indexed by a build, then deleted — the folder's listing is again what the last `digest
    list` recorded, but the index holds a row for the deleted file: the next list checks every row and drops it."""
    from digest.sources.siteindex import newest_paths

    site = _site(tmp_path / "site")
    s = load_settings(site)
    env = Environment(tmp_path / "cache")
    inventory(s, env=env)
    extra = site / "_posts" / "2016-01-01-extra.md"
    extra.write_text("---\ntitle: extra\n---\n\nSoon gone.\n", encoding="utf-8")
    assert _titles(collect(s, date(2016, 1, 1), date(2016, 1, 1), env=env)) == ["extra"]
    extra.unlink()
    table = inventory(s, env=env)
    assert date(2016, 1, 1) not in table.days
    assert "_posts/2016-01-01-extra.md" not in newest_paths(SiteIndex(s, env), 10)


def test_index_records_every_files_real_date(tmp_path):
    site = _site(tmp_path / "site")
    s = load_settings(site)
    index = SiteIndex(s, Environment(tmp_path / "cache"), full=True)
    days = {row[0].rsplit("/", 1)[-1]: date.fromordinal(row[3]) for row in index.rows()}
    assert days["2014-01-29-later.md"] == date(2015, 1, 29) and days["2015-02-01-previous-month.md"] == date(2015, 1, 31)
    table = inventory(s, env=Environment(tmp_path / "cache"))
    assert table.days[date(2015, 1, 29)] == {"uncategorized": 3}


def test_check_notes_the_mismatch(tmp_path):
    site = _site(tmp_path / "site")
    report = check_site(load_settings(site))
    notes = {p.path.name: p.message for p in report.problems if not p.skipped}
    assert set(notes) == set(MOVED)
    assert "dated 2015-01-29 in the front matter but 2014-01-29 in the file name" in notes["2014-01-29-later.md"]
    assert report.errors == 0
    r = CliRunner().invoke(app, ["check", str(site)])
    assert r.exit_code == 0 and "warning: _posts/2014-01-29-later.md: dated 2015-01-29" in r.output


@pytest.mark.parametrize("value,expected,timed", [
    ("January 21, 2022", "2022-01-21 00:00", False),
    ("2017-09-27 (optional)", "2017-09-27 00:00", False),
    ("21 Jan 2022 10:15", "2022-01-21 10:15", True),
    ("2023-01-29 18:30:22 2023 -0800", "2023-01-30 10:30", True),  # Time.parse: the zone after junk counts
    ("2022/01/05", "2022-01-05 00:00", False),
])
def test_free_form_dates_as_jekyll_reads_them(tmp_path, value, expected, timed):
    site = tmp_path / "s"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("timezone: Asia/Shanghai\n", encoding="utf-8")
    (site / "_posts" / "2000-01-01-x.md").write_text(f"---\ntitle: x\ndate: {value}\n---\nx\n", encoding="utf-8")
    got = collect(load_settings(site), date(1999, 1, 1), date(2030, 1, 1), env=Environment(None))
    assert [f"{p.date:%Y-%m-%d %H:%M}" for p in got.posts] == [expected]
    assert got.posts[0].timed is timed
    assert any("date" in pr.message for pr in got.problems)  # the loose reading is noted
