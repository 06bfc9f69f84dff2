"""A post as read from disk: its front matter, body and metadata (local date, title, sections…)."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from digest.config.settings import Settings
from digest.errors import PostError
from digest.runtime.spill import Stored, StoredValue, text_of, value_of
from digest.sources.defaults import loose_date, with_defaults
from digest.sources.discover import NAME_RE, base_of, filename_date, name_slug, tree_of, ymd
from digest.sources.frontmatter import (
    MAX_NAME_CHARS,
    MAX_NAMES,
    MAX_TITLE_CHARS,
    MAX_YEAR,
    MIN_YEAR,
    clean_line,
    decode,
    is_scalar,
    load_front_matter,
    short_repr,
    split_front_matter,
)
from digest.sources.simplefront import simple_front

DATE_RE = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?\s*(.*)$", re.S
)
_ZONE_LATER = re.compile(r"(?<![\w:])(Z|[+-]\d{2}:?\d{2})(?![\w:])")


@dataclass(frozen=True, slots=True)
class PostMeta:
    """What the index needs of a post (its day, sections, publication), without the body."""

    date: datetime  # aware, in the site's time zone
    title: str
    slug: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    published: bool
    notices: tuple[str, ...] = ()
    timed: bool = True  # the date has a time of day (False: a date alone, shown without a time)


@dataclass(frozen=True, slots=True)
class SourcePost:
    """A post as read from disk: front matter, Markdown body, and its metadata (date, sections…)."""

    path: Path  # relative to the site root
    front_matter: dict[str, Any] | StoredValue[dict[str, Any]]  # read it as ``front`` (a copy when it was kept)
    markdown: str | Stored  # the body as written: read it as ``body`` (see :mod:`digest.runtime.spill`)
    content_hash: str
    meta: PostMeta

    @property
    def body(self) -> str:
        return text_of(self.markdown)

    @property
    def front(self) -> dict[str, Any]:
        return value_of(self.front_matter)

    date = property(lambda self: self.meta.date)
    title = property(lambda self: self.meta.title)
    slug = property(lambda self: self.meta.slug)
    categories = property(lambda self: self.meta.categories)
    tags = property(lambda self: self.meta.tags)
    published = property(lambda self: self.meta.published)
    notices = property(lambda self: self.meta.notices)
    timed = property(lambda self: self.meta.timed)


def split_words(value: Any) -> tuple[str, ...]:
    """``categories``/``tags`` as a space-separated string or a list → a tuple of names.

    Only scalar items count (a nested list or mapping is ignored); each name is one clean line,
    at most ``MAX_NAME_CHARS`` long, and at most ``MAX_NAMES`` names are kept.
    """
    if value is None:
        return ()
    if isinstance(value, str):
        return _split_text(value)
    items: list[Any]
    if isinstance(value, (list, tuple)):
        items = [v for v in value if is_scalar(v)]
    elif is_scalar(value):
        items = [value]
    else:
        return ()
    return _names(items)


@lru_cache(maxsize=1024)
def _split_text(value: str) -> tuple[str, ...]:
    """A space-separated string of names (cached: a site's posts share a few)."""
    return _names(clean_line(value).split())


def _names(items: list[Any]) -> tuple[str, ...]:
    out: list[str] = []
    for v in items[:MAX_NAMES]:
        name = clean_line(str(v))[:MAX_NAME_CHARS].strip()
        if name:
            out.append(name)
    return tuple(out)


@lru_cache(maxsize=64)
def _offset(text: str) -> dt_timezone:
    """``Z``, ``+0800`` or ``+08:00`` → a fixed-offset time zone."""
    if text == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:4])
    if minutes >= 24 * 60:
        raise ValueError(f"invalid UTC offset {text!r}")
    return dt_timezone(timedelta(minutes=-minutes if text[0] == "-" else minutes))


def parse_date(value: Any, tz: ZoneInfo) -> datetime:
    """A front-matter date (YAML datetime, date or string, with or without offset) → aware datetime."""
    return read_date(value, tz)[0]


