"""Configured values (issue 16, items 8 and 10): every URL setting must be http(s) (or mailto: where that is
meaningful), checked when the settings load, with one line naming the key and its file; text settings are made
one line. Before: ``url``, ``email.web_url`` and ``archive.base_url`` took ``javascript:``/``data:``/
``vbscript:``/``file:`` and put them into the web edition, the email and the .eml."""
from __future__ import annotations

from pathlib import Path

import pytest

from digest.config.load import load_settings as load_core
from digest.editions import load_settings
from digest.errors import ConfigError

HOSTILE_URLS = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "data:text/html,<b>x</b>",
                "vbscript:msgbox(1)", "file:///etc/passwd", "//evil.example/x", "https://ok.example/\nSet-Cookie: a",
                "https://ok.example/<script>", "https://ok.example:99999/", "ftp://example.org/", "https://",
                "http://exa mple.org/", "\u202ehttps://example.org"]
KEYS = {"url": ("", "url = {v}"), "archive.base_url": ("[archive]", "base_url = {v}"),
        "email.web_url": ("[email]", "web_url = {v}"), "email.unsubscribe": ("[email]", "unsubscribe = {v}")}


def _site(tmp_path: Path, toml: str) -> Path:
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True, exist_ok=True)
    (site / "_config.yml").write_text("title: Config attack\n")
    (site / "digest.toml").write_text(toml, encoding="utf-8")
    return site


def _toml_string(value: str) -> str:
    return '"' + value.encode("unicode_escape").decode().replace('"', '\\"') + '"'


@pytest.mark.parametrize("key", list(KEYS))
@pytest.mark.parametrize("value", HOSTILE_URLS)
def test_a_url_setting_that_is_not_http_is_one_error_naming_the_key(tmp_path, key, value):
    table, line = KEYS[key]
    site = _site(tmp_path, f"{table}\n{line.format(v=_toml_string(value))}\n")
    with pytest.raises(ConfigError) as got:
        load_settings(site)
    message = str(got.value)
    assert message.startswith(f"{site / 'digest.toml'}: {key}: ") and "\n" not in message, message
    assert "is not an http(s) URL" in message or "is not a mailto" in message


@pytest.mark.parametrize(("key", "value"), [("url", "https://example.org/blog/"), ("archive.base_url",
                         "https://example.org/digest/"), ("email.web_url", "https://example.org/{year}/{slug}.html"),
                         ("email.unsubscribe", "https://example.org/u, mailto:unsubscribe@example.org")])
def test_good_urls_load(tmp_path, key, value):
    table, line = KEYS[key]
    load_settings(_site(tmp_path, f"{table}\n{line.format(v=_toml_string(value))}\n"))


def test_a_jekyll_url_is_named_in_its_own_file(tmp_path):
    site = _site(tmp_path, "")
    (site / "digest.toml").unlink()
    (site / "_config.yml").write_text('title: T\nurl: "javascript:alert(1)"\n')
    with pytest.raises(ConfigError, match=r"_config\.yml: url: 'javascript:alert\(1\)' is not an http\(s\) URL"):
        load_core(site)


@pytest.mark.parametrize("value", ["en\" onload=\"x", "zh CN", "<script>", "en\n", " "])
def test_lang_must_be_a_language_tag(tmp_path, value):
    with pytest.raises(ConfigError, match="lang: "):
        load_core(_site(tmp_path, f"lang = {_toml_string(value)}\n"))


def test_an_empty_lang_means_each_posts_own(tmp_path):
    """(``lang = ""`` is the default: each post's own ``lang``, else found from its text; docs/blogs.md)"""
    assert load_core(_site(tmp_path, 'lang = ""\n')).lang == ""


@pytest.mark.parametrize("value", ["//evil.example", "https://evil.example", "/a?b", "/../x", "/a b"])
def test_baseurl_must_be_a_path(tmp_path, value):
    with pytest.raises(ConfigError, match="baseurl: "):
        load_core(_site(tmp_path, f"baseurl = {_toml_string(value)}\n"))


def test_text_settings_are_made_one_line(tmp_path):
    toml = ('title = "A\\nB\\u0007C\\u202eD\\u0085E"\ndescription = "x\\r\\ny"\nauthor = "\\u0001\\u0002"\n'
            'publisher = "P\\tQ"\n[sections]\nnews = "N\\u2028ews"\n')
    s = load_core(_site(tmp_path, toml))
    assert (s.title, s.description, s.author, s.publisher, s.sections["news"]) == ("A B C D E", "x y", None, "P Q",
                                                                                     "N ews")


@pytest.mark.parametrize(("key", "value"), [("from_addr", "a@b.example\\nBcc: victim@example.org"),
                                            ("reply_to", "a@b.example, c@d.example"), ("to", ["x"]),
                                            ("kindle", ["<a@b>x"]), ("from_addr", "Name <a@b.example")])
def test_address_settings_are_one_address_each(tmp_path, key, value):
    v = "[" + ", ".join(f'"{x}"' for x in value) + "]" if isinstance(value, list) else f'"{value}"'
    with pytest.raises(ConfigError, match=rf"email\.{key}(\.0)?: .* is not one email address"):
        load_settings(_site(tmp_path, f"[email]\n{key} = {v}\n"))
