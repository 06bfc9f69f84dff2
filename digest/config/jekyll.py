"""What digest takes from a Jekyll ``_config.yml``: the keys that say where posts are, how they are dated,
published and linked, and what the site is called and written in.

Jekyll's own rules (https://jekyllrb.com/docs/configuration/): ``collections: posts: permalink:`` wins over
the site-wide ``permalink`` style; ``future``/``unpublished``/``show_drafts`` say which posts are built;
``source`` and ``collections_dir`` say where they are; ``defaults`` give front matter to posts by path and
type. The rest of a Jekyll config is not ours to judge, so it is ignored, never an error.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from digest.errors import ConfigError

# _config.yml key → settings key, for plain text values
_TEXT_KEYS = {"title": "title", "description": "description", "timezone": "timezone", "url": "url",
              "baseurl": "baseurl", "source": "source", "collections_dir": "collections_dir"}
# _config.yml switch → settings key (Jekyll's ``--future``, ``--unpublished``, ``--drafts``)
_SWITCHES = {"future": "include_future", "unpublished": "include_unpublished", "show_drafts": "include_drafts"}
_LISTS = ("exclude", "include")


def read_config(path: Path) -> dict[str, Any]:
    """The settings a Jekyll config gives (settings keys), plus ``name`` (a title fallback) when set."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read Jekyll config: {str(e).splitlines()[0]}", path) from None
    if not isinstance(data, dict):
        raise ConfigError("Jekyll config is not a mapping", path)
    out: dict[str, Any] = {}
    for key, name in _TEXT_KEYS.items():
        value = data.get(key)
        if value is not None and value != "" and not isinstance(value, (dict, list)):
            out[name] = str(value)
    for key, name in _SWITCHES.items():
        if isinstance(data.get(key), bool):
            out[name] = data[key]
    for key in _LISTS:
        if key in data and data[key] is not None:
            out[key] = _text_list(data[key], key, path)
    _language(data, out)
    _author(data, out)
    _permalink(data, out)
    if data.get("defaults") is not None:
        out["defaults"] = _defaults(data["defaults"], path)
    if isinstance(data.get("name"), (str, int, float)) and str(data["name"]).strip():
        out["name"] = str(data["name"]).strip()
    return out


def _text_list(value: Any, key: str, path: Path) -> list[str]:
    if not isinstance(value, list):
        raise ConfigError(f"'{key}' should be a list, but is {type(value).__name__}", path)
    return [str(v) for v in value if v is not None and not isinstance(v, (dict, list))]


def _language(data: Mapping[str, Any], out: dict[str, Any]) -> None:
    """``lang``, else ``locale`` (``en_US`` → ``en``; Chinese keeps its region, which picks its glyphs)."""
    lang = data.get("lang")
    if isinstance(lang, str) and lang.strip():
        out["lang"] = lang.strip()
        return
    locale = data.get("locale")
    if isinstance(locale, str) and locale.strip():
        out["lang"] = locale_to_lang(locale)


def locale_to_lang(locale: str) -> str:
    """A POSIX locale (``en_US``, ``zh_TW.UTF-8``) as a language tag: the language, and for Chinese the region."""
    base = locale.strip().split(".")[0].split("@")[0].replace("_", "-")
    parts = [p for p in base.split("-") if p]
    if not parts:
        return ""
    lang = parts[0].lower()
    if lang == "zh" and len(parts) > 1:
        return f"zh-{parts[1].upper() if len(parts[1]) == 2 else parts[1].title()}"
    return lang


def _author(data: Mapping[str, Any], out: dict[str, Any]) -> None:
    value = data.get("author")
    if isinstance(value, dict):
        value = value.get("name")
    if isinstance(value, (str, int, float)) and str(value).strip():
        out["author"] = str(value).strip()


def _permalink(data: Mapping[str, Any], out: dict[str, Any]) -> None:
    """``collections: posts: permalink:`` wins over the site-wide ``permalink`` (Jekyll's Configuration)."""
    collections = data.get("collections")
    posts = collections.get("posts") if isinstance(collections, dict) else None
    if isinstance(posts, dict) and isinstance(posts.get("future"), bool) and "include_future" not in out:
        out["include_future"] = posts["future"]
    if isinstance(posts, dict) and isinstance(posts.get("permalink"), str) and posts["permalink"].strip():
        out["permalink"] = posts["permalink"].strip()
        return
    value = data.get("permalink")
    if isinstance(value, str) and value.strip():
        out["permalink"] = value.strip()


def _defaults(value: Any, path: Path) -> list[dict[str, Any]]:
    """Front-matter defaults: each ``{scope: {path, type}, values: {…}}``; Jekyll skips an invalid set (so do we)."""
    if not isinstance(value, list):
        raise ConfigError(f"'defaults' should be a list, but is {type(value).__name__}", path)
    out = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("values"), dict):
            continue
        scope = entry["scope"] if isinstance(entry.get("scope"), dict) else {}
        kept_scope = {k: str(v) for k, v in scope.items() if k in ("path", "type") and v is not None}
        out.append({"scope": kept_scope, "values": {str(k): v for k, v in entry["values"].items()}})
    return out
