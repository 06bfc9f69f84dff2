import pytest
from typer.testing import CliRunner

from digest.cli.app import app
from tests.conftest import EXAMPLE

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_build_html_one_day(tmp_path):
    r = run("build", EXAMPLE, "--date", "2021-12-08", "--format", "html", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    assert (tmp_path / "2021" / "2021-12-08.html").is_file()
    assert "97 articles in 1 section, 1 duplicate dropped" in r.output
    assert "blank line before the front matter" in r.output  # the note names the odd file
    assert "2021-12-08-202112082206703990.md" in r.output


def test_range_builds_each_day_with_posts(tmp_path):
    r = run("build", EXAMPLE, "--from", "2021-12-07", "--to", "2021-12-09", "-f", "html", "-o", tmp_path, "-q")
    assert r.exit_code == 0 and r.output.strip() == ""
    assert sorted(p.name for p in tmp_path.glob("*/*.html")) == ["2021-12-08.html"]  # issues (not the archive index)


def test_nothing_to_build_exit_1(tmp_path):
    r = run("build", EXAMPLE, "--date", "2020-01-01", "-o", tmp_path)
    assert r.exit_code == 1 and "no posts for 2020-01-01" in r.output
    assert not list(tmp_path.iterdir())


def test_default_is_yesterday_in_site_timezone(tmp_path):
    r = run("build", EXAMPLE, "-o", tmp_path)
    assert r.exit_code == 1 and "no posts for" in r.output  # the example site has no posts yesterday


@pytest.mark.parametrize("args,needle", [
    (["--date", "2021-13-01"], "--date wants a date"),
    (["--date", "2021-12-08", "--from", "2021-12-01"], "either --date or --from"),
    (["--from", "2021-12-09", "--to", "2021-12-01"], "--to is before --from"),
    (["--date", "2021-12-08", "--format", "docx"], "unknown format 'docx'"),
    (["--date", "2021-12-08", "--theme", "nope"], "theme 'nope' not found"),
    (["--date", "2021-12-08", "--period", "year"], "--period must be"),
])
def test_bad_arguments_exit_2_with_one_line(tmp_path, args, needle):
    r = run("build", EXAMPLE, "-o", tmp_path, *args)
    assert r.exit_code == 2, r.output
    assert needle in r.output and "Traceback" not in r.output
    assert len([line for line in r.output.splitlines() if line.startswith("digest:")]) == 1


def test_format_not_available_yet(tmp_path, monkeypatch):
    from importlib.metadata import EntryPoint

    from digest import editions

    broken = EntryPoint("mobi", "digest_mobi_not_installed:MobiEdition", editions.GROUP)
    monkeypatch.setattr(editions, "_entry_points", lambda: [broken])
    editions.all_editions.cache_clear()
    try:
        r = run("build", EXAMPLE, "--date", "2021-12-08", "-f", "mobi", "-o", tmp_path)
    finally:
        editions.all_editions.cache_clear()
    assert r.exit_code == 3 and "the mobi edition is not available yet" in r.output
    assert "Traceback" not in r.output


def test_bad_config_exit_2(tmp_path):
    (tmp_path / "digest.toml").write_text("colour = 'red'\n")
    r = run("build", tmp_path, "--date", "2021-12-08")
    assert r.exit_code == 2 and "unknown key 'colour'" in r.output


def test_strict_makes_bad_posts_fatal(example_site, tmp_path):
    (example_site / "_posts" / "2021-12-08-broken.md").write_text("---\ntitle: [x\n---\n", encoding="utf-8")
    r = run("build", example_site, "--date", "2021-12-08", "-o", tmp_path / "a")
    assert r.exit_code == 0 and "skipped: _posts/2021-12-08-broken.md: invalid YAML" in r.output
    r = run("build", example_site, "--date", "2021-12-08", "-o", tmp_path / "b", "--strict")
    assert r.exit_code == 2 and "2021-12-08-broken.md" in r.output
    assert not (tmp_path / "b").exists()


def test_list_table(tmp_path):
    r = run("list", EXAMPLE)
    assert r.exit_code == 0, r.output
    assert "2021-12-08" in r.output and "2022-04-19" in r.output and "98" in r.output
    assert "东财滚动新闻" in r.output and "99 posts on 2 days" in r.output


def test_check_lists_problems_exits_0_on_warnings_and_2_on_errors(example_site):
    r = run("check", EXAMPLE)
    assert r.exit_code == 0 and "blank line before the front matter" in r.output  # a warning alone: exit 0
    assert "99 posts checked: 0 with errors, 1 warning" in r.output and "1 warnings" not in r.output
    (example_site / "_posts" / "2021-12-08-bad.md").write_text("---\ndate: x\n---\n", encoding="utf-8")
    (example_site / "_posts" / "2021-12-08-bin.md").write_bytes(b"\x00\x00")
    r = run("check", example_site)
    assert r.exit_code == 2
    assert "error: _posts/2021-12-08-bin.md: binary file" in r.output
    assert "warning: _posts/2021-12-08-bad.md: invalid date 'x'" in r.output
    assert "101 posts checked: 1 with errors" in r.output


def test_help_is_fast_to_import():
    import subprocess
    import sys

    code = "import sys, digest.cli; print(sorted(m for m in ('weasyprint','ebooklib','markdown_it','nh3','PIL') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"  # heavy libraries load only when an edition needs them


def test_library_warnings_are_one_prefixed_line(make_post, tmp_path):
    site = make_post("2022-01-05-img.md", 'title: "img"', "![chart](/assets/missing.png) 正文\n")
    r = run("build", site, "--date", "2022-01-05", "-f", "epub", "-o", tmp_path)
    assert r.exit_code == 0, r.output
    lines = [line for line in r.output.splitlines() if "missing.png" in line]
    assert lines == ["digest: warning: _posts/2022-01-05-img.md: image not found: assets/missing.png"]


WARM_BUILD = """
import sys
from digest.cli.app import main
sys.argv = ["digest", "build", *sys.argv[1:]]
try:
    main()
except SystemExit as e:
    assert e.code == 0, e.code
print(",".join(m for m in ("markdown_it", "nh3", "PIL", "multiprocessing", "weasyprint", "http.server",
                           "urllib.request", "fontTools") if m in sys.modules))
"""


def test_a_build_with_everything_cached_loads_no_renderer_imager_or_worker_machinery(example_site, tmp_path):
    """Start-up time is most of a cached build: what it does not need, it does not import."""
    import os
    import subprocess
    import sys

    args = [str(example_site), "--date", "2021-12-08", "-f", "epub,html", "-o", str(tmp_path / "out"), "-q", "--force"]
    env = {**os.environ, "DIGEST_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", WARM_BUILD, *args], env=env, capture_output=True, text=True)
            for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[-1].stderr
    assert "markdown_it" in runs[0].stdout  # the first build rendered the posts
    assert runs[1].stdout.strip() == ""  # the second found them, and the cover, in the cache
