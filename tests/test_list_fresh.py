"""`digest list` reuses a tree's recorded names while its folders are unchanged, yet never shows a stale day:
an edited post (in place, its time set back), a post added to an existing folder (its folder's time set
back too), removed, renamed or moved into a new sub-folder is seen by the very next list."""
from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

import digest.sources.listing as listing
from digest import load_settings
from digest.cli.app import app
from digest.runtime.env import Environment
from digest.sources.inventory import inventory

DAYS = {"2015-01-29-a.md": "2015-01-29 10:00:00", "2015-01-30-b.md": "2015-01-30 10:00:00",
        "2015-01-31-c.md": "2015-01-31 10:00:00"}


def _post(path: Path, when: str, title: str = "t") -> None:
    path.write_text(f"---\ntitle: {title}\ndate: {when}\n---\n\nBody.\n", encoding="utf-8")


def _site(root: Path) -> Path:
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text("title: Fresh\ntimezone: UTC\n", encoding="utf-8")
    for name, when in DAYS.items():
        _post(root / "_posts" / name, when)
    return root


def _days(s, env) -> dict[date, int]:
    return {d: sum(c.values()) for d, c in inventory(s, env=env).days.items()}


@pytest.fixture
def settled(monkeypatch):
    """Folders count as settled at once (their ctime cannot be set back, and a test does not wait 2 s)."""
    monkeypatch.setattr(listing, "SETTLE_NS", -10**9)


@pytest.fixture
def no_listing(monkeypatch):
    """Calling it makes listing a folder fail: what follows must take the recorded names."""
    def refuse() -> None:
        def listed(*args, **kwargs):
            raise AssertionError("a tree was listed again")
        monkeypatch.setattr(listing, "list_tree", listed)
    return refuse


def _edit_in_place(post: Path, old: str, new: str) -> None:
    """The same length, written into the same file (no rename: the folder does not change)."""
    assert len(old) == len(new)
    with post.open("r+", encoding="utf-8") as f:
        text = f.read().replace(old, new)
        f.seek(0)
        f.write(text)


def test_names_are_reused_while_the_folders_are_unchanged(tmp_path, settled, no_listing):
    site = _site(tmp_path / "site")
    s, env = load_settings(site), Environment(tmp_path / "cache")
    first = _days(s, env)
    no_listing()
    assert _days(s, env) == first == {date(2015, 1, 29): 1, date(2015, 1, 30): 1, date(2015, 1, 31): 1}


def test_a_folder_changed_just_before_it_was_listed_is_listed_again(tmp_path, monkeypatch):
    monkeypatch.setattr(listing, "SETTLE_NS", 3600 * 10**9)  # (a slow machine may take seconds between the two)
    site = _site(tmp_path / "site")
    s, env = load_settings(site), Environment(tmp_path / "cache")
    _days(s, env)
    calls = []
    real = listing.list_tree
    monkeypatch.setattr(listing, "list_tree", lambda *a: calls.append(a) or real(*a))
    _days(s, env)  # its folder's ctime is within SETTLE_NS of the first listing: not trusted
    assert len(calls) == 1


@pytest.mark.parametrize("back", ["recorded", "older"])
def test_an_edit_in_place_is_seen_even_with_its_time_set_back(tmp_path, settled, no_listing, back):
    site = _site(tmp_path / "site")
    s, env = load_settings(site), Environment(tmp_path / "cache")
    _days(s, env)
    post = site / "_posts" / "2015-01-29-a.md"
    was = post.stat()
    no_listing()
    _edit_in_place(post, "2015-01-29 10:00:00", "2017-05-05 10:00:00")
    mtime = was.st_mtime_ns if back == "recorded" else was.st_mtime_ns - 86_400 * 10**9
    os.utime(post, ns=(was.st_atime_ns, mtime))
    assert (post.stat().st_mtime_ns, post.stat().st_size) == (mtime, was.st_size)
    got = _days(s, env)
    assert date(2015, 1, 29) not in got and got[date(2017, 5, 5)] == 1
    assert _days(s, env) == got  # and the next list, from the record it made
    _edit_in_place(post, "2017-05-05 10:00:00", "2015-01-29 10:00:00")  # back again, its time too
    os.utime(post, ns=(was.st_atime_ns, mtime))
    assert _days(s, env)[date(2015, 1, 29)] == 1


@pytest.mark.parametrize("folder_time", ["as it is", "set back"])
def test_a_post_dropped_into_an_existing_folder_is_listed(tmp_path, settled, folder_time):
    site = _site(tmp_path / "site")
    s, env = load_settings(site), Environment(tmp_path / "cache")
    _days(s, env)
    folder = site / "_posts"
    was = folder.stat()
    _post(folder / "2016-02-02-new.md", "2016-02-02 08:00:00")
    if folder_time == "set back":  # as `rsync -t` or `tar` may leave it: only its ctime tells
        os.utime(folder, ns=(was.st_atime_ns, was.st_mtime_ns))
    assert _days(s, env)[date(2016, 2, 2)] == 1


