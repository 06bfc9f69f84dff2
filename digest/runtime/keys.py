"""Every cache key of digest comes from here: the input, the settings that shape it, the code that made it.

One scheme for everything kept between runs — a file's parsed head, a rendered post, a drawn cover, an
issue's build record: ``key(kind, inputs, settings, code)`` hashes

* the **input**: its bytes' hash when the bytes are at hand; where reading them would defeat the cache (a
  year of posts listed on every run), their stand-in, the file's size and modification time, as git's
  index does;
* the **settings that shape it**, as declared by the settings model (see ``digest.config.shaping``);
* a **fingerprint of the code**: the source of every module of the stage's layer and the layers below
  (:mod:`digest.runtime.layers`; the architecture test guarantees nothing above can play a part) and the
  versions of the libraries the stage uses. Nothing is bumped by hand: editing a parsing function, or
  upgrading digest or markdown-it, changes the keys, and what was cached before is simply not found.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from digest.runtime.layers import LAYERS, layer_of, packages_up_to

_PACKAGE = Path(__file__).resolve().parent.parent  # the digest package folder

# The libraries whose behaviour shapes what each layer produces (their versions are part of the code).
LIBRARIES: dict[str, tuple[str, ...]] = {
    "digest.sources": ("pyyaml", "python-frontmatter"),
    "digest.render": ("markdown-it-py", "mdit-py-plugins", "nh3", "python-liquid", "pygments", "latex2mathml",
                      "ziamath"),
    "digest.theming": ("jinja2",),
    "digest.editions": ("weasyprint", "pikepdf", "pillow", "css-inline", "lxml", "fonttools", "resvg-py",
                        "uharfbuzz"),
}


def digest_of(*parts: str | bytes) -> str:
    """A SHA-256 hex digest of the parts, each length-prefixed (no two lists of parts collide)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(f"{len(data)}:".encode())
        h.update(data)
    return h.hexdigest()


def json_digest(value: Any) -> str:
    """The digest of a JSON-able value (settings, lists of paths and hashes), independent of key order."""
    return digest_of(json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str))


def _module_files(name: str) -> list[Path]:
    rel = Path(*name.split(".")[1:]) if name != "digest" else Path()
    if name == "digest":
        return [_PACKAGE / "__init__.py"]
    folder = _PACKAGE / rel
    if folder.is_dir():
        return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)
    single = folder.with_suffix(".py")
    return [single] if single.is_file() else []


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


@cache
def code_fingerprint(stage: str) -> str:
    """The fingerprint of the code that produces what ``stage`` (a module of the package) computes."""
    layer = layer_of(stage)
    h = hashlib.sha256()
    for name in packages_up_to(layer):
        for path in _module_files(name):
            h.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())
    for names in LAYERS[: layer + 1]:
        for name in names:
            for dist in LIBRARIES.get(name, ()):
                h.update(f"{dist}={_version(dist)}\0".encode())
    return h.hexdigest()


def key(kind: str, *, inputs: Iterable[str | bytes], settings: Any = None, code: str) -> str:
    """The key of one cached thing: its kind, its inputs, the settings that shape it and the code's fingerprint."""
    return digest_of(kind, code, json_digest(settings), *inputs)
