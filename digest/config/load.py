"""Settings, layered: defaults ← Jekyll ``_config.yml`` ← ``digest.toml`` ← the CLI flags actually given.

Validated in one pass by pydantic; every problem (an unknown key, a wrong type) is reported together,
each naming the file and the key. The editions' own tables (``[epub]``…) are validated by the options
models the caller names (:func:`digest.editions.load_settings` passes every edition's).
"""
from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from digest.config.settings import CONFIG_NAME, EditionOptions, Settings
from digest.errors import ConfigError

# Jekyll keys we take from _config.yml; the rest of a Jekyll config is not ours to judge.
_JEKYLL_KEYS = ("title", "description", "lang", "timezone", "url", "baseurl", "permalink", "author")


def _read_jekyll(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read Jekyll config: {str(e).splitlines()[0]}", path) from None
    if not isinstance(data, dict):
        raise ConfigError("Jekyll config is not a mapping", path)
    out: dict[str, Any] = {}
    for key in _JEKYLL_KEYS:
        value = data.get(key)
        if value is None or value == "":
            continue
        if key == "author" and isinstance(value, dict):
            value = value.get("name")
        out[key] = str(value)
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError("config file not found", path) from None
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"invalid TOML: {e}", path) from None


def merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, tables merged key by key."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def load_settings(
    site_root: Path | str,
    config_file: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    editions: Iterable[type[EditionOptions]] = (),
) -> Settings:
    """Read the site's settings. ``overrides`` holds only the CLI flags the user gave; ``editions`` are the
    options models of the editions whose tables digest.toml may hold."""
    root = Path(site_root)
    if not root.is_dir():
        raise ConfigError("site folder not found", root)
    data: dict[str, Any] = {}
    jekyll = root / "_config.yml"
    if jekyll.is_file():
        data.update(_read_jekyll(jekyll))
    from_jekyll = set(data)
    cfg = Path(config_file) if config_file else root / CONFIG_NAME
    source = cfg
    if config_file or cfg.is_file():
        toml = _read_toml(cfg)
        from_jekyll -= set(toml)
        data = merge(data, toml)
    elif from_jekyll:
        source = jekyll
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    if given:
        data = merge(data, given)
        from_jekyll -= set(given)
        source = cfg if cfg.is_file() else root
    data["site_root"] = root
    problems: list[str] = []
    tables: dict[str, EditionOptions] = {}
    for model in editions:
        raw = data.pop(model.TABLE, None)
        try:
            tables[model.TABLE] = model.model_validate(raw if raw is not None else {})
        except ValidationError as e:
            problems += _describe(e, given, prefix=(model.TABLE,))
    data["editions"] = tables
    try:
        settings = Settings.model_validate(data)
    except ValidationError as e:
        problems = _describe(e, given) + problems
    if problems:
        first = problems[0].split(":", 1)[0].split(".", 1)[0].split(" ", 1)[0]
        raise ConfigError("; ".join(problems), jekyll if first in from_jekyll else source)
    return settings


def _describe(error: ValidationError, given: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[str]:
    out = []
    for err in error.errors():
        loc = (*prefix, *err["loc"])
        key = ".".join(str(x) for x in loc)
        where = " (command line)" if _given_in(given, loc) else ""
        if err["type"] == "extra_forbidden":
            out.append(f"unknown key {key!r}{where}")
        else:
            out.append(f"{key}{where}: {err['msg']}")
    return out


def _given_in(overrides: Mapping[str, Any], loc: tuple[Any, ...]) -> bool:
    node: Any = overrides
    for part in loc:
        if not isinstance(node, dict) or part not in node or node[part] is None:
            return False
        node = node[part]
    return True


def output_folder(site_root: Path, settings: Settings, given: Path | None) -> Path:
    """Where outputs go: ``--out`` as given (relative to the current folder), else ``out`` from digest.toml
    (relative to the site), else ``out`` in the current folder."""
    if given is not None:
        return given
    return site_root / settings.out if settings.out else Path("out")
