"""Scaffolding a theme (``digest theme new NAME``) that extends another.

A new theme holds only what the user changes: ``theme.toml`` (``extends`` its parent, every inherited
option listed commented out), one example override (the parent's stylesheet of the first edition) and an
empty folder per edition. Everything not in the folder still comes from the parent, so a theme can be one
file.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from digest.config.settings import Settings
from digest.errors import ThemeError
from digest.runtime.files import atomic_write
from digest.theming.loader import load_theme, resolve_theme_dir, themes_root

SHARED_DIRS = ("partials",)  # template folders every theme has besides one per edition
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _options_block(options: dict[str, Any], editions: Sequence[str]) -> list[str]:
    plain = {k: v for k, v in options.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in options.items() if isinstance(v, dict)}
    named = ", ".join(f"[options.{e}]" for e in editions)
    lines = ["# Options, as the templates see them (`theme.<name>`). Uncomment a line to change it;",
             f"# an edition's own table ({named})",
             "# overrides [options] for that edition only. Inherited values:", "[options]"]
    lines += [f"# {k} = {_toml_value(v)}" for k, v in plain.items()]
    for edition in editions:
        lines += ["", f"# [options.{edition}]"]
        lines += [f"# {k} = {_toml_value(v)}" for k, v in tables.get(edition, {}).items()]
    return lines


def template_files(dirs: list[Path]) -> list[str]:
    """Every file a theme chain provides (relative paths), the overridable set."""
    seen: set[str] = set()
    for d in dirs:
        for p in d.rglob("*"):
            rel = p.relative_to(d).as_posix()
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(d).parts) \
                    and rel not in ("theme.toml", "labels.toml") and "__pycache__" not in rel:
                seen.add(rel)
    return sorted(seen)


def scaffold(name: str, parent: str = "default", where: Path = Path("."), *, editions: Sequence[str]) -> Path:
    """Create ``where/name`` extending ``parent`` (a built-in theme name or a theme folder), with a folder
    for each edition's templates (``editions``: their theme folders; the first one's stylesheet is copied as
    an example override)."""
    if not _NAME.match(name):
        raise ThemeError(f"theme name {name!r}: use letters, digits, '.', '_' or '-'")
    target = where / name
    if target.exists():
        raise ThemeError("already exists; choose another name or remove it first", target)
    parent_dir = resolve_theme_dir(parent)
    builtin = parent_dir.resolve().parent == themes_root().resolve()
    extends = parent_dir.name if builtin else os.path.relpath(parent_dir.resolve(), where.resolve())
    theme = load_theme(Settings(site_root=where, theme=str(parent_dir)))
    lines = [f"name = {_toml_value(name)}", f"extends = {_toml_value(Path(extends).as_posix())}"
             "   # a built-in theme name, or a theme folder (relative to the folder holding this one)", ""]
    lines += _options_block(theme.options, editions)
    example = f"{editions[0]}/style.css"
    files = template_files(theme.dirs)
    readme = [f"# Theme `{name}`", "",
              f"Extends `{extends}`. Any file you put here replaces the parent's file of the same path;",
              "everything else still comes from the parent. Use it with `digest build SITE --theme "
              f"{name}` (a folder next to the site's digest.toml) or `--theme PATH/TO/{name}`.", "",
              f"`{example}` is a copy of the parent's, to edit. Delete it to go back to the parent's.", "",
              "Labels (interface words) go in `labels.toml`, by language, e.g.:", "", "```toml",
              "[zh]", 'contents = "本期目录"', "```", "",
              "The template API (every variable and filter, per edition) is in the digest repository's",
              "`themes/README.md`. Files you can override:", ""]
    readme += [f"- `{f}`" for f in files]
    target.mkdir(parents=True)
    try:
        atomic_write(target / "theme.toml", "\n".join(lines) + "\n")
        atomic_write(target / "README.md", "\n".join(readme) + "\n")
        for d in (*editions, *SHARED_DIRS):
            (target / d).mkdir()
        css = theme.read_text(example)
        header = f"/* The {name} theme's web stylesheet: a copy of {extends}'s, to edit. */\n"
        atomic_write(target / example, header + css)
    except BaseException:
        import shutil

        shutil.rmtree(target, ignore_errors=True)
        raise
    return target
