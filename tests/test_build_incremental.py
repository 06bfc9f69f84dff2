"""Incremental builds, ranges, catch-up, parallel days, cross-day dedupe, the lock, crash safety."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import html5lib
import pytest
from filelock import FileLock
from typer.testing import CliRunner

from digest import load_settings
from digest.archive import records as manifest
from digest.build import build
from digest.build.keys import content_hash
from digest.cli.app import app
from digest.render.attribution import AttributionFinder
from digest.render.post import ContentRenderer
from digest.runtime.env import Environment
from digest.sources.collect import collect
from tests.conftest import DAY, EXAMPLE, ROOT

runner = CliRunner()
NO_CACHE = Environment.from_os(cache=False)
TZ = ZoneInfo("Asia/Shanghai")
D1, D2, D3 = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def snapshot(out: Path) -> dict[str, tuple[int, bytes]]:
    """Every visible file of OUT (and the build records) with its mtime and bytes."""
    return {p.relative_to(out).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(out.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}


def changed(before: dict, after: dict) -> set[str]:
    return {k for k in after if before.get(k) != after[k]} | (set(before) - set(after))


@pytest.fixture
def three_days(make_post) -> Path:
    """Three days of four posts each; each post names its original article."""
    for d in (D1, D2, D3):
        for i in range(4):
            make_post(f"{d}-p{i}.md", f'title: "{d} 新闻 {i}"\ndate: {d} 1{i}:00:00 +0800\ncategories: news',
                      f"第 {i} 条，{d} 的正文。\n\n<https://news.example.com/{d}/{i}>\n")
    return make_post.site


def issue_files(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.glob("20*/*") if p.is_file())


# -- incremental --------------------------------------------------------------------------------
def test_unchanged_second_run_rebuilds_nothing_and_says_so(three_days, tmp_path):
    out = tmp_path / "out"
    r = run("build", three_days, "--from", D1, "--to", D3, "-f", "html", "-o", out)
    assert r.exit_code == 0, r.output
    assert issue_files(out) == [f"2024/{d}.html" for d in (D1, D2, D3)]
    before = snapshot(out)
    time.sleep(0.01)
    r = run("build", three_days, "--from", D1, "--to", D3, "-f", "html", "-o", out)
    assert r.exit_code == 0, r.output
    assert "nothing changed: 3 issues are up to date" in r.output
    assert "articles in" not in r.output
    assert changed(before, snapshot(out)) == set()  # not one file touched: issues, records, archive


def test_changed_post_rebuilds_only_its_day(three_days, tmp_path):
    out = tmp_path / "out"
    assert run("build", three_days, "--from", D1, "--to", D3, "-f", "html", "-o", out).exit_code == 0
    before = snapshot(out)
    post = three_days / "_posts" / f"{D2}-p1.md"
    post.write_text(post.read_text(encoding="utf-8").replace("的正文", "的新正文"), encoding="utf-8")
    r = run("build", three_days, "--from", D1, "--to", D3, "-f", "html", "-o", out)
    assert r.exit_code == 0, r.output
    assert f"{D2}: 4 articles" in r.output and f"{D1}:" not in r.output and f"{D3}:" not in r.output
    assert "2 issues are up to date (not rebuilt)" in r.output
    diff = changed(before, snapshot(out))
    assert f"2024/{D2}.html" in diff and f".digest/issues/{D2}.json" in diff
    assert not {f"2024/{D1}.html", f"2024/{D3}.html"} & diff
    for d in (D1, D3):  # the neighbours' records only learn the new probe (their candidates include D2's files)
        old = json.loads(before[f".digest/issues/{d}.json"][1])
        new = json.loads((out / f".digest/issues/{d}.json").read_text(encoding="utf-8"))
        assert {k for k in new if new[k] != old.get(k)} <= {"probe"}
    assert "新正文" in (out / f"2024/{D2}.html").read_text(encoding="utf-8")
    record = json.loads((out / f".digest/issues/{D2}.json").read_text(encoding="utf-8"))
    assert [f"_posts/{D2}-p1.md", content_hash(post.read_bytes())] in record["posts"]


def test_force_rebuilds_and_a_missing_file_is_rebuilt(three_days, tmp_path):
    out = tmp_path / "out"
    assert run("build", three_days, "--from", D1, "--to", D3, "-f", "html", "-o", out, "-q").exit_code == 0
    (out / f"2024/{D3}.html").unlink()
    r = run("build", three_days, "--from", D1, "--to", D3, "-f", "html", "-o", out)
    assert f"{D3}: 4 articles" in r.output and f"{D1}:" not in r.output and (out / f"2024/{D3}.html").is_file()
    r = run("build", three_days, "--from", D1, "--to", D3, "-f", "html", "-o", out, "--force")
    assert all(f"{d}: 4 articles" in r.output for d in (D1, D2, D3)) and "up to date" not in r.output


def test_a_format_not_asked_for_stays_recorded_while_still_valid(three_days, tmp_path):
    out = tmp_path / "out"
    assert run("build", three_days, "--date", D1, "-f", "html,email", "-o", out, "-q").exit_code == 0
    (out / f"2024/{D1}.html").unlink()
    r = run("build", three_days, "--date", D1, "-f", "html", "-o", out)
    assert f"{D1}.html (" in r.output and ".eml" not in r.output
    assert set(manifest.load(out, str(D1)).editions) == {"web", "email"}
    post = three_days / "_posts" / f"{D1}-p0.md"
    post.write_text(post.read_text(encoding="utf-8") + "\n更新。\n", encoding="utf-8")
    assert run("build", three_days, "--date", D1, "-f", "html", "-o", out, "-q").exit_code == 0
    assert set(manifest.load(out, str(D1)).editions) == {"web"}  # the .eml is now out of date


def test_settings_theme_and_new_format_are_inputs(three_days, tmp_path):
    out = tmp_path / "out"
    assert run("build", three_days, "--date", D1, "-f", "html", "-o", out, "-q").exit_code == 0
    html_before = snapshot(out)[f"2024/{D1}.html"]
    r = run("build", three_days, "--date", D1, "-f", "html,email", "-o", out)  # only the new format is built
    assert r.exit_code == 0, r.output
    assert f"{D1}.eml" in r.output and f"{D1}.html (" not in r.output
    assert snapshot(out)[f"2024/{D1}.html"] == html_before
    (three_days / "digest.toml").write_text("summary_length = 40\n", encoding="utf-8")
    r = run("build", three_days, "--date", D1, "-f", "html,email", "-o", out)
    assert f"{D1}.html" in r.output and f"{D1}.eml" in r.output  # a setting every format reads
    (three_days / "digest.toml").write_text('summary_length = 40\n[email]\nsubject = "{date}"\n', encoding="utf-8")
    r = run("build", three_days, "--date", D1, "-f", "html,email", "-o", out)
    assert f"{D1}.eml" in r.output and f"{D1}.html (" not in r.output  # an email-only setting
    over = three_days / "tpl" / "web"
    over.mkdir(parents=True)
    (over / "style.css").write_text("body { color: #123456; }\n", encoding="utf-8")
    (three_days / "digest.toml").write_text('summary_length = 40\ntemplate_overrides = "tpl"\n'
                                            '[email]\nsubject = "{date}"\n', encoding="utf-8")
    r = run("build", three_days, "--date", D1, "-f", "html", "-o", out)
    assert f"{D1}.html" in r.output and "#123456" in (out / f"2024/{D1}.html").read_text(encoding="utf-8")


def test_todays_issue_picks_up_posts_as_their_time_comes(make_post, tmp_path):
    for hour in (9, 15):
        site = make_post(f"{D1}-h{hour}.md", f'title: "{hour} 点"\ndate: {D1} {hour}:00:00 +0800\ncategories: news')
    s = load_settings(site)
    out = tmp_path / "out"
    noon = datetime(2024, 3, 1, 12, tzinfo=TZ)
    r1 = build(s, D1, D1, ["html"], out, now=noon, env=NO_CACHE)
    assert [i.count for i in r1.issues] == [1]
    assert build(s, D1, D1, ["html"], out, now=noon, env=NO_CACHE).unchanged == [str(D1)]
    r3 = build(s, D1, D1, ["html"], out, now=datetime(2024, 3, 1, 16, tzinfo=TZ), env=NO_CACHE)  # same files, later
    assert [i.count for i in r3.issues] == [2]
    record = manifest.load(out, str(D1))
    assert record is not None and record.final is False
    r4 = build(s, D1, D1, ["html"], out, now=datetime(2024, 3, 2, 7, tzinfo=TZ), env=NO_CACHE)  # next morning
    assert r4.issues == [] and r4.unchanged == [str(D1)] and manifest.load(out, str(D1)).final is True


# -- ranges, parallel days, catch-up, editions --------------------------------------------------
@pytest.mark.parametrize("spinner", [False, True], ids=["fork", "forkserver"])
def test_jobs_2_gives_the_same_bytes_as_jobs_1(three_days, tmp_path, monkeypatch, spinner):
    import threading

    stop = threading.Event()
    if spinner:  # a thread in the parent (like the progress spinner) makes workers start from a fork server
        threading.Thread(target=stop.wait, daemon=True).start()
    request_stop = stop.set
    warm = run("build", three_days, "--from", D1, "--to", D3, "-f", "html", "-o", tmp_path / "w", "-j", "2")
    assert warm.exit_code == 0  # the worker processes start before SOURCE_DATE_EPOCH is set…
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1709251200")  # …and must still build with it
    a, b = tmp_path / "a", tmp_path / "b"
    ra = run("build", three_days, "--from", D1, "--to", D3, "-f", "html,email", "-o", a, "-j", "1")
    rb = run("build", three_days, "--from", D1, "--to", D3, "-f", "html,email", "-o", b, "-j", "2")
    assert ra.exit_code == rb.exit_code == 0, rb.output
    assert ra.output.replace(str(a), "OUT") == rb.output.replace(str(b), "OUT")  # same lines, same order
    request_stop()
    sa, sb = snapshot(a), snapshot(b)
    assert sa.keys() == sb.keys() and len(sa) > 9
    assert all(sa[k][1] == sb[k][1] for k in sa)


def test_catch_up_builds_what_is_missing_since_the_last_build(three_days, tmp_path):
    out = tmp_path / "out"
    assert run("build", three_days, "--date", D1, "-f", "html", "-o", out, "-q").exit_code == 0
    r = run("build", three_days, "--catch-up", "--to", D3, "-f", "html", "-o", out)
    assert r.exit_code == 0, r.output
    assert f"{D2}: 4 articles" in r.output and f"{D3}: 4 articles" in r.output and f"{D1}:" not in r.output
    assert "2024-03-01 is up to date" in r.output
    assert issue_files(out) == [f"2024/{d}.html" for d in (D1, D2, D3)]
    r = run("build", three_days, "--catch-up", "--to", D3, "-f", "html", "-o", out)
    assert "nothing changed: 2024-03-03 is up to date" in r.output  # starts at the newest complete issue


def test_catch_up_with_no_earlier_build_starts_at_the_first_post(three_days, tmp_path):
    out = tmp_path / "out"
    r = run("build", three_days, "--catch-up", "--to", D2, "-f", "html", "-o", out, "-j", "2")
    assert r.exit_code == 0, r.output
    assert issue_files(out) == [f"2024/{d}.html" for d in (D1, D2)]


def test_weekly_and_monthly_editions_are_records_too(three_days, tmp_path):
    out = tmp_path / "out"
    assert run("build", three_days, "--date", D1, "--period", "week", "-f", "html", "-o", out, "-q").exit_code == 0
    assert run("build", three_days, "--date", D1, "--period", "month", "-f", "html", "-o", out, "-q").exit_code == 0
    assert issue_files(out) == ["2024/2024-03.html", "2024/2024-W09.html"]
    assert manifest.load(out, "2024-W09").count == 12 and manifest.load(out, "2024-03").count == 12
    r = run("build", three_days, "--date", D1, "--period", "week", "-f", "html", "-o", out)
    assert "nothing changed: 2024-W09 is up to date" in r.output


# -- cross-day de-duplication ---------------------------------------------------------------------
def test_dedupe_days_drops_articles_carried_the_days_before(three_days, tmp_path):
    site = three_days
    for d in (D2, D3):  # the same original article is posted again on the next two days
        (site / "_posts" / f"{d}-again.md").write_text(
            f'---\ntitle: "旧闻重发"\ndate: {d} 08:00:00 +0800\ncategories: news\n---\n\n再发一次。\n\n'
            f"<https://news.example.com/{D1}/0>\n", encoding="utf-8")
    out = tmp_path / "out"
    r = run("build", site, "--from", D1, "--to", D3, "-f", "html", "-o", out)
    assert f"{D2}: 5 articles" in r.output and f"{D3}: 5 articles" in r.output  # off by default
    (site / "digest.toml").write_text("dedupe_days = 2\n", encoding="utf-8")
    r = run("build", site, "--from", D1, "--to", D3, "-f", "html", "-o", out)
    assert f"{D2}: 4 articles in 1 section, 1 duplicate dropped" in r.output
    assert f"{D3}: 4 articles in 1 section, 1 duplicate dropped" in r.output
    assert "旧闻重发" not in (out / f"2024/{D2}.html").read_text(encoding="utf-8")
    assert "nothing changed" in run("build", site, "--from", D1, "--to", D3, "-f", "html", "-o", out).output
    # an edit on the day before changes what the next day leaves out: that day is rebuilt too
    p = site / "_posts" / f"{D1}-p0.md"
    p.write_text(p.read_text(encoding="utf-8").replace(f"{D1}/0>", f"{D1}/0-moved>"), encoding="utf-8")
    r = run("build", site, "--from", D1, "--to", D3, "-f", "html", "-o", out)
    assert f"{D1}: 4 articles" in r.output and f"{D2}: 5 articles" in r.output


def test_original_url_without_rendering_agrees_with_the_renderer():
    s = load_settings(EXAMPLE)
    renderer = ContentRenderer(s)
    finder = AttributionFinder(s.attribution)
    posts = collect(s, DAY, DAY, env=NO_CACHE).posts
    assert len(posts) > 50
    for src in posts:
        found = finder.original_url(src.front, src.body, renderer.post_url(src), s.site_url)
        assert found == renderer.render(src, "x").attribution.original_url


# -- the lock and crash safety ------------------------------------------------------------------
def digest_proc(*args, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "digest", *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_second_build_waits_then_exits_5_with_a_clear_message(three_days, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with FileLock(str(out / ".digest.lock")):
        t0 = time.monotonic()
        proc = digest_proc("build", three_days, "--date", D1, "-f", "html", "-o", out, "--wait", "0.5")
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 5, err
        assert "waiting for another build" in err
        assert "another digest build is writing to this folder (waited 0.5 s)" in err and "Traceback" not in err
    assert time.monotonic() - t0 >= 0.5
    assert not list(out.glob("20*"))
    assert run("build", three_days, "--date", D1, "-f", "html", "-o", out, "-q").exit_code == 0  # free again


def test_stale_temp_files_of_a_killed_build_are_removed(three_days, tmp_path):
    out = tmp_path / "out"
    (out / "2024").mkdir(parents=True)
    stale = out / "2024" / f".{D1}.html.abcd1234.tmp"
    stale.write_bytes(b"half")
    keep = out / "2024" / "notes.tmp"
    keep.write_bytes(b"mine")
    assert run("build", three_days, "--date", D1, "-f", "html", "-o", out, "-q").exit_code == 0
    assert not stale.exists() and keep.exists()


def valid_outputs(out: Path, day: str) -> None:
    html = (out / day[:4] / f"{day}.html").read_text(encoding="utf-8")
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)
    with zipfile.ZipFile(out / day[:4] / f"{day}.epub") as z:
        assert z.testzip() is None and z.read("mimetype") == b"application/epub+zip"
    record = manifest.load(out, day)
    assert record is not None and manifest.intact(out, record.editions["web"])
    assert manifest.intact(out, record.editions["epub"])
    assert not list(out.rglob(".*.tmp"))


@pytest.mark.slow
def test_two_concurrent_builds_end_with_valid_outputs(site_300, tmp_path):
    out = tmp_path / "out"
    procs = [digest_proc("build", site_300, "--date", "2022-04-19", "-f", "html,epub", "-o", out, "--force")
             for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    valid_outputs(out, "2022-04-19")
    assert (out / "index.html").is_file()


@pytest.mark.slow
def test_sigkill_during_writing_leaves_the_old_files(site_300, tmp_path):
    site = tmp_path / "site"
    import shutil

    shutil.copytree(site_300, site)
    out = tmp_path / "out"
    day = "2022-04-19"
    assert run("build", site, "--date", day, "-f", "html,epub", "-o", out, "-q").exit_code == 0
    old = {p: p.read_bytes() for p in (out / "2022" / f"{day}.html", out / "2022" / f"{day}.epub")}
    old_record = (out / ".digest" / "issues" / f"{day}.json").read_bytes()
    post = sorted((site / "_posts").glob(f"{day}-*.md"))[0]
    killed_mid_write = 0
    for attempt in range(12):
        post.write_text(post.read_text(encoding="utf-8") + f"\n补充 {attempt}。\n", encoding="utf-8")
        proc = digest_proc("build", site, "--date", day, "-f", "html,epub", "-o", out, "-q")
        tmp = None
        while proc.poll() is None and tmp is None:
            tmp = next((out / "2022" / n for n in os.listdir(out / "2022") if n.endswith(".tmp")), None)
        if tmp is None:
            proc.wait()
            # finished before we saw it writing: its outputs are now the previous good ones; retry
            old = {p: p.read_bytes() for p in old}
            old_record = (out / ".digest" / "issues" / f"{day}.json").read_bytes()
            continue
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        if not tmp.exists():  # renamed into place just before the kill landed: a new baseline, retry
            old = {p: p.read_bytes() for p in old}
            old_record = (out / ".digest" / "issues" / f"{day}.json").read_bytes()
            continue
        killed_mid_write += 1
        target = out / "2022" / tmp.name[1:].rsplit(".", 2)[0]  # ".<name>.<random>.tmp" → <name>
        assert target in old and target.read_bytes() == old[target], f"{target.name} changed under a killed build"
        for _path, _data in old.items():  # each file is the old one or a complete new one, never a part
            with zipfile.ZipFile(out / "2022" / f"{day}.epub") as z:
                assert z.testzip() is None
            html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(
                (out / "2022" / f"{day}.html").read_text(encoding="utf-8"))
        assert (out / ".digest" / "issues" / f"{day}.json").read_bytes() == old_record  # written last
        break
    assert killed_mid_write == 1, "never caught the build while it was writing"
    # the next build cleans up, rebuilds the changed day and leaves valid files
    r = run("build", site, "--date", day, "-f", "html,epub", "-o", out)
    assert r.exit_code == 0 and f"{day}: " in r.output, r.output
    valid_outputs(out, day)


def test_today_builds_the_issue_so_far_in_the_site_time_zone(make_post, tmp_path):
    today = datetime.now(TZ).date()
    site = make_post(f"{today}-early.md", f'title: "早间"\ndate: {today} 00:00:00 +0800\ncategories: news')
    make_post(f"{today}-late.md", f'title: "晚间"\ndate: {today} 23:59:59 +0800\ncategories: news')
    out = tmp_path / "out"
    r = run("build", site, "--today", "-f", "html", "-o", out)
    assert r.exit_code == 0, r.output
    assert f"{today}: 1 article in" in r.output  # the post dated later today is not out yet
    assert manifest.load(out, str(today)).final is False
    r = run("build", site, "--today", "--date", str(today), "-o", out)
    assert r.exit_code == 2 and "--today cannot be combined" in r.output


def test_today_with_no_posts_yet_is_quiet_under_q(make_post, tmp_path):
    site = make_post("2020-01-01-old.md", 'title: "旧"\ndate: 2020-01-01 08:00:00 +0800')
    r = run("build", site, "--today", "-o", tmp_path / "out", "-q")
    assert r.exit_code == 1 and r.output == ""  # nothing to mail from cron every half hour
    r = run("build", site, "--today", "-o", tmp_path / "out")
    assert r.exit_code == 1 and "no posts for" in r.output
    r = run("build", site, "--yesterday", "-o", tmp_path / "out", "-q")
    assert r.exit_code == 1 and "no posts for" in r.output  # a missing morning issue is worth a mail
