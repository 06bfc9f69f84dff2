"""Derive, from the files alone, the facts a test may check about each stored Jekyll site.

Usage:
    python scripts/corpus_facts.py [CORPUS_DIR ...] [--out FILE] [--as-of YYYY-MM-DD] [--features]

CORPUS_DIR holds one folder per site (default: tests/sites/jekyll). The output (JSON, sorted keys) lists, per site,
the posts Jekyll would publish and, per post, its date, URL, categories, maths, code languages, local images
(resolved to a file of the site) and `{% post_url %}`/`{% link %}` targets. `--features` prints the grep counts
the README's feature table is made from instead.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jekyll_rules as jr
import post_scan as ps


@dataclass(frozen=True)
class Layout:
    """Where a site's config and Jekyll source live inside its folder (paths as in the source repository)."""

    config: str
    source: str
    note: str = ""


LAYOUTS = {
    "text-theme": Layout("docs/_config.yml", ".", "built from the repository root with --config docs/_config.yml"),
    "made-mistakes": Layout("_config.yml", "src", "config says source: .tmp/src, a copy of src/ made by gulp"),
    "polyglot": Layout("site/_config.yml", "site", "jekyll-polyglot writes language L under /L/ (default_lang at /)"),
    "jekyll-docs": Layout("docs/_config.yml", "docs", "the jekyllrb.com site, built from docs/"),
}


@dataclass(frozen=True)
class Site:
    name: str
    folder: Path
    layout: Layout
    config: dict[str, Any]

    @property
    def source(self) -> Path:
        return (self.folder / self.layout.source).resolve()

    @property
    def posts_base(self) -> Path:
        return (self.source / str(self.config.get("collections_dir") or "")).resolve()

    @property
    def zone(self) -> Any:
        return jr.site_zone(self.config.get("timezone"))

    @property
    def future(self) -> bool:
        coll = self.config.get("collections")
        posts = coll.get("posts") if isinstance(coll, dict) else None
        return bool(self.config.get("future")) or bool(isinstance(posts, dict) and posts.get("future"))


def load_site(folder: Path) -> Site:
    layout = LAYOUTS.get(folder.name, Layout("_config.yml", "."))
    config = yaml.safe_load((folder / layout.config).read_text(encoding="utf-8")) or {}
    return Site(folder.name, folder, layout, config)


@dataclass(frozen=True)
class PostFile:
    path: Path
    rel_in_posts: str  # the part after `_posts/`
    dirs_above: tuple[str, ...]  # folders between the posts base and `_posts` (these are categories)


def find_posts(site: Site) -> list[PostFile]:
    """Files in any `_posts` folder whose name matches Jekyll's date pattern (hidden and `_` folders skipped)."""
    found = []
    for path in sorted(site.posts_base.rglob("*")):
        parts = path.relative_to(site.posts_base).parts
        if not path.is_file() or "_posts" not in parts:
            continue
        cut = parts.index("_posts")
        above, inside = parts[:cut], parts[cut + 1:]
        if any(p.startswith(("_", ".")) for p in above) or any(p.startswith((".", "_", "#")) for p in inside):
            continue
        rel = "/".join(inside)
        if jr.DATE_FILENAME.match(rel) and not rel.endswith("~"):
            found.append(PostFile(path, rel, tuple(above)))
    return found


def front_matter(text: str) -> tuple[dict[str, Any], str, str]:
    """The front matter as data, the raw `date:` text (so Ruby's parsing can be mimicked) and the body."""
    head, body = jr.split_front_matter(text)
    if head is None:
        return {}, "", body
    data = yaml.safe_load(head) or {}
    raw = yaml.load(head, Loader=yaml.BaseLoader) or {}
    return (data if isinstance(data, dict) else {}), str(raw.get("date", "")) if isinstance(raw, dict) else "", body


