"""digest — turn a folder of Markdown posts into a daily digest (web, EPUB, PDF, email).

Public API (imported lazily so that ``digest --help`` stays fast)::

    from digest import load_settings, make_digest, build
    settings = load_settings("examples/finews")
    issue = make_digest(settings, date(2021, 12, 8), date(2021, 12, 8))
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_API = {
    "load_settings": "digest.editions",
    "Settings": "digest.config.settings",
    "Environment": "digest.runtime.env",
    "collect": "digest.sources.collect",
    "assemble": "digest.assemble.assemble",
    "make_digest": "digest.build.issue",
    "build": "digest.build.run",
    "BuildOptions": "digest.build.run",
    "load_theme": "digest.theming.loader",
    "Digest": "digest.model",
    "Post": "digest.model",
    "Section": "digest.model",
    "Attribution": "digest.model",
    "DigestError": "digest.errors",
}
__all__ = [*sorted(_API), "__version__"]


def __getattr__(name: str) -> Any:
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'digest' has no attribute {name!r}")
