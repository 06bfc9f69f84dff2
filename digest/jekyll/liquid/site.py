"""What Liquid sees of a Jekyll site: ``site.*`` (config and data files) and how to find posts.

Built once per build. Data files are read with bounds on count, size, depth and the size of what
YAML aliases expand to, and only from inside the site: a data folder, file or symlink that leads
outside it is refused, never read.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

import yaml

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_DATA_SUFFIXES = frozenset({".yml", ".yaml", ".json", ".csv", ".tsv"})
_POST_NAME = re.compile(r"\A(.+/)*?(\d{2,4}-\d{1,2}-\d{1,2})-([^/]*)\Z")


def _no_target(_name: str) -> str | None:
    return None


@dataclass(frozen=True)
class JekyllSite:
    """The site as Liquid sees it. ``resolve_post`` maps a ``post_url`` name (``2019-01-01-x``,
    ``articles/2019-01-01-x``) and ``resolve_link`` a ``link`` path (``_posts/2019-01-01-x.md``,
    ``_work/x.md``) to the target's URL path without the baseurl, or None when there is none."""

    root: Path
    config: Mapping[str, Any]
    url: str
    baseurl: str
    includes_dir: Path
    resolve_post: Callable[[str], str | None] = _no_target
    resolve_link: Callable[[str], str | None] = _no_target
    data: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    time: datetime | None = None  # site.time and the date filter's "now": given, never read from the clock

    @classmethod
    def from_config(cls, root: Path, config: Mapping[str, Any], *,
                    resolve_post: Callable[[str], str | None] = _no_target,
                    resolve_link: Callable[[str], str | None] = _no_target,
                    data: Mapping[str, Any] = _EMPTY, time: datetime | None = None) -> JekyllSite:
        """url, baseurl and the includes folder as Jekyll reads them from ``_config.yml``."""
        includes = inside(root, str(config.get("includes_dir") or "_includes")) or root / "_includes"
        return cls(root=root, config=config, url=str(config.get("url") or "").rstrip("/"),
                   baseurl=str(config.get("baseurl") or "").rstrip("/"), includes_dir=includes,
                   resolve_post=resolve_post, resolve_link=resolve_link, data=data, time=time)

    def variables(self) -> dict[str, Any]:
        """The ``site`` object of Liquid."""
        return {**self.config, "data": self.data, "url": self.url, "baseurl": self.baseurl, "time": self.time}


def inside(root: Path, relative: str) -> Path | None:
    """``root/relative`` when it stays inside root once symlinks are followed; Jekyll reads
    ``/docs/_data`` as relative to the site too."""
    rel = PurePosixPath(relative.replace("\\", "/").lstrip("/"))
    if ".." in rel.parts or "\x00" in relative:
        return None
    base = root.resolve()
    target = (base / rel).resolve()
    return target if target == base or target.is_relative_to(base) else None


@dataclass(frozen=True)
class DataLimits:
    files: int = 500
    file_bytes: int = 2_000_000
    total_bytes: int = 16_000_000
    depth: int = 8  # folders inside the data folder
    values: int = 200_000  # values after YAML aliases are expanded (an alias bomb stops here)


@dataclass(frozen=True)
class SiteData:
    data: Mapping[str, Any]
    problems: tuple[str, ...] = field(default=())  # one line each, naming the file


class _Budget:
    def __init__(self, limits: DataLimits) -> None:
        self.limits = limits
        self.files = 0
        self.bytes = 0
        self.problems: list[str] = []


def load_site_data(root: Path, config: Mapping[str, Any], limits: DataLimits = DataLimits()) -> SiteData:
    """``site.data``: every ``.yml``/``.yaml``/``.json``/``.csv``/``.tsv`` under the data folder
    (``data_dir``, default ``_data``), sub-folders as nested objects, keyed by file stem."""
    name = str(config.get("data_dir") or "_data")
    folder = inside(root, name)
    if folder is None:
        return SiteData({}, (f"{name}: data folder outside the site, not read",))
    if not folder.is_dir():
        return SiteData({})
    budget = _Budget(limits)
    data = _read_folder(folder, root.resolve(), name.strip("/"), 0, budget)
    return SiteData(data, tuple(budget.problems))


def _skipped(name: str) -> bool:
    return name.startswith((".", "_", "#")) or name.endswith("~")


