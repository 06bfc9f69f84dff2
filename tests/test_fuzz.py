"""Property-based tests (Hypothesis) over front matter and Markdown/HTML bodies.

Posts are built from a grammar of Markdown and HTML fragments (hostile ones included) plus random text;
front matter from random YAML values (and sometimes random text that is not YAML at all). Properties:

* parsing, rendering, assembling and the web edition raise nothing but :class:`DigestError` (one line);
* the web page has no active content (parsed as a browser would);
* every XHTML document of the EPUB parses as XML and has no active content;
* a few fuzzed digests (derandomized) pass EPUBCheck.

Settings are modest and derandomized so CI is stable and fast.
"""
from __future__ import annotations

import json
import subprocess
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from active_content import check_html, check_xhtml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest import editions, load_settings
from digest.assemble.assemble import assemble
from digest.editions.base import WriteContext
from digest.errors import DigestError
from digest.runtime.env import Environment
from digest.sources.collect import Collected
from digest.sources.posts import parse_post
from digest.theming.loader import load_theme

DAY = date(2022, 1, 5)
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

# -- the grammar ---------------------------------------------------------------------------------
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
WORDS = st.sampled_from(["新闻", "市场", "alert(1)", "a", "中文 标题", "x" * 40, "&amp;", "&#x6A;", "\u202e", "\x00",
                         "\r\n", "\t", "---", "|", "`", "\\", "*", "_", "[", "]", "<", ">", "\"", "'"])
PIECE = st.one_of(TEXT, WORDS)
URL = st.one_of(
    st.sampled_from(["https://example.org/a", "/local/p.html", "../up", "#frag", "//cdn.example/x.png",
                     "javascript:alert(1)", " javascript:alert(1)", "\u00a0javascript:alert(1)", "JaVaScRiPt:x",
                     "vbscript:x", "data:text/html,<script>alert(1)</script>", "file:///etc/passwd",
                     "/..%2F..%2Fsecret.png", "mailto:a@example.org", "https://例子.中国/路径 a", ""]),
    PIECE,
)
TAG = st.sampled_from(["p", "div", "span", "a", "img", "b", "i", "em", "strong", "table", "tr", "td", "th", "ul", "ol",
                       "li", "blockquote", "pre", "code", "h1", "h3", "br", "hr", "sup", "sub", "script", "style",
                       "iframe", "object", "embed", "form", "input", "svg", "math", "meta", "link", "base",
                       "textarea", "template", "noscript", "video", "details", "font", "center", "section"])
ATTR = st.sampled_from(["href", "src", "id", "class", "style", "onclick", "onerror", "title", "lang", "dir", "width",
                        "colspan", "cite", "srcdoc", "xlink:href", "data-x", "formaction", "background"])


@st.composite
def html_fragment(draw, depth: int = 0):
    tag = draw(TAG)
    attrs = " ".join(f'{draw(ATTR)}="{draw(URL)}"'.replace('"', draw(st.sampled_from(['"', "'", "", '"'])), 1)
                     for _ in range(draw(st.integers(0, 3))))
    inner = draw(st.lists(st.one_of(PIECE, html_fragment(depth + 1)) if depth < 3 else PIECE, max_size=3))
    close = draw(st.sampled_from([f"</{tag}>", f"</{tag}>", "", "</div>"]))
    return f"<{tag} {attrs}>{''.join(inner)}{close}"


MARKDOWN = st.one_of(
    st.builds(lambda t: f"# {t}", PIECE),
    st.builds(lambda t, u: f"[{t}]({u})", PIECE, URL),
    st.builds(lambda t, u: f"![{t}]({u})", PIECE, URL),
    st.builds(lambda u: f"<{u}>", URL),
    st.builds(lambda t: f"**{t}** _{t}_ `{t}`", PIECE),
    st.builds(lambda t, n: "\n".join(f"{'  ' * i}- {t}" for i in range(n)), PIECE, st.integers(1, 30)),
    st.builds(lambda t, n: ">" * n + f" {t}", PIECE, st.integers(1, 40)),
    st.builds(lambda t, n: "|" + "a|" * n + "\n|" + "-|" * n + "\n|" + f"{t}|" * n, PIECE, st.integers(1, 8)),
    st.builds(lambda t: f"```\n{t}\n```", PIECE),
    st.builds(lambda t, u: f"[{t}][r]\n\n[r]: {u}", PIECE, URL),
    st.builds(lambda n: "<div>" * n + "x" + "</div>" * n, st.integers(1, 150)),
    st.just("<!-- comment <script>alert(1)</script> -->"),
    st.just("（文章来源：上海证券报）"),
)
BODY = st.lists(st.one_of(MARKDOWN, html_fragment(), PIECE), max_size=12).map(
    lambda parts: "\n\n".join(parts))

SCALAR = st.one_of(TEXT, WORDS, st.integers(-10**12, 10**12), st.floats(allow_nan=True), st.booleans(), st.none(),
                   st.dates(), st.datetimes(timezones=st.sampled_from([None, UTC,
                                                                        timezone(timedelta(hours=8))])), URL)
VALUE = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(TEXT, inner, max_size=3)), max_leaves=8)
KEYS = st.sampled_from(["title", "date", "categories", "category", "tags", "slug", "permalink", "published", "source",
                        "original_url", "author", "excerpt", "layout", "summary", "link"])


@st.composite
def front_matter(draw) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=80))  # not YAML at all, often
    data = draw(st.dictionaries(st.one_of(KEYS, TEXT), VALUE, max_size=8))
    if draw(st.booleans()):
        data.setdefault("date", draw(st.datetimes(min_value=datetime(2022, 1, 5), max_value=datetime(2022, 1, 5, 23))))
    try:
        return yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False)
    except (yaml.YAMLError, ValueError):
        return "title: unrepresentable\n"