def post_date(site: Site, pf: PostFile, raw_date: str) -> tuple[datetime | None, str, str]:
    """Front-matter `date` wins over the file name's date (Document#modify_date)."""
    m = jr.DATE_FILENAME.match(pf.rel_in_posts)
    assert m is not None
    if raw_date:
        when, note = jr.parse_date(raw_date, site.zone)
        if when is not None:
            return when, "front matter", note
    when, note = jr.parse_date(m.group(1), site.zone)
    return when, "file name", note


def post_url(site: Site, pf: PostFile, front: dict[str, Any], when: datetime) -> tuple[str, str]:
    m = jr.DATE_FILENAME.match(pf.rel_in_posts)
    assert m is not None
    slug = str(front.get("slug") or m.group(2)).rstrip(".")
    cats = jr.categories(list(pf.dirs_above), front)
    values = jr.placeholders(when, slug, cats, m.group(3), pf.rel_in_posts)
    if front.get("permalink"):
        return jr.render_permalink(str(front["permalink"]), values), "front matter"
    return jr.render_permalink(jr.posts_template(site.config), values), "collection or site style"


def rel_site(site: Site, path: Path) -> str:
    return path.resolve().relative_to(site.folder.resolve()).as_posix()


def resolve_image(site: Site, page_url: str, ref: ps.ImageRef, front: dict[str, Any]) -> dict[str, Any] | None:
    """A local image reference as a file of the site (None for remote or data: URLs)."""
    url = ref.ref.strip()
    parts = urlsplit(url)
    host = urlsplit(str(site.config.get("url") or "")).netloc
    if parts.scheme in ("data", "mailto") or (parts.netloc and parts.netloc != host):
        return None
    path = unquote(parts.path)
    if not path or "{{" in path or "{%" in path:
        return {"ref": url, "via": ref.via, "file": None, "exists": False}
    prefix = front.get("img_path") or front.get("media_subpath")
    if prefix and not path.startswith("/") and ref.via != "include":
        path = str(prefix).rstrip("/") + "/" + path
    elif ref.via == "include" and not path.startswith("/"):
        path = "/" + path
    resolved = urljoin(page_url, path) if not path.startswith("/") else path
    target = site.source / resolved.lstrip("/")
    exists = target.is_file()
    return {"ref": url, "via": ref.via, "file": rel_site(site, target) if exists else resolved, "exists": exists}


def scan_post(site: Site, pf: PostFile, as_of: datetime) -> dict[str, Any]:
    text = pf.path.read_text(encoding="utf-8")
    own, raw_date, body = front_matter(text)
    rel_source = pf.path.resolve().relative_to(site.posts_base).as_posix()
    front = {**jr.defaults_for(site.config, rel_source, "posts"), **own}
    when, date_from, date_note = post_date(site, pf, raw_date)
    assert when is not None, f"{pf.path}: no date"
    url, url_from = post_url(site, pf, front, when)
    if "permalink" in own:
        url_from = "front matter"
    elif "permalink" in front:
        url_from = "front-matter defaults"
    split = ps.split_liquid(body)
    blocks = ps.code_blocks(body, split.live)
    prose_live = ps.code_blocks(split.live, split.live).prose
    maths = ps.maths(blocks.prose)
    images = [resolve_image(site, url, r, front) for r in ps.image_refs(prose_live)]
    published, why = publish_state(site, front, when, as_of)
    return {
        "path": rel_site(site, pf.path), "title": front.get("title"), "lang": front.get("lang"),
        "date": when.isoformat(), "date_from": date_from, "date_note": date_note or None,
        "filename_date": jr.DATE_FILENAME.match(pf.rel_in_posts).group(1),  # type: ignore[union-attr]
        "categories": jr.categories(list(pf.dirs_above), front), "url": url, "url_from": url_from,
        "published": published, "not_published_because": why,
        "maths": {"display": maths.display, "inline": maths.inline, "paren_delimiters": maths.paren},
        "code_languages": dict(sorted(Counter(blocks.languages).items())), "plain_fences": blocks.plain_fences,
        "local_images": [i for i in images if i is not None],
        "remote_images": sum(1 for i in images if i is None),
        "links": [{"tag": t, "arg": a} for t, a in ps.link_tags(split.live)],
        "includes": sorted({f for f, _ in ps.includes(split.live)}),
    }


