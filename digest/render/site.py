"""The Jekyll site as a post's Liquid sees it, read once per build: the whole ``_config.yml`` (``site.*``,
the ``markdown``/``kramdown`` options), ``_data/``, the includes folder, and the URLs of the other posts
and pages that ``{% post_url %}`` and ``{% link %}`` name.

Other posts are found lazily: a build of one day of a 100,000-post site must not read every post to
resolve the one ``post_url`` a post may hold. The first lookup lists the site's post files (names only);
each target is then read and its URL made by the caller's own permalink rule.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

import yaml

from digest.config.settings import Settings
from digest.errors import PostError
from digest.runtime import keys
from digest.sources.discover import list_post_files
from digest.sources.frontmatter import load_front_matter, split_front_matter
from digest.sources.posts import SourcePost, parse_post

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_MAX_TREE_FILES = 2_000  # files of the includes and data folders taken into the cache key
_PAGE_EXTENSIONS = (".md", ".markdown", ".mkd", ".mkdn", ".mdown", ".html", ".htm")
_PLACEHOLDER = re.compile(r":(collection|path|name|title|output_ext)\b")
PostUrl = Callable[[SourcePost], "str | None"]


def config_path(settings: Settings) -> Path:
    """The Jekyll config: ``jekyll_config`` when the settings name one, else ``_config.yml``."""
    return settings.site_root / str(getattr(settings, "jekyll_config", "") or "_config.yml")


def source_root(settings: Settings) -> Path:
    """Jekyll's source folder (``source`` when the settings name one): includes and data are under it."""
    return settings.site_root / str(getattr(settings, "source", "") or ".")


def read_config(path: Path) -> tuple[Mapping[str, Any], str | None]:
    """The whole Jekyll config as a mapping; a config that cannot be read gives an empty one and the reason
    (the settings loader has already reported what digest itself needs from it)."""
    if not path.is_file():
        return _EMPTY, None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        return _EMPTY, f"cannot read: {str(e).splitlines()[0]}"
    if not isinstance(data, dict):
        return _EMPTY, "not a mapping"
    return MappingProxyType({str(k): v for k, v in data.items()}), None


