"""Group collected posts into one :class:`Digest`: ids, de-duplication, sections and order."""
from __future__ import annotations

import hashlib
import pickle
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, tzinfo
from functools import partial
from typing import TYPE_CHECKING

from digest.config.settings import Settings, Shapes, shaping
from digest.errors import PostError, Problem, Skipped, ThemeError
from digest.model import Digest, Post, Section
from digest.render.language import majority
from digest.render.site import LinkTargets
from digest.runtime import keys, parallel
from digest.runtime.cache import Store, pickled
from digest.runtime.env import Environment
from digest.runtime.spill import Spill
from digest.sources.collect import Collected
from digest.sources.posts import SourcePost
from digest.sources.sample import settled

if TYPE_CHECKING:
    from digest.render.post import ContentRenderer

_SAFE = re.compile(r"[^A-Za-z0-9_-]+")
_NORM = re.compile(r"[\s\u3000，。、；：！？,.;:!?“”\"'‘’（）()\[\]【】《》<>|｜-]+")


def unique_ids(posts: list[SourcePost]) -> list[str]:
    """A readable id per post, unique in the digest, valid as an XML id and a file name."""
    used: set[str] = set()  # case-folded: the ids name EPUB files, which must differ on case-blind disks too
    out = []
    for p in posts:
        base = _SAFE.sub("-", p.slug).strip("-")[:48] or p.content_hash[:10]
        out.append(_unused(f"a-{base}", used, "-{n}"))
    return out


def _unused(name: str, used: set[str], suffix: str) -> str:
    """``name``, else ``name`` with the first free ``suffix`` (``-2``, ``-3``…): unique even case-folded."""
    candidate, n = name, 1
    while candidate.casefold() in used:
        n += 1
        candidate = name + suffix.format(n=n)
    used.add(candidate.casefold())
    return candidate


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


def build_time(posts: list[Post], tz: tzinfo, source_date_epoch: int | None) -> datetime:
    """When the issue was made: ``SOURCE_DATE_EPOCH`` if set, else its newest post (reproducible builds)."""
    if source_date_epoch is not None:
        return datetime.fromtimestamp(source_date_epoch, UTC).astimezone(tz)
    if posts:
        return max(p.date for p in posts)
    return datetime(1980, 1, 1, tzinfo=tz)


def render_key_prefix(settings: Settings, labels: dict[str, str] | None = None) -> str:
    """What every rendered post's key shares: the settings that shape a post, the rendering code, the
    site's Jekyll inputs (``_config.yml``, includes, data files) and the words of the theme that go into a
    body (the link cards of embeds)."""
    from digest.render.site import SiteInputs

    words = sorted((labels or {}).items())
    return keys.key("rendered", inputs=(SiteInputs.read(settings).fingerprint, *(f"{k}={v}" for k, v in words)),
                    settings=shaping(settings, Shapes.POST), code=keys.code_fingerprint("digest.render"))


def body_labels(settings: Settings) -> dict[str, str]:
    """The theme's words that a rendered body holds (English when the theme cannot be loaded: the
    editions report that theme error themselves)."""
    from digest.render.words import EMBED_LABELS
    from digest.theming.loader import load_theme

    try:
        labels = load_theme(settings).labels
    except ThemeError:
        return {}
    return {name: labels[name] for name in EMBED_LABELS.values() if name in labels}


