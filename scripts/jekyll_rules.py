"""Jekyll's documented rules for posts, written out independently of digest so tests can check digest against them.

Sources: https://jekyllrb.com/docs/permalinks/, /docs/posts/, /docs/configuration/front-matter-defaults/ and
the behaviour those pages describe (Jekyll 4.x). Nothing here imports digest: the corpus facts must not be derived
from the code under test.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

# A post's file name: a date, a hyphen, the slug, an extension (the date may have 1-digit months and days).
DATE_FILENAME = re.compile(r"^(?:.+/)*?(\d{2,4}-\d{1,2}-\d{1,2})-([^/]*)(\.[^.]+)$")
FRONT_MATTER = re.compile(r"\A(?:---[ \t]*\r?\n)(.*?\r?\n)??(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
STYLES = {
    "none": "/:categories/:title:output_ext",
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
}
MARKDOWN_EXTS = {".markdown", ".mkdown", ".mkdn", ".mkd", ".md"}
PRETTY_KEEP = set("._~!$&'()+,;=@")
PATH_SAFE = "-._~!$&'()*+,;=:@/"
ISO_DATE = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2}|UTC|GMT)?(.*)$"
)
LOOSE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%Y/%m/%d")


def split_front_matter(text: str) -> tuple[str | None, str]:
    """Jekyll reads front matter only when the file starts with `---`; otherwise the whole file is content."""
    text = text.removeprefix("\ufeff")
    m = FRONT_MATTER.match(text)
    if not m:
        return None, text
    return m.group(1) or "", text[m.end():]


def site_zone(name: object) -> tzinfo:
    """Jekyll sets TZ from `timezone:`; without it the build machine's zone applies, taken here as UTC."""
    return ZoneInfo(str(name)) if name else UTC


def parse_date(raw: object, zone: tzinfo) -> tuple[datetime | None, str]:
    """Parse a front-matter or file-name date the way Ruby's Time.parse would, in the site's zone.

    Returns the aware datetime and a note ("" when the value was a clean date).
    """
    if isinstance(raw, datetime):
        value = raw if raw.tzinfo else raw.replace(tzinfo=zone)
        return value.astimezone(zone), ""
    if isinstance(raw, date):
        return datetime.combine(raw, time(), zone), ""
    text = str(raw)
    m = ISO_DATE.match(text)
    if m:
        y, mo, d, hh, mm, ss, off, rest = m.groups()
        try:
            naive = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
        except ValueError:
            return None, f"invalid date {text!r}"
        value = naive.replace(tzinfo=_offset(off) if off else zone)
        note = f"trailing text {rest.strip()!r} ignored (Time.parse is lenient)" if rest.strip() else ""
        return value.astimezone(zone), note
    for fmt in LOOSE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).replace(tzinfo=zone), f"free-form date {text!r}"
        except ValueError:
            continue
    return None, f"unparseable date {text!r}"


def _offset(text: str) -> tzinfo:
    if text in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def slugify(text: str, mode: str = "default", cased: bool = False) -> str:
    """Jekyll's Utils.slugify for the `default` and `pretty` modes (Unicode letters and marks are kept)."""
    keep_extra = PRETTY_KEEP if mode == "pretty" else set()
    out: list[str] = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in "LM" or cat == "Nd" or ch in keep_extra:
            out.append(ch)
        elif not out or out[-1] != "-":
            out.append("-")
    slug = "".join(out)
    slug = slug.removeprefix("-").removesuffix("-")
    return slug if cased else slug.lower()


def escape_path(value: str) -> str:
    """Percent-encode a placeholder value as Jekyll's URL.escape_path does (RFC 3986 path characters stay)."""
    if not value or re.fullmatch(r"[a-zA-Z0-9./-]+", value):
        return value
    return quote(value, safe=PATH_SAFE)


def sanitize_url(url: str) -> str:
    """Jekyll's URL#sanitize_url: one leading slash, `..` and `./` removed, repeated slashes squeezed."""
    result = ("/" + url).replace("..", "/").replace("./", "")
    return re.sub(r"/{2,}", "/", result)


def output_ext(ext: str) -> str:
    return ".html" if ext.lower() in MARKDOWN_EXTS or ext.lower() == ".html" else ext


