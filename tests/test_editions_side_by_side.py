"""A big issue's editions written side by side (the web page in a forked child, the EPUB here) are the files
written one after the other, byte for byte, with the same record and cover."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from digest import load_settings
from digest.build import issue
from digest.build.run import BuildOptions, build
from digest.runtime import parallel
from digest.runtime.env import Environment

DAY = date(2021, 12, 8)


def files_of(out) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != ".digest.lock"}


def test_editions_side_by_side_are_those_written_one_after_the_other(example_site, tmp_path, monkeypatch):
    s = load_settings(example_site)
    env = Environment(cache_dir=tmp_path / "cache", source_date_epoch=1650000000)
    now = datetime(2022, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    forked: list[list[str]] = []  # the editions a forked child wrote
    real = parallel.alongside

    def alongside(fn, arg):
        child = real(fn, arg)
        if getattr(fn, "func", None) is issue._write_each and child is not None:
            forked.append(list(arg))
        return child

    monkeypatch.setattr(parallel, "alongside", alongside)
    one = build(s, DAY, DAY, ["html", "epub"], tmp_path / "one", BuildOptions(force=True), env=env, now=now)
    assert forked == []  # a day of a few dozen posts: one after the other, no fork
    monkeypatch.setattr(parallel, "EDITIONS", parallel.Cost(fork_from=1))  # as for a month of 9,000
    two = build(s, DAY, DAY, ["html", "epub"], tmp_path / "two", BuildOptions(force=True), env=env, now=now)
    assert forked == ([["web"]] if parallel.spare_cores() > 1 else [])  # the page (it makes no cover), forked
    assert [f.name for f in one.files] == [f.name for f in two.files] == ["2021-12-08.html", "2021-12-08.epub"]
    a, b = files_of(tmp_path / "one"), files_of(tmp_path / "two")
    assert any(name.startswith("covers/") for name in a)  # the EPUB's cover, made here as before
    assert a.keys() == b.keys() and all(a[k] == b[k] for k in a), [k for k in a if a[k] != b.get(k)]
