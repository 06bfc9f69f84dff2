"""Find and read posts: file-name dates narrow what is read; front matter via python-frontmatter."""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import yaml
from frontmatter.default_handlers import YAMLHandler

from digest.runtime.cache import PostCache
from digest.sources.discover import (
    NAME_RE, filename_date, folder_categories, list_post_files, name_filter, stat_entries,
)
from digest.errors import PostError, Problem
from digest.config.settings import Settings

DATE_RE = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?\s*$"
)


class _FastYAML(YAMLHandler):
    """python-frontmatter's YAML handler, with libyaml's safe loader when it is there."""

    def load(self, fm: str, **kwargs: object) -> Any:
        kwargs.setdefault("Loader", getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return super().load(fm, **kwargs)


_HANDLER = _FastYAML()


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


@dataclass(frozen=True, slots=True)
class SourcePost:
    """A post as read from disk: front matter, Markdown body, and its metadata (date, sections…)."""

    path: Path  # relative to the site root
    front: dict[str, Any]
    body: str
    content_hash: str
    meta: PostMeta

    date = property(lambda self: self.meta.date)
    title = property(lambda self: self.meta.title)
    slug = property(lambda self: self.meta.slug)
    categories = property(lambda self: self.meta.categories)
    tags = property(lambda self: self.meta.tags)
    published = property(lambda self: self.meta.published)
    notices = property(lambda self: self.meta.notices)


@dataclass
class Collected:
    posts: list[SourcePost] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def split_words(value: Any) -> tuple[str, ...]:
    """``categories``/``tags`` as a space-separated string or a list → a tuple of names.

    Only scalar items count (a nested list or mapping is ignored); each name is one clean line,
    at most ``MAX_NAME_CHARS`` long, and at most ``MAX_NAMES`` names are kept.
    """
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[Any] = clean_line(value).split()
    elif isinstance(value, (list, tuple)):
        items = [v for v in value if _is_scalar(v)]
    elif _is_scalar(value):
        items = [value]
    else:
        return ()
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
        return dt_timezone.utc
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:4])
    if minutes >= 24 * 60:
        raise ValueError(f"invalid UTC offset {text!r}")
    return dt_timezone(timedelta(minutes=-minutes if text[0] == "-" else minutes))


