"""Paths and names (issue 16, items 3 and 13): symlinks in post folders, includes and data; file names that
try to forge a log line; an output folder inside a posts folder.

Before: a post that was a symlink to ``/etc/passwd`` was published in every format; two loop links
(``a -> .``, ``b -> .``) or a link to ``/`` made ``build`` and ``list`` run forever; a newline in a post's file
name printed a second, forged ``digest: error:`` line; ``--out _posts/out`` made the next build read the
outputs back as bad posts.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

DAY = "2022-01-05"


def _post(path: Path, title: str, body: str = "body") -> None:
    path.write_text(f"---\ntitle: {title}\ndate: {DAY} 10:00:00\n---\n\n{body}\n")


def digest(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "digest", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def linked_site(tmp_path: Path) -> Path:
    site, outside = tmp_path / "site", tmp_path / "outside"
    (site / "_posts").mkdir(parents=True)
    outside.mkdir()
    (site / "_config.yml").write_text("title: Links\nurl: https://example.org\n")
    _post(site / "_posts" / f"{DAY}-good.md", "Good post")
    _post(outside / f"{DAY}-stolen.md", "Stolen post", "SECRET-OUTSIDE")
    (outside / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    posts = site / "_posts"
    (posts / f"{DAY}-passwd.md").symlink_to(outside / "passwd")          # a post that is a link out
    (posts / f"{DAY}-etc.md").symlink_to("/etc/hostname")
    (posts / f"{DAY}-loop.md").symlink_to(f"{DAY}-loop.md")              # a link to itself
    (posts / "a").symlink_to(".")                                        # loops
    (posts / "b").symlink_to(".")
    (posts / "c").symlink_to("..")
    (posts / "root").symlink_to("/")                                     # the whole disk
    (posts / "away").symlink_to(outside)                                 # a folder outside
    (site / "news").mkdir()
    (site / "news" / "_posts").symlink_to(outside)                       # a _posts that is a link out
    (site / "shared").mkdir()
    _post(site / "shared" / f"{DAY}-shared.md", "Shared inside")
    (posts / "inside").symlink_to(site / "shared")                       # a folder inside: followed, once
    (posts / "inside-again").symlink_to(site / "shared")
    return site


def test_build_reads_nothing_outside_the_site_and_ends(linked_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    t = time.monotonic()
    run = digest("build", str(linked_site), "--date", DAY, "-f", "html,epub,email", "-o", str(out), "--no-cache")
    assert time.monotonic() - t < 60
    assert run.returncode == 0, run.stderr
    assert "2 articles" in run.stdout  # the good post and the one behind the in-site link, once
    lines = run.stderr.splitlines()
    assert f"digest: skipped: _posts/{DAY}-passwd.md: a link to a file outside the site; not read" in lines
    assert f"digest: skipped: _posts/{DAY}-etc.md: a link to a file outside the site; not read" in lines
    assert any(line.startswith(f"digest: skipped: _posts/{DAY}-loop.md: cannot read:") for line in lines)
    assert any(line.startswith("digest: warning: news/_posts: posts folder leads outside the site") for line in lines)
    assert any(line.startswith("digest: warning: _posts/root: link leads outside the site") for line in lines)
    assert "Traceback" not in run.stderr
    for f in (f for f in out.rglob("*") if f.is_file()):
        data = f.read_bytes()
        assert b"root:x:0:0" not in data and b"SECRET-OUTSIDE" not in data and b"Stolen post" not in data
    page = (out / "2022" / f"{DAY}.html").read_text()
    assert "Good post" in page and page.count("Shared inside") >= 1


def test_list_and_check_end_too(linked_site: Path) -> None:
    for args in (["list", str(linked_site)], ["check", str(linked_site)]):
        t = time.monotonic()
        run = digest(*args)
        assert time.monotonic() - t < 60, args
        assert "Traceback" not in run.stderr
        assert "root:x:0:0" not in run.stdout + run.stderr


def test_post_dirs_outside_the_site_are_refused(linked_site: Path, tmp_path: Path) -> None:
    (linked_site / "digest.toml").write_text('post_dirs = ["/", "../outside", "shared"]\n')
    run = digest("build", str(linked_site), "--date", DAY, "-o", str(tmp_path / "out"), "--no-cache")
    assert run.returncode == 0, run.stderr
    assert "digest: warning: /: post_dirs folder leads outside the site (to /); not read" in run.stderr.splitlines()
    assert "Stolen post" not in (tmp_path / "out" / "2022" / f"{DAY}.html").read_text()


def test_data_folder_loops_and_links_out_are_bounded(tmp_path: Path) -> None:
    from digest.jekyll.liquid.site import load_site_data

    root = tmp_path / "site"
    (root / "_data").mkdir(parents=True)
    (root / "_data" / "a.yml").write_text("x: 1\n")
    (root / "_data" / "loop1").symlink_to(".")
    (root / "_data" / "loop2").symlink_to(".")
    (root / "_data" / "disk").symlink_to("/")
    (root / "_data" / "secret.yml").symlink_to("/etc/hostname")
    t = time.monotonic()
    got = load_site_data(root, {})
    assert time.monotonic() - t < 10
    assert got.data["a"] == {"x": 1}
    assert "secret" not in got.data and "disk" not in got.data
    assert all("\n" not in p for p in got.problems)


def test_a_file_name_cannot_forge_a_log_line(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: T\n")
    _post(site / "_posts" / f"{DAY}-good.md", "Good")
    forged = f"{DAY}-x\ndigest: error: all your base.md"
    (site / "_posts" / forged).write_text("---\ntitle: [unclosed\n---\n\nx\n")
    bidi = f"{DAY}-\u202egnp.md"
    (site / "_posts" / bidi).write_text("---\ntitle: : :\n---\n")
    esc = f"{DAY}-\x1b[31mred.md"
    (site / "_posts" / esc).write_text("")
    run = digest("build", str(site), "--date", DAY, "-o", str(tmp_path / "out"), "--no-cache")
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    assert not any(line.startswith("digest: error: all your base") for line in lines)
    mine = [line for line in lines if "all your base" in line]
    assert len(mine) == 1 and mine[0].startswith(
        f"digest: skipped: _posts/{DAY}-x\\ndigest: error: all your base.md: invalid YAML front matter")
    assert all(line.startswith("digest: ") for line in lines)
    assert "\u202e" not in run.stderr and "\x1b" not in run.stderr
    assert f"digest: skipped: _posts/{DAY}-\\u202egnp.md: " in run.stderr
    assert f"digest: skipped: _posts/{DAY}-\\x1b[31mred.md: empty file" in lines
    check = digest("check", str(site))
    assert "\u202e" not in check.stdout and "\x1b" not in check.stdout
    assert all(not line.startswith("digest: error: all your base") for line in check.stdout.splitlines())


def test_an_output_folder_inside_a_posts_folder_is_refused(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "news" / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: T\n")
    _post(site / "_posts" / f"{DAY}-good.md", "Good")
    for out, folder in ((site / "_posts" / "out", "_posts"), (site / "_posts", "_posts"),
                        (site / "news" / "_posts" / "x" / "y", "news/_posts")):
        run = digest("build", str(site), "--date", DAY, "-o", str(out))
        assert run.returncode == 2
        assert run.stderr.splitlines() == [
            f"digest: error: the output folder {out} is inside the posts folder {folder}; "
            "the next build would read its files as posts"]
        assert not any(out.rglob("*.html"))
    (site / "digest.toml").write_text('out = "_posts/generated"\n')
    run = digest("build", str(site), "--date", DAY)
    assert run.returncode == 2 and "inside the posts folder _posts;" in run.stderr


def test_no_message_carries_the_prefix_twice(linked_site: Path, tmp_path: Path) -> None:
    (linked_site / "_posts" / f"{DAY}-bad.md").write_text("---\ntitle: [\n---\n")
    runs = [digest("build", str(linked_site), "-f", "html,email", "-o", str(tmp_path / "o1"), "--jobs", "2",
                   "--from", "2022-01-03", "--to", DAY, "--no-cache"),
            digest("check", str(linked_site)), digest("list", str(linked_site)),
            digest("build", str(linked_site), "--date", "2022-13-01")]
    for run in runs:
        text = run.stdout + run.stderr
        assert "digest: warning: digest:" not in text and "digest: error: digest:" not in text
        assert "digest: skipped: digest:" not in text and "warning: warning:" not in text
    assert runs[0].returncode == 0, runs[0].stderr
    assert os.path.exists(tmp_path / "o1" / "2022" / f"{DAY}.html")
