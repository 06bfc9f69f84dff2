"""What the archive needs of the site's settings, kept in the output folder: ``OUT/.digest/site.json``.

The archive (index, feeds, OPDS) is made from the issue records and the files in the folder, plus a few
settings: the site's title, description, language, URL, author and publisher, the ``[archive]`` table and
the theme whose archive templates and labels it uses. Every build that writes the archive keeps them here,
so ``digest archive OUT`` can rebuild it from the folder alone — on a host that has the output folder but
not the site, after shards built its issues on several machines (docs/scale.md). A theme or override
folder is kept as an absolute path; a built-in theme by its name.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from digest.archive.records import DIR
from digest.config.settings import Settings
from digest.errors import ConfigError
from digest.runtime.files import atomic_write
from digest.theming.loader import resolve_theme_dir, themes_root

NAME = "site.json"
FIELDS = ("title", "description", "lang", "timezone", "url", "baseurl", "author", "publisher", "theme",
          "template_overrides", "archive")


def snapshot_path(out_dir: Path) -> Path:
    return out_dir / DIR / NAME


def _theme(settings: Settings) -> str:
    folder = resolve_theme_dir(settings.theme, settings.site_root).resolve()
    return settings.theme if folder.parent == themes_root().resolve() else folder.as_posix()


def save_snapshot(out_dir: Path, settings: Settings) -> Path:
    """Keep the archive's settings in the folder (rewritten only when they change)."""
    data: dict[str, Any] = settings.model_dump(mode="json", include=set(FIELDS))
    data["theme"] = _theme(settings)
    if settings.template_overrides:
        data["template_overrides"] = (settings.site_root / settings.template_overrides).resolve().as_posix()
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, indent=1) + "\n"
    path = snapshot_path(out_dir)
    try:
        if path.read_text(encoding="utf-8") == text:
            return path
    except OSError:
        pass
    return atomic_write(path, text)


def load_snapshot(out_dir: Path) -> Settings:
    """The archive's settings as the last build kept them (the site itself is not needed)."""
    path = snapshot_path(out_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Settings.model_validate({**data, "site_root": out_dir.resolve()})
    except FileNotFoundError:
        raise ConfigError(f"no {DIR}/{NAME} here: not an output folder of digest, or built before it kept "
                          "one; give the site: digest archive SITE -o OUT", out_dir) from None
    except (OSError, ValueError, ValidationError) as e:
        first = str(e).splitlines()[0]
        raise ConfigError(f"unreadable {DIR}/{NAME}: {first}", out_dir) from None