def parse_date(value: Any, tz: ZoneInfo) -> datetime:
    """A front-matter date (YAML datetime, date or string, with or without offset) → aware datetime."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tz)
    if isinstance(value, str):
        m = DATE_RE.match(value)
        if m:
            y, mo, d, h, mi, s, frac, off = m.groups()
            try:
                dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
                              int((frac or "0").ljust(6, "0")))
                if off is None:
                    return dt.replace(tzinfo=tz)
                return dt.replace(tzinfo=_offset(off)).astimezone(tz)
            except ValueError:
                pass
    raise ValueError(f"invalid date {value!r}")


# Limits on what one post may hold (docs/safety.md). The file size cap is ``max_post_bytes``.
MAX_FRONT_VALUES = 10_000  # values in the front matter, YAML aliases expanded ("billion laughs")
MAX_FRONT_DEPTH = 50  # lists and mappings inside each other
MAX_TITLE_CHARS = 500
MAX_NAME_CHARS = 100  # one category, tag or slug
MAX_NAMES = 50  # categories or tags per post
MAX_YEAR = 2099  # a front-matter date after this year is treated as invalid
# Characters XML 1.0 forbids (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF), and DEL:
# removed from every text read, so that no output (EPUB XHTML, PDF, email) chokes on them.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
# In one-line fields (title, categories, slug, outlet…) also line breaks and tabs, C1 controls, and the
# bidirectional embedding/override/isolate controls, which could reorder the text around a title.
_LINE_BAD = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                       "\ud800-\udfff\ufffe\uffff]")
_BINARY_BYTES = re.compile(b"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def clean_text(text: str) -> str:
    """Text with the characters XML 1.0 cannot hold removed (tab, line feed and CR kept)."""
    return _XML_BAD.sub("", text)


def clean_line(text: str) -> str:
    """One line of plain text: controls, line breaks and bidi overrides become spaces; spaces collapsed."""
    return " ".join(_LINE_BAD.sub(" ", text).split())


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, date)) and not isinstance(value, bool)


def short_repr(value: Any, limit: int = 60) -> str:
    """A bounded, one-line ``repr`` for messages (never expands a huge or recursive value)."""
    if isinstance(value, (list, tuple, dict, set)):
        text = f"a {type(value).__name__}"
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = repr(value) if len(str(value)) <= limit * 4 else repr(str(value)[: limit * 4])
    text = clean_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clean_tree(value: Any, budget: list[int], depth: int = 0) -> Any:
    """A copy of a YAML value with text cleaned, counting values (aliases expanded) against ``budget``."""
    budget[0] -= 1
    if budget[0] < 0:
        raise PostError(f"front matter too large: over {MAX_FRONT_VALUES:,} values (YAML aliases?)")
    if depth > MAX_FRONT_DEPTH:
        raise PostError(f"front matter nested deeper than {MAX_FRONT_DEPTH} levels (a recursive YAML alias?)")
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {(_clean_tree(k, budget, depth + 1) if isinstance(k, str) else k): _clean_tree(v, budget, depth + 1)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_tree(v, budget, depth + 1) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return clean_text(bytes(value[:4096]).decode("latin-1"))
    return value


def load_front_matter(fm: str) -> dict[str, Any]:
    """YAML front matter text → a dict with str keys and cleaned text; PostError with the reason."""
    try:
        data = _HANDLER.load(fm)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise PostError(f"invalid YAML front matter{where}: {clean_line(str(problem))[:200]}") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as e:  # a constructor: !!int x, 2022-02-30
        raise PostError(f"invalid YAML front matter: {clean_line(str(e))[:200]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PostError(f"front matter is not a mapping of keys to values (it is a {type(data).__name__})")
    data = _clean_tree(data, [MAX_FRONT_VALUES])
    return {clean_line(str(k)): v for k, v in data.items()}


def split_front_matter(text: str) -> tuple[str | None, str]:
    """(front matter text or None, body) of a post whose text starts at its first line."""
    if not _HANDLER.FM_BOUNDARY.match(text):
        return None, text.strip()  # no '---' first line: no front matter (Jekyll would copy the file as is)
    parts = _HANDLER.FM_BOUNDARY.split(text, 2)
    if len(parts) < 3 or parts[0].strip():
        raise PostError("front matter is not closed (no second '---' line)")
    return parts[1], parts[2].strip()


def decode(data: bytes) -> tuple[str, str | None]:
    """Bytes → text. UTF-8 (BOM allowed), else GB18030 (noted); NUL or control bytes mean a binary file.

    Characters XML cannot hold (other control characters) are removed from the text.
    """
    head = data[:8192]
    if b"\x00" in head or len(_BINARY_BYTES.findall(head)) > max(8, len(head) // 100):
        raise PostError("binary file, not a text post")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return clean_text(data.decode("utf-8")), None
    except UnicodeDecodeError as e:
        utf8_error = e
    try:
        return clean_text(data.decode("gb18030")), "decoded as GB18030 (not UTF-8)"
    except UnicodeDecodeError:
        raise PostError(f"not valid UTF-8 (byte {utf8_error.start}) nor GB18030") from None


def parse_post(rel: Path, data: bytes, settings: Settings) -> SourcePost:
    """Parse one post's bytes. Raises :class:`PostError` with a one-line reason."""
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
    front = load_front_matter(fm) if fm is not None else {}
    meta = post_meta(rel, front, settings, notices)
    return SourcePost(path=rel, front=front, body=body, content_hash=hashlib.sha256(data).hexdigest()[:20], meta=meta)


