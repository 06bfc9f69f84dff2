"""The four real Jekyll sites of tests/sites/jekyll, read as a test needs them: each
post's front matter and body, and resolvers built from the file names and each site's
permalink (enough of Jekyll's permalink rules for these four sites)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from digest.jekyll.liquid.site import JekyllSite, link_resolver, load_site_data, post_resolver

CORPUS = Path(__file__).parent / "sites" / "jekyll"
# site folder -> (site root inside it, config file inside it)
SITES = {
    "text-theme": (".", "docs/_config.yml"),
    "made-mistakes": ("src", "_config.yml"),
    "18f": (".", "_config.yml"),
    "cfap": (".", "_config.yml"),
}
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.DOTALL)
_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})-(.*)")
_STYLES = {"date": "/:categories/:year/:month/:day/:title:output_ext",
           "pretty": "/:categories/:year/:month/:day/:title/"}


@dataclass(frozen=True)
class Post:
    path: str  # relative to the site root
    front: dict[str, Any]
    body: str
    first_line: int


def read_post(root: Path, file: Path) -> Post:
    text = file.read_text(encoding="utf-8")
    match = _FRONT.match(text)
    front = (yaml.safe_load(match.group(1)) or {}) if match else {}
    body = text[match.end():] if match else text
    first = text[:match.end()].count("\n") + 1 if match else 1
    return Post(file.relative_to(root).as_posix(), front, body, first)


def _categories(front: dict[str, Any]) -> list[str]:
    value = front.get("categories", front.get("category", []))
    return value.split() if isinstance(value, str) else [str(v) for v in value or []]


def post_url(permalink: str, post: Post) -> str:
    stem = Path(post.path).stem
    found = _NAME.match(stem)
    if found is None:
        raise ValueError(f"not a post name: {post.path}")
    year, month, day, slug = found.groups()
    pattern = _STYLES.get(permalink, permalink)
    for key, value in {":categories": "/".join(_categories(post.front)), ":year": year, ":month": month,
                       ":day": day, ":title": str(post.front.get("slug") or slug), ":output_ext": ".html"}.items():
        pattern = pattern.replace(key, value)
    return re.sub(r"/+", "/", pattern)


@dataclass(frozen=True)
class Site:
    name: str
    root: Path
    config: dict[str, Any]
    posts: tuple[Post, ...]
    jekyll: JekyllSite


def _permalink(config: dict[str, Any]) -> str:
    for default in config.get("defaults") or []:
        scope = default.get("scope") or {}
        if scope.get("type") == "posts" and "permalink" in (default.get("values") or {}):
            return str(default["values"]["permalink"])
    return str(config.get("permalink") or "date")


def load(name: str) -> Site:
    folder = CORPUS / name
    root_rel, config_rel = SITES[name]
    root = (folder / root_rel).resolve()
    config = yaml.safe_load((folder / config_rel).read_text(encoding="utf-8")) or {}
    posts = tuple(read_post(root, file) for file in sorted(root.rglob("*.md")) if "_posts" in file.parts)
    permalink = _permalink(config)
    post_urls = {post.path: post_url(permalink, post) for post in posts}
    files = dict(post_urls)
    for file in sorted(root.rglob("*.md")):
        rel = file.relative_to(root).as_posix()
        collection = rel.split("/", 1)[0]
        if collection.startswith("_") and collection != "_posts" and "_includes" not in rel:
            files[rel] = f"/{collection[1:]}/{Path(rel).stem}/"  # /:collection/:path/
    data = load_site_data(root, config)
    site = JekyllSite.from_config(root, config, resolve_post=post_resolver(post_urls),
                                  resolve_link=link_resolver(files), data=data.data,
                                  time=datetime(2024, 1, 1, 12, 0))
    return Site(name, root, config, posts, site)


def page_of(site: Site, post: Post) -> dict[str, Any]:
    return {**post.front, "path": post.path, "url": site.jekyll.resolve_post(Path(post.path).stem) or ""}


def all_posts() -> Iterator[tuple[Site, Post]]:
    for name in SITES:
        site = load(name)
        for post in site.posts:
            yield site, post