def read_date(value: Any, tz: ZoneInfo) -> tuple[datetime, bool, str | None]:
    """(aware datetime, has a time of day, a note when text was ignored) — Jekyll's reading of a date:
    ``Time.parse`` of its text, which takes the ISO date at the start and ignores what it cannot read
    (``2017-09-27 (optional)``), and reads free forms (``January 21, 2022``)."""
    if isinstance(value, datetime):
        return (value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)), True, None
    if isinstance(value, date):
        return datetime.combine(value, time(), tz), False, None
    if isinstance(value, str):
        m = DATE_RE.match(value)
        if m:
            return _iso(m, tz, value)
        loose = loose_date(value, tz) if len(value) < 100 and any(c.isdigit() for c in value) else None
        if loose is not None:
            return loose[0], loose[1], f"free-form date {short_repr(value)} read as {loose[0]:%Y-%m-%d}"
    raise ValueError(f"invalid date {value!r}")


def _iso(m: re.Match[str], tz: ZoneInfo, text: str) -> tuple[datetime, bool, str | None]:
    y, mo, d, h, mi, s, frac, off, rest = m.groups()
    note = None
    if rest.strip():
        later = _ZONE_LATER.search(rest) if off is None else None
        off = later.group(1) if later else off
        note = f"date {short_repr(text)}: text after the date ignored (as Jekyll does)"
    try:
        dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), int((frac or "0").ljust(6, "0")))
        when = dt.replace(tzinfo=tz) if off is None else dt.replace(tzinfo=_offset(off)).astimezone(tz)
    except ValueError:
        raise ValueError(f"invalid date {text!r}") from None
    return when, h is not None, note


def parse_post(rel: Path, data: bytes, settings: Settings, mtime_ns: int | None = None) -> SourcePost:
    """Parse one post's bytes (``mtime_ns``: its file's, which dates a draft without a date).
    Raises :class:`PostError` with a one-line reason."""
    if len(data) > settings.max_post_bytes:
        raise PostError(f"file is {len(data):,} bytes, over the {settings.max_post_bytes:,}-byte limit")
    text, note = decode(data)
    notices = [note] if note else []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise PostError("empty file")
    lead = text.lstrip()
    if lead is not text and lead.startswith("---") and not text.startswith("---"):
        notices.append("blank line before the front matter (Jekyll would not read it); read anyway")
    fm, body = split_front_matter(lead)
    front: dict[str, Any] | None = {} if fm is None else simple_front(fm)
    if front is None:
        front = load_front_matter(fm or "")  # (anything but simple one-line pairs)
    front, meta = front_and_meta(rel, front, settings, notices, mtime_ns)
    digest_of = hashlib.sha256(data).hexdigest()[:20]
    return SourcePost(path=rel, front_matter=front, markdown=body, content_hash=digest_of, meta=meta)


def front_and_meta(rel: Path, front: dict[str, Any], settings: Settings, notices: list[str] | None = None,
                   mtime_ns: int | None = None) -> tuple[dict[str, Any], PostMeta]:
    """The front matter over the site's ``defaults`` for this post, and the post's metadata."""
    base = base_of(settings)
    front = front_with_defaults(rel.as_posix(), front, settings, base)
    return front, post_meta(rel, front, settings, notices, mtime_ns, base=base)


def front_with_defaults(posix: str, front: dict[str, Any], settings: Settings, base: str) -> dict[str, Any]:
    """The front matter over the ``defaults`` that apply to the post at ``posix`` (``base``: the posts base)."""
    if not settings.defaults:
        return front
    inside = posix[len(base) + 1:] if base and posix.startswith(base + "/") else posix
    return with_defaults(front, settings.defaults, inside, settings.collections_dir)


def index_meta(posix: str, front: dict[str, Any], settings: Settings, base: str,
               mtime_ns: int | None = None) -> tuple[datetime, tuple[str, ...], tuple[str, ...], bool]:
    """(date, categories, tags, published): what the index keeps of a post — :func:`post_meta` without the
    title, slug and notes, on strings (it runs for every file of a site when the index is made)."""
    folders, kind = tree_of(posix, base)
    name = posix[posix.rfind("/") + 1:]
    when, _ = _post_date(name, front, settings, [], mtime_ns if kind == "drafts" else None)
    return when, _categories(folders, front), _tags(front), _published(front)


def _categories(folders: tuple[str, ...], front: dict[str, Any]) -> tuple[str, ...]:
    """Jekyll's: the folders between the posts base and ``_posts``, then ``category``/``categories``."""
    cats = split_words(front.get("categories")) + split_words(front.get("category"))
    return tuple(dict.fromkeys(folders + cats))