def post_meta(rel: Path, front: dict[str, Any], settings: Settings, notices: list[str] | None = None) -> PostMeta:
    """Date (site time zone), title, slug, categories, tags, published — from front matter and file name."""
    notices = list(notices or [])
    tz = settings.tz
    name_date = filename_date(rel.name)
    raw_date = front.get("date")
    if raw_date is not None and raw_date != "":
        try:
            when = parse_date(raw_date, tz)
            if when.year > MAX_YEAR:  # a typo or garbage; also past what ZIP (EPUB) timestamps can hold
                raise ValueError(raw_date)
        except (ValueError, OverflowError, TypeError):
            if name_date is None:
                raise PostError(f"invalid date {short_repr(raw_date)} and no date in the file name") from None
            notices.append(f"invalid date {short_repr(raw_date)}; used the file-name date {name_date}")
            when = datetime.combine(name_date, time(), tz)
    elif name_date is not None:
        if "date" in front:
            notices.append(f"empty date; used the file-name date {name_date}")
        when = datetime.combine(name_date, time(), tz)
    else:
        raise PostError("no date: neither a 'date' in the front matter nor a YYYY-MM-DD- file name")
    m = NAME_RE.match(rel.name)
    raw_slug = front.get("slug")
    slug = clean_line(str(raw_slug if _is_scalar(raw_slug) and raw_slug != "" else (m[4] if m else rel.stem)))
    slug = slug[:MAX_NAME_CHARS * 2] or "post"
    raw_title = front.get("title")
    if raw_title is None or _is_scalar(raw_title):
        title = clean_line("" if raw_title is None else str(raw_title))
    elif isinstance(raw_title, (list, tuple)) and all(_is_scalar(v) for v in raw_title):
        title = clean_line(" ".join(str(v) for v in raw_title))
        notices.append("title is a list; joined its items")
    else:
        title = ""
        notices.append(f"title is {short_repr(raw_title)}, not text")
    if len(title) > MAX_TITLE_CHARS:
        notices.append(f"title is {len(title):,} characters; cut to {MAX_TITLE_CHARS}")
        title = title[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    if not title:
        notices.append("empty title; used the file name")
        title = slug
    cats = split_words(front.get("categories")) or split_words(front.get("category"))
    cats = tuple(dict.fromkeys(folder_categories(rel) + cats))
    tags = split_words(front.get("tags")) or split_words(front.get("tag"))
    published = front.get("published", True) not in (False, "false", "no")
    return PostMeta(when, title, slug, cats, tags, published, tuple(notices))


def _read(root: Path, rel: Path, settings: Settings) -> SourcePost:
    try:
        with open(root / rel, "rb") as f:
            data = f.read(settings.max_post_bytes + 1)
    except OSError as e:
        raise PostError(f"cannot read: {e.strerror or e}") from None
    return parse_post(rel, data, settings)


PARALLEL_FROM = 64  # files to read that are worth starting worker processes for


def _read_share(settings: Settings, keys: list[str]) -> list[SourcePost | str]:
    """Each file read and parsed; a bad one gives its one-line problem instead."""
    out: list[SourcePost | str] = []
    for key in keys:
        try:
            out.append(_read(settings.site_root, Path(key), settings))
        except PostError as e:
            out.append(e.message)
    return out


def read_posts(settings: Settings, files: Iterable[Path], cache: PostCache) -> Collected:
    """Read (or take from the cache) each file; a bad file becomes a Problem."""
    root = settings.site_root
    out = Collected()
    stats: list[tuple[str, int, int]] = []
    for rel in files:
        try:
            st = os.stat(root / rel)
        except OSError as e:
            out.problems.append(Problem(rel, f"cannot read: {e.strerror or e}"))
            continue
        stats.append((rel.as_posix(), st.st_mtime_ns, st.st_size))
    cached = cache.get_many(stats)
    misses = [key for key, _, _ in stats if key not in cached]
    if misses:  # many (a new day, an empty cache): read on every free core
        from digest.runtime.parallel import map_shares

        cached.update(zip(misses, map_shares(partial(_read_share, settings), misses, at_least=PARALLEL_FROM)))
        done = set(misses)
        for key, mtime, size in stats:
            if key in done:
                cache.put(key, mtime, size, cached[key])
    for key, _, _ in stats:
        rel = Path(key)
        hit = cached[key]
        if isinstance(hit, str):
            out.problems.append(Problem(rel, hit))
            continue
        out.posts.append(hit)
        out.problems.extend(Problem(rel, n, skipped=False) for n in hit.notices)
    return out


def collect(
    settings: Settings,
    start: date,
    end: date,
    *,
    now: datetime | None = None,
    use_cache: bool = True,
    files: Iterable[str] | None = None,
) -> Collected:
    """The posts whose local date (site time zone) is in [start, end], with the problems met.

    File-name dates pick the candidates (a day either side, for time-zone spill-over); the cached
    index tells which candidates really fall in the range; only those are read in full.
    """
    from digest.sources.index import scan

    wanted_name = name_filter(start - timedelta(days=1), end + timedelta(days=1))  # time-zone spill-over
    listing = list_post_files(settings) if files is None else files  # a caller may pass its own listing
    candidates, missing = stat_entries(settings.site_root, sorted(filter(wanted_name, listing)))
    metas = scan(settings, candidates, use_cache=use_cache)
    wanted = []
    for path, _, _ in candidates:
        meta = metas[path]
        if isinstance(meta, str):
            d = filename_date(path.rsplit("/", 1)[-1])
            keep = d is None or start <= d <= end  # a bad file is reported on the day its name says
        else:
            keep = start <= meta.day <= end
        if keep:
            wanted.append(Path(path))
    cache = PostCache(settings.site_root, enabled=use_cache, variant=settings.timezone)
    try:
        got = read_posts(settings, wanted, cache)
    finally:
        cache.close()
    got.problems.extend(missing)
    now = now or datetime.now(settings.tz)
    kept = []
    for p in got.posts:
        if not (start <= p.date.date() <= end):
            continue
        if not p.published and not settings.include_unpublished:
            continue
        if p.date > now and not settings.include_future:
            continue
        kept.append(p)
    kept.sort(key=lambda p: (p.date, p.path.as_posix()))
    in_range = {p.path for p in got.posts if start <= p.date.date() <= end}

    def ours(pr: Problem) -> bool:
        if not pr.skipped:
            return pr.path in in_range
        d = filename_date(pr.path.name)
        return d is None or start <= d <= end

    problems = [pr for pr in got.problems if ours(pr)]
    return Collected(kept, problems)