@st.composite
def post_bytes(draw) -> bytes:
    text = f"---\n{draw(front_matter())}---\n\n{draw(BODY)}\n"
    text = text.replace("\n", draw(st.sampled_from(["\n", "\n", "\r\n"])))
    enc = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "gb18030"]))
    return text.encode(enc, errors="replace")


# -- the pipeline --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzz") / "site"
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text("title: Fuzz\nlang: zh-CN\ntimezone: Asia/Shanghai\nurl: https://example.org\n",
                                      encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def env(site):
    s = load_settings(site, overrides={"epub": {"cover": False}})
    return s, load_theme(s)


def digest_of(posts: list[bytes], s):
    """parse → assemble, with bad posts becoming problems (as collect does): only DigestError may escape."""
    got = Collected()
    for i, data in enumerate(posts):
        try:
            got.posts.append(parse_post(Path(f"_posts/2022-01-05-p{i}.md"), data, s))
        except DigestError as e:
            assert "\n" not in e.message, e.message
    got.posts = [p for p in got.posts if p.date.date() == DAY]  # as collect keeps only the day's posts
    return assemble(s, got, DAY, DAY, env=Environment.from_os(cache=False))


@FUZZ
@given(posts=st.lists(post_bytes(), min_size=1, max_size=3))
def test_pipeline_raises_only_digest_errors_and_web_is_clean(env, posts):
    s, theme = env
    try:
        digest = digest_of(posts, s)
        for p in digest.problems:
            assert "\n" not in p.message
        if digest.count == 0:
            return
        page = editions.get("web").page(digest, WriteContext(Path("."), theme, s, Environment.from_os(cache=False)))
    except DigestError as e:
        assert "\n" not in str(e)
        return
    assert check_html(page, "web") == []
    for post in digest.posts:
        assert post.id.replace("-", "").replace("_", "").isalnum() and "\n" not in post.title


def _epub(digest, theme, s) -> bytes:
    from digest.editions.epub.book import render

    return render(digest, WriteContext(Path("."), theme, s, Environment.from_os(cache=False)))


@settings(parent=FUZZ, max_examples=25)
@given(posts=st.lists(post_bytes(), min_size=1, max_size=3))
def test_every_epub_document_parses_and_is_clean(env, tmp_path_factory, posts):
    s, theme = env
    try:
        digest = digest_of(posts, s)
        if digest.count == 0:
            return
        data = _epub(digest, theme, s)
    except DigestError:
        return
    path = tmp_path_factory.mktemp("epub") / "fuzz.epub"
    path.write_bytes(data)
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".xhtml"):
                assert check_xhtml(z.read(name), name) == []


JAR = Path(__import__("epubcheck").__file__).parent / "epubcheck.jar"


@pytest.mark.slow
def test_a_sample_of_fuzzed_digests_passes_epubcheck(env, tmp_path):
    """Three fuzzed digests (fixed seed), each EPUBCheck-clean: no fatal, error or warning."""
    s, theme = env
    books: list[Path] = []

    @settings(parent=FUZZ, max_examples=40)
    @given(posts=st.lists(post_bytes(), min_size=2, max_size=4))
    def collect_books(posts):
        if len(books) >= 3:
            return
        try:
            digest = digest_of(posts, s)
            if digest.count < 2:
                return
            data = _epub(digest, theme, s)
        except DigestError:
            return
        path = tmp_path / f"fuzz{len(books)}.epub"
        path.write_bytes(data)
        books.append(path)

    collect_books()
    assert len(books) == 3
    procs = [(b, subprocess.Popen(["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(JAR), str(b),
                                   "--json", str(b.with_suffix(".json"))],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)) for b in books]
    for book, proc in procs:
        proc.wait(timeout=600)
        report = json.loads(book.with_suffix(".json").read_text(encoding="utf-8"))
        bad = [f"{m['severity']} {m['ID']}: {m['message']} @ {m.get('locations', [{}])[0].get('path')}"
               for m in report["messages"] if m["severity"] in ("FATAL", "ERROR", "WARNING")]
        assert not bad, (book.name, bad[:10])


@settings(parent=FUZZ, max_examples=15)
@given(posts=st.lists(post_bytes(), min_size=1, max_size=4), names=st.lists(
    st.sampled_from(["2022-01-05-a.md", "2022-01-05-b.markdown", "2022-01-05-c.html", "no-date.md",
                     "2022-01-05-中文.md", "2022-13-45-bad.md", "2022-01-05-.md"]), min_size=4, max_size=4, unique=True))
def test_cli_build_and_check_never_show_a_traceback(tmp_path_factory, posts, names):
    """The whole command line (index fast path, cache, collect, assemble, web edition) on fuzzed files."""
    from typer.testing import CliRunner

    from digest.cli.app import app

    site = tmp_path_factory.mktemp("cli") / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: Fuzz\ntimezone: Asia/Shanghai\nurl: https://example.org\n", encoding="utf-8")
    for name, data in zip(names, posts, strict=False):  # as many posts as were made
        (site / "_posts" / name).write_bytes(data)
    for args in (["build", str(site), "--date", DAY.isoformat(), "-f", "html", "--out", str(site.parent / "out")],
                 ["check", str(site)], ["list", str(site)]):
        r = CliRunner().invoke(app, args)
        assert r.exit_code in (0, 1, 2), (args[0], r.exit_code, r.output[-2000:])
        assert r.exception is None or isinstance(r.exception, SystemExit), (args[0], repr(r.exception))
        assert "Traceback" not in r.output
