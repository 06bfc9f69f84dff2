"""Exporter registry. Each format is one module with ``write(digest, out_dir, *, theme, settings)``.

Modules are imported only when their format is built, so start-up stays fast and a format's heavy
dependencies (WeasyPrint, ebooklib) load only when needed. Third parties can add formats through the
``digest.exporters`` entry-point group.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol

from digest.errors import ConfigError, MissingDependency
from digest.model import Digest
from digest.config.settings import Settings

BUILTIN = {
    "html": "digest.editions.web",
    "epub": "digest.editions.epub.book",
    "pdf": "digest.editions.pdf.edition",
    "email": "digest.editions.email.render",
}


class Exporter(Protocol):
    def write(self, digest: Digest, out_dir: Path, *, theme: Any, settings: Settings) -> list[Path]: ...


def entry_points(group: str):
    from importlib.metadata import entry_points as found  # only when a format is not built in

    return found(group=group)


def available() -> list[str]:
    names = set(BUILTIN)
    names.update(ep.name for ep in entry_points(group="digest.editions"))
    return sorted(names)


def get(name: str) -> Exporter:
    if name in BUILTIN:
        try:
            return importlib.import_module(BUILTIN[name])  # type: ignore[return-value]
        except ModuleNotFoundError as e:
            if e.name == BUILTIN[name]:
                raise MissingDependency(f"the {name} edition is not available yet") from None
            raise MissingDependency(f"the {name} edition needs the Python package {e.name!r}") from None
    for ep in entry_points(group="digest.editions"):
        if ep.name == name:
            return ep.load()
    raise ConfigError(f"unknown format {name!r} (known: {', '.join(available())})")


def output_path(settings: Settings, digest: Digest, out_dir: Path, suffix: str) -> Path:
    """``OUT/YYYY/YYYY-MM-DD<suffix>`` by default (``output_name`` setting). Never outside ``out_dir``."""
    name = settings.output_name.format(year=f"{digest.start:%Y}", month=f"{digest.start:%m}", slug=digest.slug)
    path = (out_dir / (name + suffix)).resolve()
    if not path.is_relative_to(out_dir.resolve()):
        raise ConfigError(f"output_name {settings.output_name!r} leads outside the output folder")
    return path


def base_context(digest: Digest, settings: Settings, edition: str) -> dict[str, Any]:
    """What every template of every edition receives (documented in themes/README.md)."""
    return {
        "digest": digest,
        "sections": digest.sections,
        "edition": edition,
        "site": {
            "title": digest.site_title, "url": digest.site_url, "lang": digest.lang,
            "description": settings.description, "author": settings.author, "publisher": settings.publisher,
        },
    }
