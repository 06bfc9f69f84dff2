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

from pydantic import ValidationError

from digest.config.jekyll import read_config
from digest.config.settings import CONFIG_NAME, EditionOptions, Settings
from digest.errors import ConfigError


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
    cfg = Path(config_file) if config_file else root / CONFIG_NAME
    source = cfg
    own = _read_toml(cfg) if config_file or cfg.is_file() else {}
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    jekyll = _jekyll(root, {**own, **given})
    name = jekyll.pop("name", None)
    data = merge(jekyll, own)
    if not data.get("title") and name:
        data["title"] = name  # Jekyll sites call themselves ``name`` as often as ``title``
    if given:
        data = merge(data, given)
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
        raise ConfigError("; ".join(problems), source)
    return settings


def _jekyll(root: Path, own: Mapping[str, Any]) -> dict[str, Any]:
    """The Jekyll config's settings: ``jekyll_config`` in digest.toml says where it is (``_config.yml``)."""
    rel = own.get("jekyll_config", "_config.yml")
    if not isinstance(rel, str) or not rel:
        return {}  # the model reports the wrong type, naming the key
    path = root / rel
    if path.is_file():
        return read_config(path)
    if "jekyll_config" in own:
        raise ConfigError(f"jekyll_config: {rel!r} not found", root / CONFIG_NAME)
    return {}


def _describe(error: ValidationError, given: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[str]:
    out = []
    for err in error.errors():
        loc = (*prefix, *err["loc"])
        key = ".".join(str(x) for x in loc)
        where = " (command line)" if _given_in(given, loc) else ""
        if err["type"] == "extra_forbidden":
            out.append(f"unknown key {key!r}{where}")
        else:
            out.append(f"{key}{where}: {err['msg'].removeprefix('Value error, ')}")
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