def _tags(front: dict[str, Any]) -> tuple[str, ...]:
    return split_words(front.get("tags")) or split_words(front.get("tag"))


def _published(front: dict[str, Any]) -> bool:
    return front.get("published", True) not in (False, "false", "no")


def post_meta(rel: Path, front: dict[str, Any], settings: Settings, notices: list[str] | None = None,
              mtime_ns: int | None = None, *, base: str | None = None) -> PostMeta:
    """Date (site time zone), title, slug, categories, tags, published — from front matter and file name.

    Categories as Jekyll makes them: the folders between the posts base and ``_posts``, then the front
    matter's ``category``/``categories``."""
    notices = list(notices or [])
    folders, kind = tree_of(rel.as_posix(), base_of(settings) if base is None else base)
    when, timed = _post_date(rel.name, front, settings, notices, mtime_ns if kind == "drafts" else None)
    if kind == "posts" and filename_date(rel.name) is None:
        notices.append("no YYYY-MM-DD- date in the file name: Jekyll would not publish it (read anyway)")
    raw_slug = front.get("slug")
    named = name_slug(rel.name) if kind != "drafts" else None
    slug = clean_line(str(raw_slug if is_scalar(raw_slug) and raw_slug != "" else (named or rel.stem)))
    slug = slug.rstrip(".")[:MAX_NAME_CHARS * 2] or "post"
    title = _post_title(front.get("title"), notices) or slug
    return PostMeta(when, title, slug, _categories(folders, front), _tags(front), _published(front), tuple(notices),
                    timed)


def _post_date(name: str, front: dict[str, Any], settings: Settings, notices: list[str],
               mtime_ns: int | None) -> tuple[datetime, bool]:
    """The front-matter date (it wins, as in Jekyll), else the file ``name``'s (a draft's: its file's time);
    a bad one is noted, never guessed."""
    tz = settings.tz
    name_date = filename_date(name)
    raw_date = front.get("date")
    if raw_date is not None and raw_date != "":
        try:
            when, timed, note = read_date(raw_date, tz)
            if not MIN_YEAR <= when.year <= MAX_YEAR:  # a typo, garbage, an overflow a day later (and ZIP dates)
                raise ValueError(raw_date)
            if note:
                notices.append(note)
            return when, timed
        except (ValueError, OverflowError, TypeError):
            if name_date is None and mtime_ns is None:
                raise PostError(f"invalid date {short_repr(raw_date)} and no date in the file name") from None
            fallback = name_date or datetime.fromtimestamp((mtime_ns or 0) / 1e9, tz).date()
            notices.append(f"invalid date {short_repr(raw_date)}; used the file-name date {fallback}")
            return datetime.combine(fallback, time(), tz), False
    if name_date is None:
        if mtime_ns is not None:  # a draft: Jekyll dates it by its file's modification time
            return datetime.fromtimestamp(mtime_ns / 1e9, tz).replace(microsecond=0), True
        m = NAME_RE.match(name)
        if m and filename_date(name) is None and ymd(m[1], m[2], m[3]) is not None:
            raise PostError(f"the file-name date {m[1]}-{m[2]}-{m[3]} is outside the years {MIN_YEAR}–{MAX_YEAR} "
                            "and there is no 'date' in the front matter")
        raise PostError("no date: neither a 'date' in the front matter nor a YYYY-MM-DD- file name")
    if "date" in front:
        notices.append(f"empty date; used the file-name date {name_date}")
    return datetime.combine(name_date, time(), tz), False


def _post_title(raw: Any, notices: list[str]) -> str:
    """The title as one clean line of at most ``MAX_TITLE_CHARS`` ("": none, use the file name)."""
    if raw is None or is_scalar(raw):
        title = clean_line("" if raw is None else str(raw))
    elif isinstance(raw, (list, tuple)) and all(is_scalar(v) for v in raw):
        title = clean_line(" ".join(str(v) for v in raw))
        notices.append("title is a list; joined its items")
    else:
        title = ""
        notices.append(f"title is {short_repr(raw)}, not text")
    if len(title) > MAX_TITLE_CHARS:
        notices.append(f"title is {len(title):,} characters; cut to {MAX_TITLE_CHARS}")
        title = title[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    if not title:
        notices.append("empty title; used the file name")
    return title