def test_removed_renamed_and_moved_posts(tmp_path, settled):
    site = _site(tmp_path / "site")
    s, env = load_settings(site), Environment(tmp_path / "cache")
    _days(s, env)
    posts = site / "_posts"
    (posts / "2015-01-30-b.md").unlink()
    assert date(2015, 1, 30) not in _days(s, env)
    os.rename(posts / "2015-01-31-c.md", posts / "2015-01-31-renamed.md")
    table = inventory(s, env=env)
    assert table.total == 2 and table.days[date(2015, 1, 31)] == {"uncategorized": 1}
    (posts / "sub").mkdir()
    os.rename(posts / "2015-01-31-renamed.md", posts / "sub" / "2015-01-31-renamed.md")
    assert _days(s, env) == {date(2015, 1, 29): 1, date(2015, 1, 31): 1}
    _post(posts / "sub" / "2015-02-03-deeper.md", "2015-02-03 10:00:00")  # only the sub-folder changes
    assert _days(s, env)[date(2015, 2, 3)] == 1


def test_a_post_replaced_by_a_file_of_the_same_name_size_and_time(tmp_path, settled):
    """Saved as editors save (a new file renamed over the old one), its time then restored."""
    site = _site(tmp_path / "site")
    s, env = load_settings(site), Environment(tmp_path / "cache")
    _days(s, env)
    post = site / "_posts" / "2015-01-31-c.md"
    was = post.stat()
    tmp = post.with_name(".tmp-c")
    tmp.write_text(post.read_text(encoding="utf-8").replace("2015-01-31 10", "2015-03-31 10"), encoding="utf-8")
    os.utime(tmp, ns=(was.st_atime_ns, was.st_mtime_ns))
    os.replace(tmp, post)
    got = _days(s, env)
    assert date(2015, 1, 31) not in got and got[date(2015, 3, 31)] == 1


def test_the_command_shows_an_edit_made_after_a_listing(tmp_path, settled):
    site = _site(tmp_path / "site")
    env = {"DIGEST_CACHE_DIR": str(tmp_path / "cache")}
    runner = CliRunner()
    first = runner.invoke(app, ["list", str(site)], env=env)
    assert first.exit_code == 0 and "2015-01-29" in first.output
    post = site / "_posts" / "2015-01-29-a.md"
    was = post.stat()
    _edit_in_place(post, "2015-01-29 10:00:00", "2015-12-24 10:00:00")
    os.utime(post, ns=(was.st_atime_ns, was.st_mtime_ns))
    second = runner.invoke(app, ["list", str(site)], env=env)
    assert second.exit_code == 0 and "2015-12-24" in second.output and "2015-01-29" not in second.output


def test_an_edit_with_its_time_set_back_is_seen_after_a_build_wrote_the_index(tmp_path, settled):
    """A build that writes index rows forgets what the last list counted; each file's change time, kept
    apart, still tells the next list that the edited post must be read again."""
    from digest.sources.collect import collect

    site = _site(tmp_path / "site")
    s, env = load_settings(site), Environment(tmp_path / "cache")
    _days(s, env)
    post = site / "_posts" / "2015-01-30-b.md"
    was = post.stat()
    _edit_in_place(post, "2015-01-30 10:00:00", "2018-08-08 10:00:00")
    os.utime(post, ns=(was.st_atime_ns, was.st_mtime_ns))
    _post(site / "_posts" / "2015-02-05-other.md", "2015-02-05 10:00:00")
    assert [p.title for p in collect(s, date(2015, 2, 5), date(2015, 2, 5), env=env).posts] == ["t"]  # writes a row
    got = _days(s, env)
    assert date(2015, 1, 30) not in got and got[date(2018, 8, 8)] == 1 and got[date(2015, 2, 5)] == 1


def test_where_ctime_is_a_creation_time_every_folder_is_listed(tmp_path, settled, monkeypatch):
    """On Windows ``st_ctime`` is when a folder was made (it never changes as names are added): no names reused."""
    monkeypatch.setattr(listing, "CTIME_IS_CHANGE", False)
    site = _site(tmp_path / "site")
    s, env = load_settings(site), Environment(tmp_path / "cache")
    _days(s, env)
    calls = []
    real = listing.list_tree
    monkeypatch.setattr(listing, "list_tree", lambda *a: calls.append(a) or real(*a))
    _post(site / "_posts" / "2016-03-03-new.md", "2016-03-03 08:00:00")
    assert _days(s, env)[date(2016, 3, 3)] == 1 and len(calls) == 1
