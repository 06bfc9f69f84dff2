"""Jekyll's front-matter defaults (``defaults:`` in ``_config.yml``) and its reading of free-form dates.

A default set applies to a post when its scope's ``type`` is empty or ``posts`` and its ``path`` is empty or
a prefix (or a glob) of the post's path inside the collections folder. Sets are merged in order, a more
specific scope (longer path; then one with a type) winning; the post's own front matter wins over all
(https://jekyllrb.com/docs/configuration/front-matter-defaults/, Jekyll's FrontmatterDefaults).
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from fnmatch import fnmatchcase
from typing import Any

from dateutil import parser as dateparser

_TYPES = {"post": "posts", "draft": "drafts", "page": "pages"}  # Jekyll's deprecated singular types


def _scope_path(scope: Mapping[str, Any], collections_dir: str) -> str:
    path = str(scope.get("path") or "").strip()
    path = path.lstrip("/") if path.startswith("/") else path
    if collections_dir and path.startswith(collections_dir.strip("/") + "/"):
        path = path[len(collections_dir.strip("/")) + 1:]
    return path.rstrip("/") if path.endswith("/") and len(path) > 1 else path


def _applies(scope: Mapping[str, Any], path: str, rel: str) -> bool:
    kind = scope.get("type")
    if kind and _TYPES.get(str(kind), str(kind)) != "posts":
        return False
    if not path:
        return True
    if any(c in path for c in "*?["):
        parts = rel.split("/")
        return any(fnmatchcase("/".join(parts[:i]), path) for i in range(1, len(parts) + 1))
    return rel.startswith(path)


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), dict) else v
    return out


def defaults_for(defaults: Sequence[Mapping[str, Any]], rel: str, collections_dir: str = "") -> dict[str, Any]:
    """The default front matter of the post at ``rel`` (relative to the collections folder)."""
    merged: dict[str, Any] = {}
    old: tuple[int, bool] | None = None
    for entry in defaults:
        scope = entry.get("scope") or {}
        path = _scope_path(scope, collections_dir)
        if not _applies(scope, path, rel):
            continue
        rank = (len(path), bool(scope.get("type")))
        if old is None or rank[0] > old[0] or (rank[0] == old[0] and (rank[1] or not old[1])):
            merged, old = _merge(merged, entry.get("values") or {}), rank
        else:
            merged = _merge(dict(entry.get("values") or {}), merged)
    return merged


def with_defaults(front: dict[str, Any], defaults: Sequence[Mapping[str, Any]], rel: str,
                  collections_dir: str = "") -> dict[str, Any]:
    """The post's front matter over its defaults (nested mappings merged key by key)."""
    if not defaults:
        return front
    base = defaults_for(defaults, rel, collections_dir)
    return _merge(base, front) if base else front


def loose_date(text: str, tz: tzinfo) -> tuple[datetime, bool] | None:
    """A free-form date the way Ruby's ``Time.parse`` (which Jekyll uses) would read it: ``January 21, 2022``,
    ``21 Jan 2022 10:00``, ``2017-09-27 (optional)``; (aware datetime, has a time of day) or None.

    A date without a year is refused (Ruby would take the current year: not reproducible)."""
    try:
        with warnings.catch_warnings():  # a word read as a zone name dateutil does not know ('XSS'): Ruby ignores
            warnings.simplefilter("ignore", dateparser.UnknownTimezoneWarning)  # it too; no warning on stderr
            a = dateparser.parse(text, fuzzy=True, default=datetime(1, 1, 1))
            b = dateparser.parse(text, fuzzy=True, default=datetime(2, 2, 2, 1, 1, 1))
    except (ValueError, OverflowError, TypeError):
        return None
    if a.year != b.year or (a.month != b.month and a.day != b.day):
        return None  # the text had no year (or no month and no day): not a date
    timed = (a.hour, a.minute) == (b.hour, b.minute)
    when = a.replace(second=a.second if a.second == b.second else 0) if timed else a.replace(hour=0, minute=0, second=0)
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when.astimezone(tz), timed
