"""Extreme dates (issue 16, item 4): a post named ``0001-01-01-x.md`` made every ``--catch-up`` end in an
``OverflowError`` traceback, and so did ``--date 0001-01-01`` and ``--date 9999-12-31`` (a day ± 1 overflows)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def digest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "digest", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("dates") / "site"
    posts = site / "_posts"
    posts.mkdir(parents=True)
    (site / "_config.yml").write_text("title: Dates\nurl: https://example.org\ntimezone: Pacific/Kiritimati\n")
    (posts / "0001-01-01-ancient.md").write_text("---\ntitle: Ancient\n---\n\nx\n")
    (posts / "9999-12-31-far.md").write_text("---\ntitle: Far\n---\n\nx\n")
    (posts / "0000-00-00-zero.md").write_text("---\ntitle: Zero\n---\n\nx\n")
    for name, when in (("min", "0001-01-01 00:00:00 +1400"), ("max", "9999-12-31 23:59:59 -1200"),
                       ("year1", "0001-01-01"), ("big", "99999-01-01")):
        (posts / f"2022-01-05-{name}.md").write_text(f"---\ntitle: {name}\ndate: {when}\n---\n\nx\n")
    (posts / "2022-01-05-good.md").write_text("---\ntitle: Good\ndate: 2022-01-05 10:00:00\n---\n\nx\n")
    return site


@pytest.mark.parametrize("args", [["--date", "0001-01-01"], ["--date", "9999-12-31"], ["--from", "0001-01-01"],
                                  ["--from", "2022-01-01", "--to", "9999-12-31"], ["--to", "0001-01-02"],
                                  ["--catch-up", "--to", "9999-12-31"]])
def test_dates_out_of_range_are_one_line(site, tmp_path, args):
    run = digest("build", str(site), *args, "-o", str(tmp_path / "out"))
    assert run.returncode == 2, run.stderr
    [line] = run.stderr.splitlines()
    assert line.startswith("digest: error: --") and "is outside the years digest builds (1900–2099)" in line


def test_catch_up_with_ancient_and_future_file_names_builds(site, tmp_path):
    run = digest("build", str(site), "--catch-up", "--to", "2022-01-06", "-f", "html,epub", "-o", str(tmp_path / "o"))
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr and "OverflowError" not in run.stderr
    lines = run.stderr.splitlines()
    for name in ("0001-01-01-ancient.md", "9999-12-31-far.md"):
        mine = [line for line in lines if name in line]
        assert len(mine) == 1 and "is outside the years 1900–2099" in mine[0], mine
    for name in ("min", "max", "year1", "big"):
        mine = [line for line in lines if f"2022-01-05-{name}.md" in line]
        assert len(mine) == 1 and "used the file-name date 2022-01-05" in mine[0], mine
    assert "2022-01-05: 5 articles" in run.stdout
    assert (tmp_path / "o" / "2022" / "2022-01-05.epub").is_file()


def test_list_and_check_take_them_too(site):
    for cmd in ("list", "check"):
        run = digest(cmd, str(site))
        assert "Traceback" not in run.stderr and run.returncode in (0, 2), run.stderr
