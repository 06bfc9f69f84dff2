"""Shared fixtures: the real example site, small fixture sites made per test, an isolated cache."""
from __future__ import annotations

import re
import shutil
import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "finews"
MAKE_SITE = ROOT / "benchmarks" / "make_site.py"  # a copy of ../shared/tools/make_site.py
DAY = date(2021, 12, 8)
LATE_DAY = date(2022, 4, 19)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Tests never share or pollute the user's parsed-post cache."""
    monkeypatch.setenv("DIGEST_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture
def example_site(tmp_path) -> Path:
    """A private copy of examples/finews (tests may add or break files in it)."""
    dst = tmp_path / "finews"
    shutil.copytree(EXAMPLE, dst)
    return dst


@pytest.fixture
def make_post(tmp_path):
    """Write a post into a fresh Jekyll site: make_post(name, front_matter_text, body) -> site root."""
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True, exist_ok=True)
    (site / "_config.yml").write_text(
        "title: 测试站\nlang: zh-CN\ntimezone: Asia/Shanghai\nurl: https://example.org\n", encoding="utf-8"
    )

    def make(name: str, front: str, body: str = "正文。\n", folder: str = "_posts") -> Path:
        path = site / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\n{front.strip()}\n---\n\n{body}", encoding="utf-8")
        return site

    make.site = site  # type: ignore[attr-defined]
    return make


def make_big_site(dst: Path, posts: int, days: int = 1, long: float = 0.5, start: str = "2022-04-19") -> Path:
    """A site grown by make_site.py from the example site's real posts (the project's scale workload)."""
    import subprocess
    import sys

    subprocess.run([sys.executable, str(MAKE_SITE), str(dst), "--posts", str(posts), "--days", str(days),
                    "--long", str(long), "--start", start, "--source", str(EXAMPLE)], check=True, capture_output=True)
    return dst


@pytest.fixture(scope="session")
def site_300(tmp_path_factory) -> Path:
    """A 300-post day (2022-04-19) made by make_site.py, shared by the tests of a session."""
    return make_big_site(tmp_path_factory.mktemp("w1") / "site", 300)


def web_page(digest, settings, theme=None) -> str:
    """The web edition of ``digest`` as a string (what ``digest preview`` shows)."""
    from digest import editions
    from digest.editions.base import WriteContext
    from digest.runtime.env import Environment
    from digest.theming.loader import load_theme

    ctx = WriteContext(Path("."), theme or load_theme(settings), settings, Environment.from_os(cache=False))
    return editions.get("web").page(digest, ctx)


# Linux keeps a process's peak RSS across exec, and a child starts with its parent's (the test process's, often
# hundreds of MB after other tests): so a memory test's build is started by a small Python process instead,
# which reports its children's peak on its last stderr line.
_SMALL_PARENT = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
                 "print('children-peak-kb', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
                 "sys.exit(code)")


def from_small_parent(cmd: list[str]) -> list[str]:
    """``cmd`` run by a small parent: its peak RSS (its own ``RUSAGE_SELF``, or the ``children-peak-kb`` line
    the parent prints) is its own, not the test process's."""
    return [sys.executable, "-S", "-c", _SMALL_PARENT, *cmd]


def children_peak_mb(stderr: str) -> float:
    found = re.search(r"^children-peak-kb (\d+)$", stderr, re.M)
    assert found, stderr[-2000:]
    return int(found.group(1)) / 1024