def _read_folder(folder: Path, base: Path, shown: str, depth: int, budget: _Budget) -> dict[str, Any]:
    data: dict[str, Any] = {}
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as err:
        budget.problems.append(f"{shown}: cannot list the folder ({err.strerror})")
        return data
    for entry in entries:
        path = Path(entry.path)
        label = f"{shown}/{entry.name}"
        if _skipped(entry.name):
            continue
        real = path.resolve()
        if not real.is_relative_to(base):
            budget.problems.append(f"{label}: leads outside the site, not read")
        elif real.is_dir():
            if depth + 1 > budget.limits.depth:
                budget.problems.append(f"{label}: data folders nested too deep, not read")
            else:
                data[entry.name] = _read_folder(real, base, label, depth + 1, budget)
        elif real.is_file() and path.suffix.lower() in _DATA_SUFFIXES:
            value = _read_file(real, label, budget)
            if value is not None:
                data[path.stem] = value
    return data


def _read_file(path: Path, label: str, budget: _Budget) -> Any:
    limits = budget.limits
    size = path.stat().st_size
    if budget.files >= limits.files:
        budget.problems.append(f"{label}: more than {limits.files} data files, not read")
        return None
    if size > limits.file_bytes or budget.bytes + size > limits.total_bytes:
        budget.problems.append(f"{label}: data file too large ({size} bytes), not read")
        return None
    budget.files += 1
    budget.bytes += size
    try:
        text = path.read_bytes().decode("utf-8-sig")
        return _plain(_parse(text, path.suffix.lower()), [limits.values])
    except (UnicodeDecodeError, ValueError, yaml.YAMLError, csv.Error, RecursionError) as err:
        budget.problems.append(f"{label}: {_reason(err)}, not read")
        return None


def _parse(text: str, suffix: str) -> Any:
    if suffix == ".json":
        return json.loads(text)
    if suffix in (".csv", ".tsv"):
        return list(csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ","))
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def _plain(value: Any, budget: list[int]) -> Any:
    """A copy made of dicts and lists; counting every value after aliases are expanded."""
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError("too many values (YAML aliases expand too far)")
    if isinstance(value, Mapping):
        return {key if isinstance(key, str) else str(key): _plain(item, budget) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item, budget) for item in value]
    return value


def _reason(err: Exception) -> str:
    if isinstance(err, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(err, yaml.MarkedYAMLError) and err.problem_mark is not None:
        return f"invalid YAML at line {err.problem_mark.line + 1}: {err.problem}"
    if isinstance(err, json.JSONDecodeError):
        return f"invalid JSON at line {err.lineno}: {err.msg}"
    if isinstance(err, RecursionError):
        return "nested too deep"
    return " ".join(str(err).split())[:200]


def post_resolver(urls: Mapping[str, str]) -> Callable[[str], str | None]:
    """A ``resolve_post`` from the posts' source paths (relative to the site root, e.g.
    ``_posts/articles/2016-08-21-x.md``) and their URL paths, matching as Jekyll 4 does:
    ``[dir/]date-slug`` against ``_posts/dir/date-slug.ext`` or ``dir/_posts/date-slug.ext``, then
    by ``date-slug`` alone (Jekyll's deprecated fallback)."""
    exact: dict[str, str] = {}
    loose: dict[str, str] = {}
    for source, url in sorted(urls.items()):
        for key, is_exact in _post_keys(source):
            (exact if is_exact else loose).setdefault(key, url)

    def resolve(name: str) -> str | None:
        name = name.strip().lstrip("/")
        if not _POST_NAME.match(name):
            return None
        return exact.get(name) or loose.get(name.rsplit("/", 1)[-1])

    return resolve


def _post_keys(source: str) -> Iterable[tuple[str, bool]]:
    parts = PurePosixPath(source.lstrip("/")).parts
    if "_posts" not in parts:
        return
    cut = parts.index("_posts")
    before, after = parts[:cut], parts[cut + 1:]
    if not after:
        return
    stem = PurePosixPath(after[-1]).stem
    yield "/".join((*after[:-1], stem)), not before
    yield "/".join((*before, stem)), len(after) == 1
    yield stem, False


def link_resolver(urls: Mapping[str, str]) -> Callable[[str], str | None]:
    """A ``resolve_link`` from site files' source paths (relative to the site root) and URLs."""
    table = {source.lstrip("/"): url for source, url in urls.items()}

    def resolve(path: str) -> str | None:
        return table.get(path.strip().lstrip("/"))

    return resolve
