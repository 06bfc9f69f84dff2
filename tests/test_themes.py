import pytest

from digest import load_settings
from digest.build import make_digest
from digest.errors import ThemeError
from digest.theming.loader import builtin_themes, load_theme
from tests.conftest import DAY, EXAMPLE, web_page


def test_default_theme_and_labels_follow_site_language(tmp_path):
    zh = load_theme(load_settings(EXAMPLE))
    assert "default" in builtin_themes() and zh.labels["contents"] == "目录"
    (tmp_path / "_config.yml").write_text("lang: en-US\n")
    assert load_theme(load_settings(tmp_path)).labels["contents"] == "Contents"
    (tmp_path / "_config.yml").write_text("lang: fr\n")
    assert load_theme(load_settings(tmp_path)).labels["contents"] == "Contents"  # English fallback


def test_override_folder_replaces_one_template(example_site):
    over = example_site / "my-templates" / "partials"
    over.mkdir(parents=True)
    (over / "attribution.html.j2").write_text('<p class="mine">SRC={{ post.attribution.outlet }}</p>\n')
    s = load_settings(example_site, overrides={"template_overrides": "my-templates"})
    d = make_digest(s, DAY, DAY)
    html = web_page(d, s)
    assert html.count('class="mine"') == d.count and "SRC=东方财富网" in html
    assert 'class="jump"' in html  # the rest of the theme still comes from default


def test_child_theme_extends_parent_and_overrides_css_and_labels(example_site):
    t = example_site / "mytheme"
    (t / "web").mkdir(parents=True)
    (t / "theme.toml").write_text('name = "mine"\nextends = "default"\n[options]\naccent = "#123456"\n')
    (t / "web" / "style.css").write_text("body { color: #123456 }\n")
    (t / "labels.toml").write_text('[zh]\ncontents = "本期目录"\n')
    s = load_settings(example_site, overrides={"theme": "mytheme"})
    theme = load_theme(s)
    assert theme.name == "mine" and theme.options["accent"] == "#123456" and theme.options["ink"]
    html = web_page(make_digest(s, DAY, DAY), s, theme)
    assert "body { color: #123456 }" in html and "本期目录" in html and "<article" in html


def test_theme_errors_name_file_and_line(example_site):
    over = example_site / "over" / "web"
    over.mkdir(parents=True)
    s = load_settings(example_site, overrides={"template_overrides": "over"})
    d = make_digest(s, DAY, DAY)
    (over / "digest.html.j2").write_text("<p>\n{% for x in %}\n")
    with pytest.raises(ThemeError) as e:
        web_page(d, s)
    assert "digest.html.j2" in str(e.value) and "line 2" in str(e.value)
    (over / "digest.html.j2").write_text("<p>\n\n{{ no_such_variable }}\n")
    with pytest.raises(ThemeError) as e:
        web_page(d, s)
    assert "digest.html.j2" in str(e.value) and "line 3" in str(e.value) and "no_such_variable" in str(e.value)


def test_unknown_theme_is_a_clear_error():
    s = load_settings(EXAMPLE, overrides={"theme": "nope"})
    with pytest.raises(ThemeError, match="theme 'nope' not found"):
        load_theme(s)