def categories(path_dirs: list[str], front: dict[str, Any]) -> list[str]:
    """Folders above `_posts`, then `category` (one value) or `categories` (list, or string split on spaces)."""
    found: list[str] = list(path_dirs)
    fm = front.get("categories")
    from_fm = _plural(front, "category", "categories")
    if isinstance(fm, list):
        found += [str(c) for c in fm if c is not None]
    elif isinstance(fm, str):
        found += fm.split()
    found += from_fm
    return list(dict.fromkeys(str(c) for c in found))


def _plural(front: dict[str, Any], singular: str, plural: str) -> list[str]:
    if singular in front and front[singular] is not None:
        value = front[singular]
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    value = front.get(plural)
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    return []


def placeholders(when: datetime, slug: str, cats: list[str], ext: str, rel_in_posts: str) -> dict[str, str]:
    """The values Jekyll's UrlDrop offers to a post's permalink template."""
    stem = PurePosixPath(rel_in_posts).with_suffix("").as_posix()
    return {
        "year": when.strftime("%Y"), "month": when.strftime("%m"), "day": when.strftime("%d"),
        "hour": when.strftime("%H"), "minute": when.strftime("%M"), "second": when.strftime("%S"),
        "i_day": str(when.day), "i_month": str(when.month), "short_month": when.strftime("%b"),
        "long_month": when.strftime("%B"), "short_year": when.strftime("%y"), "y_day": when.strftime("%j"),
        "w_year": when.strftime("%G"), "week": when.strftime("%V"), "w_day": when.strftime("%u"),
        "short_day": when.strftime("%a"), "long_day": when.strftime("%A"),
        "title": slugify(slug, "pretty", cased=True), "slug": slugify(slug),
        "name": slugify(PurePosixPath(rel_in_posts).stem),
        "categories": "/".join(dict.fromkeys(c.lower() for c in cats)),
        "slugified_categories": "/".join(dict.fromkeys(slugify(c) for c in cats)),
        "output_ext": output_ext(ext), "collection": "posts", "path": "/" + stem,
    }


def render_permalink(template: str, values: dict[str, str]) -> str:
    """Fill `:name` placeholders (a trailing `_` may belong to the text), then sanitise as Jekyll does."""

    def fill(m: re.Match[str]) -> str:
        name = m.group(1)
        for key in (name, name.rstrip("_")):
            if key in values:
                return escape_path(values[key]) + name[len(key):]
        raise KeyError(f"permalink placeholder :{name} is unknown")

    return sanitize_url(re.sub(r":([a-z_]+)", fill, template))


def posts_template(config: dict[str, Any]) -> str:
    """`collections: posts: permalink:` wins over the site-wide `permalink:` style (default `date`)."""
    coll = config.get("collections")
    if isinstance(coll, dict) and isinstance(coll.get("posts"), dict) and coll["posts"].get("permalink"):
        return str(coll["posts"]["permalink"])
    style = str(config.get("permalink") or "date")
    return STYLES.get(style.lstrip(":"), style)


def defaults_for(config: dict[str, Any], rel_path: str, kind: str) -> dict[str, Any]:
    """Front-matter defaults whose scope matches (path prefix or glob, and type); more specific scopes win."""
    hits: list[tuple[int, int, dict[str, Any]]] = []
    for order, entry in enumerate(config.get("defaults") or []):
        scope = entry.get("scope") or {}
        spath = str(scope.get("path") or "").strip("/")
        stype = scope.get("type")
        if stype and stype != kind:
            continue
        if spath and not _path_in_scope(rel_path, spath):
            continue
        hits.append((len(spath) + (1 if stype else 0), order, dict(entry.get("values") or {})))
    merged: dict[str, Any] = {}
    for _, _, values in sorted(hits, key=lambda h: (h[0], h[1])):
        merged.update(values)
    return merged


def _path_in_scope(rel_path: str, scope: str) -> bool:
    if "*" in scope:
        pattern = re.escape(scope).replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
        return re.match(pattern + r"(?:/|$)", rel_path) is not None
    return rel_path == scope or rel_path.startswith(scope + "/")
