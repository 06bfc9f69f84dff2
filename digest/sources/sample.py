"""The site's attribution rules settled: ``preset = "auto"`` decided from the site's newest posts.

Decided once per build for the whole site (see :mod:`digest.config.presets`), so every issue of a site is
attributed the same way, and the settings every later stage sees (and every cache key) name a real preset.
"""
from __future__ import annotations

from pathlib import Path

from digest.config.presets import SAMPLE, choose
from digest.config.settings import Settings
from digest.errors import PostError
from digest.runtime.env import Environment
from digest.sources.frontmatter import decode, split_front_matter
from digest.sources.siteindex import SiteIndex, newest_paths


def _body(root: Path, rel: str, limit: int) -> str:
    try:
        with open(root / rel, "rb") as f:
            text, _ = decode(f.read(limit))
        return split_front_matter(text.replace("\r\n", "\n").lstrip())[1]
    except (OSError, PostError):
        return ""


def settled(settings: Settings, env: Environment, index: SiteIndex | None = None) -> Settings:
    """``settings`` with the attribution preset settled (``auto`` → ``news`` or ``blog``) and its rules filled."""
    rules = settings.attribution
    if rules.preset != "auto" and rules.original_url_pattern is not None and rules.source_patterns is not None:
        return settings  # settled already
    if rules.preset == "auto":
        index = index or SiteIndex(settings, env)
        root = settings.site_root
        bodies = [_body(root, p, settings.max_post_bytes) for p in newest_paths(index, SAMPLE)]
        chosen = choose(rules, bodies)
    else:
        chosen = choose(rules, ())
    return settings.model_copy(update={"attribution": chosen})