def render_posts(settings: Settings, collected: Collected, ids: list[str], *,
                 env: Environment) -> tuple[list[Post], list[Problem]]:
    """Each collected post rendered (sanitised, attributed, summarised); a rendered post is cached by
    its content, id, the settings that shape it and the rendering code, so an in-day cron run re-renders
    only new posts (and a web-only build and an EPUB build of the same day share them).

    Takes the collected posts (``collected.posts`` is emptied): a raw post is freed as soon as it is
    rendered, and the rendered ones come from the cache and the renderers one at a time, their bodies kept
    by a :class:`Spill`, so a day of 100,000 posts never has every body, nor every raw post, in memory."""
    problems = list(collected.problems)
    labels = body_labels(settings)
    prefix = render_key_prefix(settings, labels)
    links = LinkTargets(settings, lambda: _renderer(settings, labels).post_url)
    keyed = {src.path.as_posix(): f"{prefix}:{src.content_hash}:{pid}{links.key_part(src)}"
             for src, pid in zip(collected.posts, ids, strict=True)}
    order = list(keyed)
    waiting = dict(zip(order, zip(collected.posts, ids, strict=True), strict=True))
    collected.posts.clear()
    spill = Spill(env.cache_dir)
    got: dict[str, Post | Skipped] = {}
    with Store(env.cache_dir, settings.site_root) as cache:
        for path, value in cache.rendered(keyed):  # a raw post goes as its rendered one comes
            got[path] = _kept(value, spill)
            del waiting[path]
        todo = list(waiting.values())
        waiting.clear()
        for part in _render(settings, labels, todo):
            for data in part:
                value = pickle.loads(data)
                path = value.path.as_posix()
                cache.put_rendered(path, keyed[path], data)
                got[path] = _kept(value, spill)
            del part  # (not held while the next round is rendered)
    del keyed
    spill.done()
    posts: list[Post] = []
    for path in order:
        made = got.get(path)
        if isinstance(made, Post):
            posts.append(made)
            problems.extend(made.notices)
        elif isinstance(made, Skipped):  # past the work limits (docs/safety.md): skipped, reported
            problems.append(made)
    return posts, problems


def _kept(value: Post | Skipped, spill: Spill) -> Post | Skipped:
    """The post with its bodies kept by ``spill`` and its names shared with the other posts' (a day's posts
    come from a few sections, tags and languages: one copy each, not one per post)."""
    if isinstance(value, Post):
        return replace(value, body_html=spill.keep(value.html), body_text=spill.keep(value.text),
                       categories=tuple(map(sys.intern, value.categories)), tags=tuple(map(sys.intern, value.tags)),
                       lang=sys.intern(value.lang))
    return value


def _render(settings: Settings, labels: dict[str, str],
            todo: list[tuple[SourcePost, str]]) -> Iterator[list[bytes]]:
    """Render ``todo`` in order, a round at a time (on the free cores when there are many), taking its items;
    a post past the work limits gives its problem instead. When every post is cached the renderer is not
    even imported."""
    if not todo:
        return iter(())
    if len(todo) >= parallel.POST.fork_from:
        from digest.render import post  # noqa: F401  (imported once here, inherited by forked workers)
    return parallel.drain(partial(_render_share, settings, labels), todo, parallel.POST)


def _renderer(settings: Settings, labels: dict[str, str]) -> ContentRenderer:
    from digest.render.post import ContentRenderer

    return ContentRenderer(settings, labels)


def _render_share(settings: Settings, labels: dict[str, str],
                  todo: list[tuple[SourcePost, str]]) -> list[bytes]:
    """Each post rendered, pickled as the cache keeps it (see :func:`~digest.runtime.cache.pickled`)."""
    from digest.render.post import ContentRenderer  # only when some post is not cached yet

    renderer = ContentRenderer(settings, labels)
    out: list[bytes] = []
    for src, pid in todo:
        value: Post | Skipped
        try:
            value = renderer.render(src, pid)
        except PostError as e:
            value = Skipped(src.path, e.message)
        out.append(pickled(value))
    return out


def assemble(
    settings: Settings,
    collected: Collected,
    start: date,
    end: date,
    *,
    period: str = "day",
    exclude_urls: frozenset[str] = frozenset(),
    env: Environment,
) -> Digest:
    """Render and group the collected posts (taking them: ``collected.posts`` is emptied). Exporters never
    re-parse anything after this."""
    settings = settled(settings, env)  # a build has settled the attribution preset already: then this is quick
    ids = unique_ids(collected.posts)
    posts, problems = render_posts(settings, collected, ids, env=env)
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
        anchor = _unused("s-" + (_SAFE.sub("-", cat).strip("-") or hashlib.sha1(cat.encode()).hexdigest()[:8]),
                         used, "_{n}")
        sections.append(Section(id=cat, title=section_title(settings, cat, items), anchor=anchor, posts=tuple(items)))
    return Digest(
        site_title=settings.title, site_url=settings.site_url, lang=majority((p.lang for p in posts), settings.lang),
        timezone=settings.timezone,
        start=start, end=end, sections=tuple(sections), generated=build_time(posts, settings.tz, env.source_date_epoch),
        period=period, duplicates_dropped=dropped, problems=tuple(problems),
    )
