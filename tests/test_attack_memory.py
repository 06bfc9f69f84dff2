"""Memory bombs in front matter (issue 16, item 1), run under a memory limit in a child process.

A YAML front matter can name a big string once and alias it thousands of times: the file is small, the value
it expands to is gigabytes. Before the fix a 1 MB string aliased 9,000 times in ``title`` took 180 s and ended
in a MemoryError with no digest at all. Each bomb here must be refused in well under a second, under an address
space limit a real bomb would blow through, skipped with one line, and the rest of the digest must build.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

LIMIT = 768 * 1024 * 1024  # address space of the child: Python + digest fit; one expanded bomb does not
DAY = "2022-01-05"


def _alias_bomb(field: str, size: int, times: int) -> str:
    refs = ", ".join(["*b"] * times)
    return f'---\nblob: &b "{"x" * size}"\n{field}: [{refs}]\ndate: {DAY} 10:00:00 +0800\n---\n\nbody\n'


def _keys_bomb(keys: int) -> str:
    return "---\n" + "".join(f"k{i}: v\n" for i in range(keys)) + "---\n\nbody\n"


def _laughs() -> str:
    lines = ["lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "---\n" + "\n".join(lines) + f"\ntitle: *l9\ndate: {DAY}\n---\n\nbody\n"


def _merge_bomb() -> str:
    base = "base: &m {" + ", ".join(f"k{i}: v{i}" for i in range(2500)) + "}\n"
    return "---\n" + base + "".join(f"m{j}: {{<<: *m}}\n" for j in range(1600)) + "---\n\nbody\n"


BOMBS = {
    "title-1mb-x9000.md": _alias_bomb("title", 900_000, 9_000),  # under the 1 MB front-matter cap
    "source-url-1mb-x9000.md": _alias_bomb("source_url", 900_000, 9_000),
    "excerpt-1mb-x9000.md": _alias_bomb("excerpt", 900_000, 9_000),
    "title-127kb.md": _alias_bomb("title", 100_000, 300),
    "tags-nested.md": _alias_bomb("tags", 200_000, 50),
    "laughs.md": _laughs(),
    "merge.md": _merge_bomb(),
    "keys-900k.md": _keys_bomb(900_000),  # a 9.8 MB front matter
    "keys-80k.md": _keys_bomb(80_000),  # 0.8 MB, no anchor: under the size cap, over the values limit
}


@pytest.fixture(scope="module")
def bomb_site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("bombs") / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: Bombs\ntimezone: Asia/Shanghai\nurl: https://example.org\n")
    for name, text in BOMBS.items():
        (site / "_posts" / f"{DAY}-{name}").write_text(text)
    for i in range(2):
        (site / "_posts" / f"{DAY}-good-{i}.md").write_text(
            f"---\ntitle: Good post {i}\ndate: {DAY} 09:0{i}:00 +0800\n---\n\nA normal body {i}.\n")
    return site


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def test_the_bombs_are_big_when_expanded():
    """The material is what the issue describes: small files, huge values once aliases are expanded."""
    assert len(BOMBS["title-127kb.md"]) < 130_000 and len(BOMBS["title-1mb-x9000.md"]) < 1_000_000
    assert 9_500_000 < len(BOMBS["keys-900k.md"]) < 10_000_000


def test_each_bomb_is_refused_in_milliseconds_under_a_memory_limit(bomb_site):
    script = textwrap.dedent(f"""
        import json, resource, sys, time
        from pathlib import Path
        resource.setrlimit(resource.RLIMIT_AS, ({LIMIT}, {LIMIT}))
        from digest import load_settings
        from digest.errors import PostError
        from digest.sources.posts import parse_post
        site = Path(sys.argv[1])
        settings = load_settings(site)
        out = {{}}
        for path in sorted((site / "_posts").iterdir()):
            data = path.read_bytes()
            t = time.perf_counter()
            try:
                parse_post(path.relative_to(site), data, settings)
                result = "read"
            except PostError as e:
                result = e.message
            out[path.name] = [result, time.perf_counter() - t]
        print(json.dumps(out))
    """)
    run = subprocess.run([sys.executable, "-c", script, str(bomb_site)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    got = json.loads(run.stdout)
    for name in BOMBS:
        message, seconds = got[f"{DAY}-{name}"]
        assert message.startswith("front matter too large"), (name, message)
        assert seconds < 1.0, (name, seconds)
    assert sum(got[f"{DAY}-{name}"][1] for name in BOMBS) < 1.0
    assert all(got[f"{DAY}-good-{i}.md"][0] == "read" for i in range(2))


def test_a_build_with_bombs_skips_each_with_one_line_and_builds_the_rest(bomb_site, tmp_path):
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "digest", "build", str(bomb_site), "--date", DAY, "-f", "html",
                          "-o", str(out), "--no-cache"], capture_output=True, text=True, timeout=120,
                         preexec_fn=_limited)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr and "MemoryError" not in run.stderr
    lines = run.stderr.splitlines()
    for name in BOMBS:
        mine = [line for line in lines if name in line]
        assert len(mine) == 1 and mine[0].startswith(f"digest: skipped: _posts/{DAY}-{name}: front matter too large")
    page = (out / "2022" / f"{DAY}.html").read_text()
    assert "Good post 0" in page and "Good post 1" in page
    assert "2 articles" in run.stdout


def test_aliases_of_small_values_still_work(tmp_path):
    from digest import load_settings
    from digest.sources.posts import parse_post

    site = tmp_path / "s"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: t\n")
    text = (f"---\nbase: &b {{lang: en, tags: [a, b]}}\nmore: {{<<: *b, extra: 1}}\nname: &n Markets\n"
            f"title: *n\ncategories: [*n]\ndate: {DAY}\n---\n\nbody\n")
    post = parse_post(Path(f"_posts/{DAY}-ok.md"), text.encode(), load_settings(site))
    assert post.title == "Markets" and post.categories == ("Markets",)
    assert post.front["more"] == {"lang": "en", "tags": ["a", "b"], "extra": 1}
    assert json.dumps(post.front["base"]) == '{"lang": "en", "tags": ["a", "b"]}'
