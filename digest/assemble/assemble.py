"""Group collected posts into one :class:`Digest`: ids, de-duplication, sections and order."""
from __future__ import annotations

import hashlib
import os
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timezone
from functools import partial
from pathlib import Path

from digest import __version__
from digest.runtime.cache import PostCache
from digest.sources.collect import Collected, SourcePost
from digest.errors import PostError, Problem
from digest.model import Digest, Post, Section
from digest.config.settings import Settings

_SAFE = re.compile(r"[^A-Za-z0-9_-]+")
_NORM = re.compile(r"[\s\u3000，。、；：！？,.;:!?“”\"'‘’（）()\[\]【】《》<>|｜-]+")


def unique_ids(posts: list[SourcePost]) -> list[str]:
    """A readable id per post, unique in the digest, valid as an XML id and a file name."""
    seen: Counter[str] = Counter()
    out = []
    for p in posts:
        base = _SAFE.sub("-", p.slug).strip("-")[:48] or p.content_hash[:10]
        base = f"a-{base}"
        seen[base] += 1
        out.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return out


def _fingerprint(post: Post) -> str:
    norm = _NORM.sub("", f"{post.title}\n{post.text}").lower()
    return hashlib.sha1(norm.encode()).hexdigest()


def dedupe(posts: list[Post]) -> tuple[list[Post], int]:
    """Keep one of each article (same original URL, or same normalised title and body): the newest."""
    by_key: dict[str, Post] = {}
    alias: dict[str, str] = {}
    for p in sorted(posts, key=lambda p: (p.date, p.path.as_posix()), reverse=True):
        keys = [f"t:{_fingerprint(p)}"]
        if p.attribution.original_url:
            keys.append(f"u:{p.attribution.original_url}")
        if any(k in alias for k in keys):
            continue
        for k in keys:
            alias[k] = p.id
        by_key[p.id] = p
    kept = [p for p in posts if p.id in by_key]
    return kept, len(posts) - len(kept)


def section_title(settings: Settings, cat: str, posts: list[Post]) -> str:
    if cat in settings.sections:
        return settings.sections[cat]
    common = set(posts[0].tags)
    for p in posts[1:]:
        common &= set(p.tags)
    if len(common) == 1:
        return next(iter(common))
    return cat


def build_time(posts: list[Post], tz) -> datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), timezone.utc).astimezone(tz)
    if posts:
        return max(p.date for p in posts)
    return datetime(1980, 1, 1, tzinfo=tz)


def _fingerprint_code() -> str:
    """What rendering depends on besides the post and the settings: the rendering code itself."""
    global _CODE
    if _CODE is None:
        here = Path(__file__).parent.parent
        h = hashlib.sha1(__version__.encode())
        for name in ("render/content.py", "render/links.py", "sources/collect.py", "model.py"):
            h.update((here / name).read_bytes())
        _CODE = h.hexdigest()
    return _CODE


_CODE: str | None = None
# Settings a rendered post does not depend on (output, layout, editions, delivery); every other one counts.
_NOT_RENDERING = {"site_root", "out", "formats", "theme", "template_overrides", "output_name", "article_order",
                  "section_order", "sections", "strict", "include_unpublished", "include_future", "dedupe",
                  "dedupe_days", "epub", "pdf", "email", "smtp", "archive"}


def render_posts(settings: Settings, collected: Collected, ids: list[str], *,
                 use_cache: bool = True) -> tuple[list[Post], list[Problem]]:
    """Each collected post rendered (sanitised, attributed, summarised); a rendered post is cached by
    its content, id, the settings and the rendering code, so an in-day cron run re-renders only new posts."""
    problems = list(collected.problems)
    shaping = settings.model_dump_json(exclude=_NOT_RENDERING)  # a web-only build and an EPUB build share posts
    prefix = hashlib.sha1((_fingerprint_code() + shaping).encode()).hexdigest()
    keys = {src.path.as_posix(): f"{prefix}:{src.content_hash}:{pid}" for src, pid in zip(collected.posts, ids)}
    cache = PostCache(settings.site_root, enabled=use_cache, variant=settings.timezone)
    try:
        done = cache.rendered(keys)
        todo = [(src, pid) for src, pid in zip(collected.posts, ids) if src.path.as_posix() not in done]
        fresh = dict(zip((src.path.as_posix() for src, _ in todo), _render(settings, todo)))
        posts: list[Post] = []
        for src in collected.posts:
            path = src.path.as_posix()
            if path in fresh:
                cache.put_rendered(path, keys[path], fresh[path])
            got = done.get(path, fresh.get(path))
            # a str: the body went past the work limits (docs/safety.md): skipped, reported
            posts.append(got) if isinstance(got, Post) else problems.append(Problem(src.path, got))
    finally:
        cache.close()
    return posts, problems


PARALLEL_FROM = 64  # uncached posts worth starting worker processes for


def _render(settings: Settings, todo: list[tuple[SourcePost, str]]) -> list[Post | str]:
    """Render ``todo`` in order; a post past the work limits gives its one-line reason instead.

    Many posts (a new day, an empty cache) are shared out over the free cores (digest.parallel)."""
    if not todo:
        return []  # all cached: the renderer (markdown-it, nh3) is not even imported
    if len(todo) >= PARALLEL_FROM:
        from digest.render import content  # noqa: F401  (imported once here, inherited by forked workers)
    from digest.runtime import parallel

    return parallel.map_shares(partial(_render_share, settings), todo, at_least=PARALLEL_FROM)


def _render_share(settings: Settings, todo: list[tuple[SourcePost, str]]) -> list[Post | str]:
    from digest.render.content import ContentRenderer  # only when some post is not cached yet

    renderer = ContentRenderer(settings)
    out: list[Post | str] = []
    for src, pid in todo:
        try:
            out.append(renderer.render(src, pid))
        except PostError as e:
            out.append(e.message)
    return out


def assemble(
    settings: Settings,
    collected: Collected,
    start: date,
    end: date,
    *,
    period: str = "day",
    exclude_urls: frozenset[str] = frozenset(),
    use_cache: bool = True,
) -> Digest:
    """Render and group the collected posts. Exporters never re-parse anything after this."""
    ids = unique_ids(collected.posts)
    posts, problems = render_posts(settings, collected, ids, use_cache=use_cache)
    dropped = 0
    if settings.dedupe:
        posts, dropped = dedupe(posts)
    if exclude_urls:
        before = len(posts)
        posts = [p for p in posts if p.attribution.original_url not in exclude_urls]
        dropped += before - len(posts)
    groups: dict[str, list[Post]] = defaultdict(list)
    for p in posts:
        groups[p.category].append(p)
    order = [c for c in settings.section_order if c in groups]
    order += sorted(c for c in groups if c not in order)
    reverse = settings.article_order == "desc"
    sections = []
    used: set[str] = set()
    for cat in order:
        items = sorted(groups[cat], key=lambda p: (p.date, p.path.as_posix()), reverse=reverse)
        anchor = "s-" + (_SAFE.sub("-", cat).strip("-") or hashlib.sha1(cat.encode()).hexdigest()[:8])
        while anchor in used:
            anchor += "_"
        used.add(anchor)
        sections.append(Section(id=cat, title=section_title(settings, cat, items), anchor=anchor, posts=tuple(items)))
    return Digest(
        site_title=settings.title, site_url=settings.site_url, lang=settings.lang, timezone=settings.timezone,
        start=start, end=end, sections=tuple(sections), generated=build_time(posts, settings.tz),
        period=period, duplicates_dropped=dropped, problems=tuple(problems),
    )
