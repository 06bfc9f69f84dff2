"""The editions: one folder per format, found here by name.

The built-in ones are the packages ``web``, ``epub``, ``pdf`` and ``email`` of this folder; another
format is a package anywhere that defines an :class:`~digest.editions.base.Edition` subclass and names it
in the ``digest.editions`` entry-point group (``tiny = "mypkg.tiny:TinyEdition"``). Importing an edition's
package is cheap: its heavy libraries load only when it writes.
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from digest.config.load import load_settings as _load
from digest.config.settings import Settings
from digest.editions.base import Edition
from digest.errors import ConfigError, MissingDependency

BUILTIN = ("web", "epub", "pdf", "email")
GROUP = "digest.editions"


def _entry_points() -> list[Any]:
    from importlib.metadata import entry_points

    return sorted(entry_points(group=GROUP), key=lambda ep: ep.name)


def _builtin(name: str) -> Edition:
    module = importlib.import_module(f"digest.editions.{name}")
    edition: Edition = module.EDITION()
    return edition


@cache
def all_editions() -> tuple[Edition, ...]:
    """Every edition: the built-in ones, then those registered by other packages (by name)."""
    found = [_builtin(name) for name in BUILTIN]
    for ep in _entry_points():
        try:
            cls = ep.load()
        except ImportError as e:
            raise MissingDependency(f"the {ep.name} edition is not available yet: {e}") from None
        if not (isinstance(cls, type) and issubclass(cls, Edition)):
            raise ConfigError(f"entry point {ep.name!r} of {GROUP!r} is not an Edition class")
        found.append(cls())
    return tuple(found)


def names() -> list[str]:
    return [e.name for e in all_editions()]


def get(name: str) -> Edition:
    """The edition called ``name`` (or one of its aliases)."""
    for edition in all_editions():
        if name == edition.name or name in edition.aliases:
            return edition
    raise ConfigError(f"unknown format {name!r} (known: {', '.join(names())})")


def canonical(formats: list[str]) -> list[str]:
    """Format names as given (``all``, aliases) → edition names, each once, in the order given."""
    if formats == ["all"]:
        return names()
    return list(dict.fromkeys(get(f).name for f in formats))


def load_settings(site_root: Path | str, config_file: Path | str | None = None,
                  overrides: Mapping[str, Any] | None = None) -> Settings:
    """The site's settings, with every edition's table validated and the format names made canonical."""
    options = [e.options for e in all_editions() if e.options is not None]
    settings = _load(site_root, config_file, overrides, editions=options)
    formats = canonical(settings.formats)
    return settings if formats == settings.formats else settings.model_copy(update={"formats": formats})
