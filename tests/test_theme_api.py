"""The documented template API (themes/README.md) against the code, every bundled theme in every edition,
scaffolded themes, theme errors (file and line, no output left behind) and EPUBCheck per theme."""
from __future__ import annotations

import json
import re
import subprocess
import tomllib
import zipfile
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest import load_settings
from digest.build import make_digest, write_issue
from digest.cli.app import app
from digest.editions.base import WriteContext
from digest.errors import ThemeError
from digest.runtime.env import Environment
from digest.theming.loader import Theme, builtin_themes, load_theme, themes_root
from digest.theming.scaffold import scaffold

NO_CACHE = Environment.from_os(cache=False)
from tests.conftest import DAY, ROOT, web_page

API = ROOT / "themes" / "README.md"
EDITIONS = {"web": "html", "epub": "epub", "pdf": "pdf", "email": "email"}  # theme folder → a name --format takes
THEME_DIRS = list(EDITIONS)
DAY2 = date(2022, 3, 1)
runner = CliRunner()


def available_formats() -> list[str]:
    return list(EDITIONS.values())


# -- the documentation, parsed -------------------------------------------------------------------
def _sections(text: str) -> dict[str, str]:
    """Heading text → the body under it (up to the next heading of any level)."""
    parts = re.split(r"^(#{2,3} .+)$", text, flags=re.M)
    return {parts[i].lstrip("# ").strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _names(body: str) -> list[str]:
    return re.findall(r"^\| `([^`]+)` \|", body, flags=re.M)


DOC = _sections(API.read_text(encoding="utf-8"))
ALWAYS = set(_names(DOC["Variables every template receives"]))
EDITION_VARS = set(_names(DOC["Variables every edition template receives"]))
TEMPLATE_VARS = {h.strip("`"): set(_names(body)) for h, body in DOC.items() if re.fullmatch(r"`\w+/[\w.]+\.j2`", h)}
TEMPLATE_VARS["pdf/print.css"] = set(_names(DOC["`pdf/print.css`"]))
OBJECTS = _names(DOC["Objects"])
FILTERS = _names(DOC["Filters"])
LABELS = re.findall(r"`(\w+)`", DOC["Labels"].split(":\n\n", 1)[1])


def test_the_documentation_lists_what_we_expect_to_check():
    assert {"labels", "theme"} == ALWAYS and {"digest", "sections", "edition", "site"} == EDITION_VARS
    assert {"web/digest.html.j2", "epub/article.xhtml.j2", "epub/section.xhtml.j2", "epub/contents.xhtml.j2",
            "epub/cover.xhtml.j2", "pdf/digest.html.j2", "pdf/print.css", "email/email.html.j2",
            "email/email.txt.j2"} <= set(TEMPLATE_VARS)
    assert len(OBJECTS) > 30 and {"hhmm", "isodate", "longdate", "headlines", "stamp", "teaser"} == set(FILTERS)


# -- a small two-section site ----------------------------------------------------------------------
def _site(root: Path) -> Path:
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text("title: 主题测试\nlang: zh-CN\ntimezone: Asia/Shanghai\n"
                                      "url: https://example.org\ndescription: 每日要闻\n", encoding="utf-8")
    (root / "digest.toml").write_text('[sections]\nemnews = "滚动新闻"\nreports = "研究报告"\n'
                                      "[epub]\nsection_doc_kb = 1\n", encoding="utf-8")
    n = 0
    for cat in ("emnews", "reports"):
        for i in range(3):
            n += 1
            body = (f"第{n}条新闻的正文，说明市场情况。" * (40 if cat == "reports" else 3)
                    + f"（来源：新华社）\n\n<https://news.example.com/{n}.html>\n")
            (root / "_posts" / f"2022-03-01-{cat}-{i}.md").write_text(
                f"---\ntitle: 第{n}条 {cat} 标题\ndate: 2022-03-01 {9 + n}:00:00 +0800\ncategories: {cat}\n"
                f"author: 记者{n}\nimage: /img/{n}.png\n---\n\n{body}", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def small_site(tmp_path_factory) -> Path:
    return _site(tmp_path_factory.mktemp("api") / "site")


class Capture:
    """Records which variables each template was rendered with (Theme.render wrapped)."""

    def __init__(self):
        self.seen: dict[str, set[str]] = {}

    def __enter__(self):
        self.mp = pytest.MonkeyPatch()
        original = Theme.render
        seen = self.seen

        def render(theme, template, **context):
            keys = set(context) | ALWAYS
            seen.setdefault(template, set()).update(keys)
            # every render of one template gets the same names
            assert seen[template] == keys, (template, seen[template] ^ keys)
            return original(theme, template, **context)

        self.mp.setattr(Theme, "render", render)
        return self

    def __exit__(self, *exc):
        self.mp.undo()


def build_all(site: Path, out: Path, theme: str, formats: list[str]) -> tuple[dict[str, list[Path]], Capture]:
    settings = load_settings(site, overrides={"theme": theme})
    digest = make_digest(settings, DAY2, DAY2, env=NO_CACHE)
    th = load_theme(settings)
    files = {}
    with Capture() as cap:
        for fmt in formats:
            files[fmt] = write_issue(digest, [fmt], out, settings=settings, theme=th, env=NO_CACHE)
    return files, cap


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory, small_site) -> Path:
    """A theme made by `digest theme new`, overriding one template (the attribution partial)."""
    where = tmp_path_factory.mktemp("scaffold")
    theme = scaffold("mine", "default", where, editions=THEME_DIRS)
    (theme / "partials" / "attribution.html.j2").write_text(
        '<p class="attribution mine">MINE {{ labels.source }}: {{ post.attribution.outlet }}</p>\n', encoding="utf-8")
    return theme


@pytest.fixture(scope="module")
def builds(tmp_path_factory, small_site, scaffolded):
    formats = available_formats()
    out = {}
    for name in [*builtin_themes(), str(scaffolded)]:
        key = Path(name).name
        out[key] = build_all(small_site, tmp_path_factory.mktemp(f"out-{key}"), name, formats)
    return out


# -- every theme × every edition builds, with exactly the documented variables --------------------
def test_bundled_themes_are_default_and_newspaper():
    assert {"default", "newspaper"} <= set(builtin_themes())
    meta = tomllib.loads((themes_root() / "newspaper" / "theme.toml").read_text(encoding="utf-8"))
    assert meta["extends"] == "default"


@pytest.mark.parametrize("theme", ["default", "newspaper", "mine"])
def test_every_edition_builds_and_templates_get_exactly_the_documented_variables(builds, theme):
    files, cap = builds[theme]
    assert set(files) == set(available_formats())
    for fmt, paths in files.items():
        assert paths and all(p.is_file() and p.stat().st_size > 500 for p in paths), fmt
    for template, keys in cap.seen.items():
        edition = template.split("/")[0]
        assert edition in EDITIONS, template
        documented = ALWAYS | EDITION_VARS | TEMPLATE_VARS[template]
        assert keys == documented, f"{template}: undocumented {keys - documented}, missing {documented - keys}"
    rendered = set(cap.seen)
    if "epub" in files:
        assert {"epub/cover.xhtml.j2", "epub/contents.xhtml.j2", "epub/section.xhtml.j2",
                "epub/article.xhtml.j2"} <= rendered
    if "email" in files:
        assert {"email/email.html.j2", "email/email.txt.j2"} <= rendered


def _text(files: dict[str, list[Path]], fmt: str) -> str:
    [path] = [p for p in files[fmt] if p.suffix in (".html", ".epub", ".pdf")] if fmt != "email" else \
        [p for p in files[fmt] if p.name.endswith(".email.html")]
    if path.suffix == ".epub":
        with zipfile.ZipFile(path) as z:
            return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xhtml"))
    if path.suffix == ".pdf":
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
    return path.read_text(encoding="utf-8")


def test_newspaper_looks_different_where_it_overrides_and_inherits_the_rest(builds):
    np_files, _ = builds["newspaper"]
    df_files, _ = builds["default"]
    web = _text(np_files, "html")
    assert 'class="nameplate"' in web and 'class="front"' in web and "#8a1c1c" in web and "每日要闻" in web
    assert web.count('class="article"') == 6  # the shared partial, inherited
    assert 'class="nameplate"' not in _text(df_files, "html")
    if "email" in np_files:
        mail = _text(np_files, "email")
        assert 'class="list"' in mail and "第1条 emnews 标题" in mail
        # the same information as the default email: summaries (option summaries = true) and attributions
        assert "第1条新闻的正文" in mail and "第1条新闻的正文" in _text(df_files, "email")
        assert mail.count('class="attribution"') == _text(df_files, "email").count('class="attribution"') == 6
    if "epub" in np_files:
        with zipfile.ZipFile(np_files["epub"][0]) as z:
            css = z.read(next(n for n in z.namelist() if n.endswith(".css"))).decode()
        assert "newspaper EPUB" in css


def test_scaffolded_theme_override_reaches_every_edition_that_uses_it(builds):
    files, _ = builds["mine"]
    for fmt in ("html", "epub", "pdf", "email"):
        if fmt in files:
            text = _text(files, fmt)
            assert "MINE" in text and "新华社" in text, fmt
    assert 'class="jump"' in _text(files, "html")  # everything else still comes from default


# -- the documented names exist: one template touching every one, StrictUndefined ------------------
def test_every_documented_object_filter_and_label_resolves(tmp_path, small_site):
    theme = scaffold("touch", "default", tmp_path, editions=THEME_DIRS)
    lines = ["{% set section = sections[-1] %}{% set post = section.posts[0] %}"]
    lines += [f"[{expr}]={{{{ {expr} }}}}" for expr in OBJECTS]
    lines += ["[site]={{ site.title }}|{{ site.url }}|{{ site.lang }}|{{ site.description }}|{{ site.author }}|"
              "{{ site.publisher }}", "[edition]={{ edition }}", "[css]={{ css | length }}",
              "[theme]={{ theme.accent }}"]
    lines += [f"[labels.{k}]={{{{ labels.{k} }}}}" for k in LABELS]
    lines += ["[hhmm]={{ post.date | hhmm }}", "[isodate]={{ digest.start | isodate }}",
              "[longdate]={{ digest.start | longdate }}", "[headlines]={{ (digest | headlines(2)) | length }}",
              "[stamp]={{ post | stamp }}|{{ post | stamp(iso=true) }}"]
    (theme / "web" / "digest.html.j2").write_text("\n".join(lines) + "\n", encoding="utf-8")
    s = load_settings(small_site, overrides={"theme": str(theme)})
    th = load_theme(s)
    out = web_page(make_digest(s, DAY2, DAY2), s, th)
    got = dict(line.split("=", 1) for line in out.splitlines() if line.startswith("["))
    assert len(got) == len(OBJECTS) + len(LABELS) + 9
    assert got["[post.attribution.outlet]"] == "新华社" and got["[section.title]"] == "研究报告"
    assert got["[post.extra]"].startswith("{") and "image" in got["[post.extra]"]
    assert got["[hhmm]"] == "13:00" and got["[isodate]"] == "2022-03-01" and got["[longdate]"] == "2022年3月1日"
    assert got["[headlines]"] == "2" and got["[edition]"] == "web" and got["[theme]"] == "#b3261e"
    assert got["[stamp]"] == "13:00|2022-03-01T13:00:00+08:00"
    assert set(FILTERS) <= set(th.env.filters)
    tables = tomllib.loads((themes_root() / "default" / "labels.toml").read_text(encoding="utf-8"))
    assert set(tables["en"]) == set(tables["zh"])  # no language lacks a word
    assert set(LABELS) <= set(tables["en"]), set(LABELS) - set(tables["en"])  # the documented ones are promised


def test_per_edition_options_override_only_their_edition(tmp_path, small_site):
    t = tmp_path / "opt"
    (t / "web").mkdir(parents=True)
    (t / "theme.toml").write_text('extends = "newspaper"\n[options]\naccent = "#000001"\n'
                                  '[options.web]\naccent = "#000002"\n', encoding="utf-8")
    (t / "web" / "digest.html.j2").write_text("{{ theme.accent }} {{ theme.columns is defined }} {{ theme.ink }}\n")
    s = load_settings(small_site, overrides={"theme": str(t)})
    th = load_theme(s)
    assert web_page(make_digest(s, DAY2, DAY2), s, th) == "#000002 False #141414\n"
    assert th.options_for("pdf")["accent"] == "#000001" and th.options_for("pdf")["columns"] == 2
    assert "pdf" not in th.options_for("web") and th.options_for(None)["accent"] == "#000001"


# -- theme errors: file and line, nothing written --------------------------------------------------
def _broken(tmp_path: Path, rel: str, text: str) -> Path:
    theme = scaffold("broken", "default", tmp_path, editions=THEME_DIRS)
    (theme / rel).write_text(text, encoding="utf-8")
    return theme


@pytest.mark.parametrize("rel, text, message, line", [
    ("web/digest.html.j2", "<p>\n{% for x in %}\n", "syntax error", 2),
    ("web/digest.html.j2", "<p>\n\n{{ digest.titel }}\n", "undefined variable", 3),
    ("web/digest.html.j2", "<p>\n\n\n{% include 'partials/nope.html.j2' %}\n", "not found", 4),
    ("email/email.html.j2", "<p>\n{{ no_such_name }}\n", "undefined variable", 2),
    ("email/email.txt.j2", "x\n\n\n{% if %}\n", "syntax error", 4),
    ("epub/section.xhtml.j2", "{% extends 'epub/layout.xhtml.j2' %}\n{% block body %}\n{{ sectionn.title }}\n"
                              "{% endblock %}\n", "undefined variable", 3),
    ("pdf/print.css", "{% include 'default:pdf/print.css' %}\n.x { color: {{ theme.no_such_option }}; }\n",
     "undefined variable", 2),
])
def test_broken_template_names_file_and_line_and_writes_nothing(tmp_path, example_site, rel, text, message, line):
    fmt = EDITIONS[rel.split("/")[0]]
    theme = _broken(tmp_path, rel, text)
    out = tmp_path / "out"
    r = runner.invoke(app, ["build", str(example_site), "--date", DAY.isoformat(), "--format", fmt,
                            "--out", str(out), "--theme", str(theme)])
    assert r.exit_code == 2, r.output
    assert f"{theme / rel}: " in r.output and f"line {line}" in r.output and message in r.output
    assert "Traceback" not in r.output
    left = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert [p for p in left if not p.startswith(".")] == [] and not [p for p in left if p.endswith(".tmp")]


def test_broken_template_is_a_theme_error_in_the_library_too(tmp_path, small_site):
    theme = _broken(tmp_path, "web/digest.html.j2", "a\n{{ post.title }}\n")
    s = load_settings(small_site, overrides={"theme": str(theme)})
    with pytest.raises(ThemeError) as e:
        write_issue(make_digest(s, DAY2, DAY2), ["html"], tmp_path / "o", settings=s, env=NO_CACHE)
    assert e.value.path == theme / "web" / "digest.html.j2" and "line 2" in e.value.message
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").rglob("*.html"))


# -- digest theme new ------------------------------------------------------------------------------
def test_theme_new_scaffolds_a_theme_that_extends_and_builds(tmp_path, example_site):
    r = runner.invoke(app, ["theme", "new", "house", "--from", "newspaper", "--dir", str(tmp_path)])
    assert r.exit_code == 0, r.output
    t = tmp_path / "house"
    meta = tomllib.loads((t / "theme.toml").read_text(encoding="utf-8"))
    assert meta == {"name": "house", "extends": "newspaper", "options": {}}  # every option listed, commented out
    assert '# accent = "#8a1c1c"' in (t / "theme.toml").read_text() and "# columns = 2" in (t / "theme.toml").read_text()
    assert {p.name for p in t.iterdir()} == {"theme.toml", "README.md", "web", "epub", "pdf", "email", "partials"}
    assert sorted(p.relative_to(t).as_posix() for p in t.rglob("*") if p.is_file()) == [
        "README.md", "theme.toml", "web/style.css"]
    assert "`web/digest.html.j2`" in (t / "README.md").read_text()
    # unchanged, it renders like its parent, but for the comment on top of the copied stylesheet
    s_parent = load_settings(example_site, overrides={"theme": "newspaper"})
    s_child = load_settings(example_site, overrides={"theme": str(t)})
    d = make_digest(s_parent, DAY, DAY)
    parent = web_page(d, s_parent)
    child = web_page(d, s_child)
    assert child != parent and child.replace("/* The house theme's web stylesheet: a copy of newspaper's, "
                                             "to edit. */\n", "") == parent
    # uncommenting an option changes the output
    toml = (t / "theme.toml").read_text().replace('# accent = "#8a1c1c"', 'accent = "#123456"')
    (t / "theme.toml").write_text(toml)
    assert "--accent: #123456" in web_page(d, s_child)


def test_theme_new_refuses_to_overwrite_and_checks_the_name(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    r = runner.invoke(app, ["theme", "new", "taken", "--dir", str(tmp_path)])
    assert r.exit_code == 2 and "already exists" in r.output
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]
    r = runner.invoke(app, ["theme", "new", "../up", "--dir", str(tmp_path)])
    assert r.exit_code == 2 and "theme name" in r.output
    r = runner.invoke(app, ["theme", "new", "x", "--from", "nope", "--dir", str(tmp_path)])
    assert r.exit_code == 2 and "theme 'nope' not found" in r.output and not (tmp_path / "x").exists()


def test_theme_new_from_a_folder_extends_it_by_relative_path(tmp_path, small_site):
    scaffold("base", "newspaper", tmp_path, editions=THEME_DIRS)
    (tmp_path / "base" / "labels.toml").write_text('[zh]\ncontents = "本期目录"\n', encoding="utf-8")
    child = scaffold("child", str(tmp_path / "base"), tmp_path / "nested", editions=THEME_DIRS)
    assert tomllib.loads((child / "theme.toml").read_text())["extends"] == "../base"
    s = load_settings(small_site, overrides={"theme": str(child)})
    th = load_theme(s)
    assert th.name == "child" and th.labels["contents"] == "本期目录" and th.options["accent"] == "#8a1c1c"
    assert [d.name for d in th.dirs] == ["child", "base", "newspaper", "default"]


def test_theme_list_names_the_bundled_themes():
    r = runner.invoke(app, ["theme", "list"])
    assert r.exit_code == 0 and "default" in r.output and "newspaper" in r.output


# -- EPUBCheck, every theme ------------------------------------------------------------------------
@pytest.mark.slow
def test_epub_of_every_theme_passes_epubcheck(builds, tmp_path):
    jar = Path(__import__("epubcheck").__file__).parent / "epubcheck.jar"
    procs = {}
    for name, (files, _) in builds.items():
        report = tmp_path / f"{name}.json"
        procs[name] = (subprocess.Popen(["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(jar),
                                         str(files["epub"][0]), "--json", str(report)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), report)
    for name, (proc, report) in procs.items():
        proc.wait(timeout=300)
        checker = json.loads(report.read_text(encoding="utf-8"))
        bad = [f"{m['severity']} {m['ID']}: {m['message']}" for m in checker["messages"]
               if m["severity"] in ("FATAL", "ERROR", "WARNING")]
        assert not bad, (name, bad[:5])


def test_epub_options_table_colours_the_drawn_cover(tmp_path, small_site):
    import io

    from PIL import Image

    from digest.editions.epub.cover import draw_cover

    t = tmp_path / "dark"
    t.mkdir()
    (t / "theme.toml").write_text('[options]\npaper = "#ffffff"\n[options.epub]\npaper = "#102030"\n', encoding="utf-8")
    s = load_settings(small_site, overrides={"theme": str(t)})
    with Image.open(io.BytesIO(draw_cover(make_digest(s, DAY2, DAY2), WriteContext(tmp_path, load_theme(s), s, NO_CACHE)))) as im:
        r, g, b = im.convert("RGB").getpixel((20, im.height // 2))
    assert abs(r - 0x10) < 8 and abs(g - 0x20) < 8 and abs(b - 0x30) < 8


def test_extending_a_missing_theme_names_the_theme_toml(tmp_path, small_site):
    t = tmp_path / "orphan"
    t.mkdir()
    (t / "theme.toml").write_text('extends = "no-such-parent"\n', encoding="utf-8")
    with pytest.raises(ThemeError) as e:
        load_theme(load_settings(small_site, overrides={"theme": str(t)}))
    assert e.value.path == t / "theme.toml" and "'no-such-parent' not found" in e.value.message