def publish_state(site: Site, front: dict[str, Any], when: datetime, as_of: datetime) -> tuple[bool, str | None]:
    """Publisher#publish?: `published: false` hides a post; so does a future date unless `future: true`."""
    if front.get("published", True) is False:
        return False, "published: false"
    if not site.future and when > as_of:
        return False, f"future date (after {as_of.date().isoformat()}, future: false)"
    return True, None


def resolve_links(site: Site, posts: list[dict[str, Any]]) -> None:
    """Point each post_url/link at the stored file it names, with that file's URL."""
    by_path = {p["path"]: p for p in posts}
    for post in posts:
        for link in post["links"]:
            target = find_target(site, by_path, link["tag"], link["arg"])
            link["target"] = target
            link["url"] = by_path[target]["url"] if target in by_path else doc_url(site, target)


def find_target(site: Site, by_path: dict[str, Any], tag: str, arg: str) -> str | None:
    if tag == "link":
        path = (site.source / arg).resolve()
        return rel_site(site, path) if path.is_file() else None
    want = arg.strip().lstrip("/")
    for name in by_path:
        stem = str(PurePosixPath(name.split("_posts/", 1)[-1]).with_suffix(""))
        if stem == want or ("/" not in want and PurePosixPath(stem).name == want):
            return name
    return None


def doc_url(site: Site, target: str | None) -> str | None:
    """URL of a non-post collection document (`_label/…`), from the collection's permalink or the site style."""
    if target is None:
        return None
    rel = (site.folder / target).resolve().relative_to(site.source).as_posix()
    label = rel.split("/", 1)[0].lstrip("_")
    colls = site.config.get("collections") or {}
    meta = colls.get(label) if isinstance(colls, dict) else None
    style = str(site.config.get("permalink") or "date")
    suffix = "/" if style == "pretty" or style.endswith("/") else ""
    suffix = ":output_ext" if style in ("date", "ordinal", "none") or style.endswith(":output_ext") else suffix
    template = (meta or {}).get("permalink") or "/:collection/:path" + suffix
    inner = PurePosixPath(rel.split("/", 1)[1])
    values = {"collection": label, "path": inner.with_suffix("").as_posix(), "output_ext": jr.output_ext(inner.suffix),
              "name": jr.slugify(inner.stem), "title": jr.slugify(inner.stem, "pretty", cased=True)}
    return jr.render_permalink(str(template), values)


def site_facts(folder: Path, as_of: datetime) -> dict[str, Any]:
    site = load_site(folder)
    posts = [scan_post(site, pf, as_of) for pf in find_posts(site)]
    resolve_links(site, posts)
    return {
        "layout": {"config": site.layout.config, "source": site.layout.source,
                   "collections_dir": site.config.get("collections_dir"), "note": site.layout.note or None},
        "timezone": site.config.get("timezone"), "baseurl": site.config.get("baseurl") or "",
        "url": site.config.get("url"), "future": site.future,
        "posts_permalink": jr.posts_template(site.config),
        "posts_stored": len(posts), "posts_published": sum(1 for p in posts if p["published"]),
        "posts_with_maths": sorted(p["path"] for p in posts if p["maths"]["display"] + p["maths"]["inline"]),
        "posts": posts,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="*", type=Path, default=[Path("tests/sites/jekyll")])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--as-of", default=date.today().isoformat(), help="build date for the future-post rule")
    parser.add_argument("--features", action="store_true", help="print the README's feature counts instead")
    args = parser.parse_args(argv)
    as_of = datetime.fromisoformat(args.as_of).replace(tzinfo=UTC)
    folders = sorted(f for c in args.corpus for f in c.iterdir() if f.is_dir())
    if args.features:
        import corpus_features

        result: dict[str, Any] = {f.name: corpus_features.count(load_site(f), find_posts(load_site(f)))
                                  for f in folders}
    else:
        result = {"as_of": as_of.date().isoformat(), "sites": {f.name: site_facts(f, as_of) for f in folders}}
    text = json.dumps(result, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