def _tree_stats(folder: Path) -> list[str]:
    """(path, size, mtime) of every file under ``folder``: what the cache key of a Liquid post takes."""
    out: list[str] = []
    if not folder.is_dir():
        return out
    for here, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(here, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            out.append(f"{os.path.relpath(path, folder)}:{st.st_size}:{st.st_mtime_ns}")
            if len(out) >= _MAX_TREE_FILES:
                return out
    return out


@dataclass(frozen=True)
class SiteInputs:
    """What every post's Liquid and Markdown depend on besides the post itself."""

    root: Path  # Jekyll's source folder
    config: Mapping[str, Any]
    problem: str | None  # why the config could not be read (then it is empty)
    fingerprint: str  # the config, the includes and the data files: part of a Liquid post's cache key

    @classmethod
    def read(cls, settings: Settings) -> SiteInputs:
        root = source_root(settings)
        path = config_path(settings)
        config, problem = read_config(path)
        includes = root / str(config.get("includes_dir") or "_includes").lstrip("/")
        data = root / str(config.get("data_dir") or "_data").lstrip("/")
        try:
            raw = path.read_bytes() if path.is_file() else b""
        except OSError:
            raw = b""
        stats = [*_tree_stats(includes), "|", *_tree_stats(data)]
        return cls(root, config, problem, keys.digest_of(raw, *stats))


@dataclass
class SiteLinks:
    """``post_url`` and ``link`` targets, found when first asked for; one per build."""

    settings: Settings
    url_of: PostUrl  # the post's own URL (absolute), by the site's permalink rules
    config: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    _by_stem: dict[str, list[str]] | None = None
    _urls: dict[str, str | None] = field(default_factory=dict)

    def _stems(self) -> dict[str, list[str]]:
        if self._by_stem is None:
            table: dict[str, list[str]] = {}
            for rel in sorted(list_post_files(self.settings)):
                table.setdefault(PurePosixPath(rel).stem, []).append(rel)
            self._by_stem = table
        return self._by_stem

    def _path_of(self, url: str | None) -> str | None:
        if url is None:
            return None
        site = self.settings.site_url
        return url[len(site):] or "/" if site and url.startswith(site) else None

    def _post_path(self, rel: str) -> str | None:
        """The URL path (without the baseurl) of the post file ``rel``; None when it cannot be read."""
        if rel not in self._urls:
            try:
                data = (self.settings.site_root / rel).read_bytes()
                self._urls[rel] = self._path_of(self.url_of(parse_post(Path(rel), data, self.settings)))
            except (OSError, PostError):
                self._urls[rel] = None
        return self._urls[rel]

    def post(self, name: str) -> str | None:
        """``{% post_url name %}``: Jekyll's matching (folder, date and slug), then the target's URL path."""
        stem = name.strip().rsplit("/", 1)[-1]
        candidates = self._stems().get(stem, [])
        if not candidates:
            return None
        from digest.jekyll.liquid.site import post_resolver  # here: a build whose posts are all cached never loads it

        paths = {rel: path for rel in candidates if (path := self._post_path(rel)) is not None}
        return post_resolver(paths)(name)

    def link(self, target: str) -> str | None:
        """``{% link path %}``: a post by its file, else a page or collection document of the source."""
        rel = target.strip().lstrip("/")
        root = source_root(self.settings).resolve()
        path = (root / rel).resolve()
        if ".." in PurePosixPath(rel).parts or not path.is_relative_to(root) or not path.is_file():
            return None
        if "_posts" in PurePosixPath(rel).parts:
            return self._post_path(path.relative_to(self.settings.site_root.resolve()).as_posix())
        return self._page_path(rel, path)

    def _page_path(self, rel: str, path: Path) -> str | None:
        """A page's or a collection document's URL: its ``permalink``, else its collection's, else Jekyll's
        defaults (``/:path:output_ext`` for pages, ``/:collection/:path:output_ext`` for documents)."""
        front = _front_of(path)
        parts = PurePosixPath(rel).parts
        collection = parts[0][1:] if parts[0].startswith("_") and len(parts) > 1 else ""
        template = str(front.get("permalink") or "")
        if not template and collection:
            spec = (self.config.get("collections") or {}) if isinstance(self.config.get("collections"), dict) else {}
            own = spec.get(collection) if isinstance(spec, dict) else None
            template = str(own.get("permalink") or "") if isinstance(own, dict) else ""
            template = template or "/:collection/:path:output_ext"
        template = template or "/:path:output_ext"
        inner = PurePosixPath(*parts[1:]) if collection else PurePosixPath(rel)
        stem = inner.with_suffix("").as_posix()
        values = {"collection": collection, "path": stem, "name": inner.stem, "title": inner.stem,
                  "output_ext": ".html" if path.suffix.lower() in _PAGE_EXTENSIONS else path.suffix}
        url = _PLACEHOLDER.sub(lambda m: values[m[1]], template)
        return re.sub(r"/{2,}", "/", "/" + url).removesuffix("index.html") or "/"


def _front_of(path: Path) -> Mapping[str, Any]:
    try:
        text = path.read_bytes()[:65_536].decode("utf-8", "replace")
        head, _ = split_front_matter(text.replace("\r\n", "\n"))
        return load_front_matter(head) if head is not None else _EMPTY
    except (OSError, PostError):
        return _EMPTY


_LINK_TAG = re.compile(r"\{%-?\s*(post_url|link)\s+([^%]+?)\s*-?%\}")


class LinkTargets:
    """What a post's ``post_url``/``link`` tags resolve to, for its cache key: a rendered post is kept only
    while the URLs it holds are still the ones its targets have (a target renamed or re-dated changes it)."""

    def __init__(self, settings: Settings, url_of: Callable[[], PostUrl]):
        self.settings = settings
        self._url_of = url_of
        self._links: SiteLinks | None = None

    def key_part(self, src: SourcePost) -> str:
        if "{%" not in src.body:
            return ""
        found = _LINK_TAG.findall(src.body)
        if not found:
            return ""
        if self._links is None:
            self._links = SiteLinks(self.settings, self._url_of(), SiteInputs.read(self.settings).config)
        links = self._links
        parts = [f"{tag} {arg}={links.post(arg) if tag == 'post_url' else links.link(arg)}" for tag, arg in found]
        return ":" + keys.digest_of(*parts)[:20]
