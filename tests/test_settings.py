import pytest

from digest import load_settings
from digest.editions.pdf.options import PdfOptions
from digest.errors import ConfigError
from tests.conftest import EXAMPLE


def test_jekyll_config_then_digest_toml():
    s = load_settings(EXAMPLE)
    assert (s.title, s.lang, s.timezone, s.url) == ("金融消息", "zh-CN", "Asia/Shanghai", "https://finews.withounder.com")
    assert s.sections == {"emnews": "东财滚动新闻"} and s.post_dirs == ["old_post"]


def test_layering_flags_override_only_when_given(tmp_path):
    (tmp_path / "_config.yml").write_text("title: Jekyll\ntimezone: Asia/Shanghai\n")
    (tmp_path / "digest.toml").write_text('title = "Toml"\nsummary_length = 50\n[pdf]\npage_size = "A5"\n')
    s = load_settings(tmp_path, overrides={"summary_length": None, "theme": "default", "pdf": {"variant": "pdf/a-2b"}})
    pdf = s.options(PdfOptions)
    assert s.title == "Toml" and s.summary_length == 50 and pdf.page_size == "A5" and pdf.variant == "pdf/a-2b"
    assert load_settings(tmp_path, overrides={"title": "Flag"}).title == "Flag"


def test_unknown_keys_named(tmp_path):
    (tmp_path / "digest.toml").write_text('titel = "x"\n[pdf]\npaper = "A4"\n')
    with pytest.raises(ConfigError) as e:
        load_settings(tmp_path)
    msg = str(e.value)
    assert "unknown key 'titel'" in msg and "unknown key 'pdf.paper'" in msg and "digest.toml" in msg
    assert "\n" not in msg


def test_bad_values_and_bad_files(tmp_path):
    (tmp_path / "digest.toml").write_text('timezone = "Mars/Olympus"\n')
    with pytest.raises(ConfigError, match="unknown time zone"):
        load_settings(tmp_path)
    (tmp_path / "digest.toml").write_text('title = \n')
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(tmp_path)
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(EXAMPLE, tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="site folder not found"):
        load_settings(tmp_path / "missing")
    (tmp_path / "digest.toml").unlink()
    (tmp_path / "_config.yml").write_text("title: [unclosed\n")
    with pytest.raises(ConfigError, match=r"_config\.yml"):
        load_settings(tmp_path)
