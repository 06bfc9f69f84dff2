"""Jekyll permalinks (Jekyll 4's URL and UrlDrop rules) and link resolution against the site URL.

A post's URL is its own ``permalink`` (a path or a template), else the one its front-matter ``defaults``
give it, else ``collections: posts: permalink:``, else the site's ``permalink`` style (``date`` by default);
placeholders are filled from the post (``:title`` is its slug in the ``pretty`` slugify mode with case kept,
``:slug`` in the ``default`` mode, ``:categories`` lower-cased and joined by ``/``), each value is
percent-encoded except the characters a URL path keeps, and the result is sanitised as Jekyll does
(one leading ``/``, ``..`` and ``./`` removed, repeated slashes squeezed).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import PurePosixPath
from urllib.parse import quote, urljoin, urlsplit

STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
SLUGIFY_MODES = ("raw", "default", "pretty", "ascii", "latin")
_PLACEHOLDER = re.compile(r":([a-z_]+)")
_PRETTY_KEEP = frozenset("._~!$&'()+,;=@")
_PLAIN_PATH = re.compile(r"[a-zA-Z0-9./-]+")
_PATH_SAFE = "-._~!$&'()*+,;=:@/"
_SPACES = re.compile(r"\s+")
_NOT_ASCII_WORD = re.compile(r"[^A-Za-z0-9]+")


def _kept(ch: str, extra: frozenset[str]) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in "LM" or cat == "Nd" or ch in extra


def slugify(text: str, mode: str = "default", cased: bool = False) -> str:
    """Jekyll's ``Utils.slugify``: ``raw`` (white space → ``-``), ``default`` (anything but letters, marks and
    digits → ``-``), ``pretty`` (also keeps ``._~!$&'()+,;=@``), ``ascii`` (only ``A-Za-z0-9``), ``latin``
    (accents dropped first); leading and trailing hyphens removed; lower-cased unless ``cased``."""
    if mode not in SLUGIFY_MODES:
        return text if cased else text.lower()
    if mode == "latin":
        text = "".join(c if ord(c) < 128 else "?" for c in unicodedata.normalize("NFKD", text)
                       if not unicodedata.combining(c))
    if mode == "raw":
        slug = _SPACES.sub("-", text)
    elif mode == "ascii":
        slug = _NOT_ASCII_WORD.sub("-", text)
    else:
        extra = _PRETTY_KEEP if mode == "pretty" else frozenset()
        out: list[str] = []
        for ch in text:
            if _kept(ch, extra):
                out.append(ch)
            elif not out or out[-1] != "-":
                out.append("-")
        slug = "".join(out)
    slug = slug.removeprefix("-").removesuffix("-")
    return slug if cased else slug.lower()


def escape_path(value: str) -> str:
    """Jekyll's ``URL.escape_path``: percent-encoded but for what a URL path segment keeps (and ``/``)."""
    if not value or _PLAIN_PATH.fullmatch(value):
        return value
    return quote(value, safe=_PATH_SAFE)


def sanitize_url(url: str) -> str:
    """Jekyll's ``URL#sanitize_url``: one leading slash, ``..`` and ``./`` removed, slashes squeezed."""
    out = ("/" + url).replace("..", "/").replace("./", "")
    return re.sub(r"/{2,}", "/", out)


def template_of(pattern: str) -> str:
    """A permalink style name (``pretty``, ``:pretty``) as its template; a template as it is."""
    return STYLES.get(pattern.strip().lstrip(":"), pattern.strip())


@dataclass(frozen=True)
class PostRef:
    """What a post's URL is made of."""

    when: datetime  # in the site's time zone
    slug: str  # front-matter ``slug``, else the file name's
    categories: tuple[str, ...]
    source: str = ""  # the file, relative to the collections folder (``_posts/2022-01-05-x.md``)


def _path(post: PostRef, pure: PurePosixPath) -> str:
    return pure.with_suffix("").as_posix().replace("_posts", "", 1).rstrip(".")


# Jekyll's UrlDrop: each value a permalink template may use, made from the post and its file's path
_VALUES: dict[str, Callable[[PostRef, PurePosixPath], str]] = {
    "collection": lambda p, f: "posts", "path": _path, "name": lambda p, f: slugify(f.stem),
    "title": lambda p, f: slugify(p.slug, "pretty", cased=True), "slug": lambda p, f: slugify(p.slug),
    "categories": lambda p, f: "/".join(dict.fromkeys(c.lower() for c in p.categories)),
    "slugified_categories": lambda p, f: "/".join(dict.fromkeys(map(slugify, p.categories))),
    "year": lambda p, f: f"{p.when:%Y}", "month": lambda p, f: f"{p.when:%m}", "day": lambda p, f: f"{p.when:%d}",
    "hour": lambda p, f: f"{p.when:%H}", "minute": lambda p, f: f"{p.when:%M}", "second": lambda p, f: f"{p.when:%S}",
    "i_day": lambda p, f: str(p.when.day), "i_month": lambda p, f: str(p.when.month),
    "short_month": lambda p, f: f"{p.when:%b}", "long_month": lambda p, f: f"{p.when:%B}",
    "short_year": lambda p, f: f"{p.when:%y}", "w_year": lambda p, f: f"{p.when:%G}",
    "week": lambda p, f: f"{p.when:%V}", "w_day": lambda p, f: f"{p.when:%u}", "short_day": lambda p, f: f"{p.when:%a}",
    "long_day": lambda p, f: f"{p.when:%A}", "y_day": lambda p, f: f"{p.when:%j}", "output_ext": lambda p, f: ".html",
}


_FILE_NAMES = frozenset({"path", "name"})  # the values made from the post's file
_NO_FILE = PurePosixPath()


def placeholders(post: PostRef, names: Iterable[str] | None = None) -> dict[str, str]:
    """Jekyll's UrlDrop: every value a permalink template may use (or those ``names`` asks for: a post's URL
    is made for every post of a build, and its template uses a few of some thirty)."""
    wanted = _VALUES if names is None else {k: _VALUES[k] for k in names if k in _VALUES}
    # (the file's path only when the template takes it: most take none of it)
    pure = PurePosixPath(post.source or f"_posts/{post.slug}.md") if _FILE_NAMES & wanted.keys() else _NO_FILE
    return {key: make(post, pure) for key, make in wanted.items()}


@lru_cache(maxsize=64)
def _names(template: str) -> frozenset[str]:
    """The placeholders a template may use (``:month_`` is ``:month_`` or ``:month``, see :func:`fill`)."""
    found = _PLACEHOLDER.findall(template)
    return frozenset({*found, *(name.rstrip("_") for name in found)})


def fill(template: str, values: dict[str, str]) -> str:
    """Placeholders filled (``:month_`` may be ``:month`` then ``_``); an unknown one is left as written."""

    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        for key in (name, name.rstrip("_")):
            if key in values:
                return escape_path(values[key]) + name[len(key):]
        return m.group(0)

    return sanitize_url(_PLACEHOLDER.sub(one, template))


def post_path(template: str, post: PostRef) -> str:
    """The URL path (without ``baseurl``) Jekyll gives a post for a style name or template."""
    template = template_of(template)
    return fill(template, placeholders(post, _names(template)))


def permalink_path(pattern: str, *, when: datetime, categories: tuple[str, ...], title: str, slug: str) -> str:
    """The URL path of a post whose ``:title`` comes from ``title`` and ``:slug`` from ``slug``."""
    values = placeholders(PostRef(when, slug, categories))
    values["title"] = slugify(title, "pretty", cased=True)
    return fill(template_of(pattern), values)


def absolutize(url: str, base: str, site_url: str) -> str | None:
    """Resolve a relative, site-relative or protocol-relative URL; ``None`` when it cannot be."""
    url = url.strip()
    if not url:
        return None
    if url.startswith("//"):
        scheme = urlsplit(site_url).scheme or "https"
        return f"{scheme}:{url}"
    if urlsplit(url).scheme:
        return url
    if not base:
        return None
    return urljoin(base, url)
