"""The archive in the output folder: ``index.html``, ``feed.atom`` and an OPDS 1.2 catalog.

Everything is computed from the issue records (:mod:`.records`) and the editions' declarations, so the
archive is cheap to
rebuild after every build. Links are relative to the folder, so it works served as static files
(``digest serve``, any web server) or copied elsewhere. OPDS: ``opds.xml`` is the root navigation
feed; ``opds-all.xml`` (and ``-2``, ``-3``… pages) lists every issue newest first, and each kind of
edition (daily, weekly, monthly) gets its own acquisition feed when there is more than one kind.
Covers come from the first edition that carries one (the EPUB's cover image; :mod:`.covers`).
"""
from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from digest import editions
from digest.archive import records
from digest.archive.covers import IMAGE_MIME, ensure_cover
from digest.archive.records import EditionEntry, IssueRecord
from digest.config.settings import Settings
from digest.errors import ConfigError, DigestError
from digest.runtime.files import atomic_write
from digest.theming.loader import Theme, load_theme

NAV_TYPE = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQ_TYPE = "application/atom+xml;profile=opds-catalog;kind=acquisition"
PERIOD_LABEL = {"day": "daily_issues", "week": "weekly_issues", "month": "monthly_issues", "range": "range_issues"}


@dataclass
class Download:
    format: str  # the edition's name
    label: str
    href: str
    size: int
    mime: str
    for_readers: bool  # offered to e-readers (OPDS)
    order: int

    @property
    def inline(self) -> bool:
        """A page the browser shows (the web edition), rather than a file to download."""
        return self.mime == "text/html"

    @property
    def size_text(self) -> str:
        return human_size(self.size)


@dataclass
class Issue:
    slug: str
    period: str
    start: date
    end: date
    title: str
    generated: datetime
    count: int
    sections: list[tuple[str, int]]
    id: str
    downloads: list[Download] = field(default_factory=list)
    cover: tuple[str, str] | None = None  # (href, mime)
    thumbnail: tuple[str, str] | None = None

    @property
    def web(self) -> Download | None:
        """The issue's page to read in a browser, if it has one."""
        return next((d for d in self.downloads if d.inline), None)

    @property
    def reader_downloads(self) -> list[Download]:
        return [d for d in self.downloads if d.for_readers]


def human_size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.0f} KB"
    return f"{n / 1_000_000:.1f} MB"


def _namespace(settings: Settings) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, settings.site_url or f"digest:{settings.title}")


def _download(out_dir: Path, name: str, entry: EditionEntry) -> Download | None:
    """The file a reader gets of one edition of an issue (``None``: unknown edition, or files missing)."""
    try:
        edition = editions.get(name)
    except DigestError:
        return None  # built by an edition no longer installed
    if not records.intact(out_dir, entry):
        return None
    main = next((f for f in entry.files if f.path.endswith(edition.primary.suffix)), entry.files[0])
    return Download(name, edition.label, main.path, main.size, edition.primary.mime, edition.for_readers,
                    edition.order)


def issues(out_dir: Path, settings: Settings) -> list[tuple[Issue, IssueRecord]]:
    """The issues whose files are all in place, newest first, with their records."""
    ns = _namespace(settings)
    out = []
    for r in records.all_records(out_dir):
        downloads = sorted(filter(None, (_download(out_dir, name, e) for name, e in r.editions.items())),
                           key=lambda d: (d.order, d.format))
        if not downloads:
            continue
        out.append((Issue(
            slug=r.slug, period=r.period, start=r.start, end=r.end, title=r.title, generated=r.generated,
            count=r.count, sections=list(r.sections), id=f"urn:uuid:{uuid.uuid5(ns, r.slug)}", downloads=downloads,
        ), r))
    out.sort(key=lambda ir: (ir[0].end, ir[0].start, ir[0].slug), reverse=True)  # a week or month is new when it ends
    return out


def cover_for(out_dir: Path, record: IssueRecord, issue: Issue) -> None:
    """The issue's cover and thumbnail, from the first edition (in download order) that carries one."""
    for d in issue.downloads:
        edition = editions.get(d.format)
        got = ensure_cover(out_dir, issue.slug, edition, record.editions[d.format])
        if got is not None:
            cover, thumb = got
            issue.cover = (cover, IMAGE_MIME[Path(cover).suffix.lower()])
            issue.thumbnail = (thumb, "image/jpeg")
            return


# -- writing --------------------------------------------------------------------------------------
def _write_if_changed(path: Path, text: str) -> Path:
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return path
    except OSError:
        pass
    return atomic_write(path, data)


def _atom_time(value: datetime | date) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return f"{value.isoformat()}T00:00:00Z"


def feed_pages(items: list[Issue], name: str, size: int) -> list[dict[str, Any]]:
    """Split a newest-first list into OPDS pages ``name.xml``, ``name-2.xml``…"""
    chunks = [items[i:i + size] for i in range(0, len(items), size)] or [[]]
    hrefs = [f"{name}.xml" if i == 0 else f"{name}-{i + 1}.xml" for i in range(len(chunks))]
    return [{"href": hrefs[i], "issues": chunk, "first": hrefs[0], "last": hrefs[-1],
             "prev": hrefs[i - 1] if i else None, "next": hrefs[i + 1] if i + 1 < len(hrefs) else None}
            for i, chunk in enumerate(chunks)]


def write_archive(out_dir: Path, settings: Settings, theme: Theme | None = None) -> list[Path]:
    """(Re)write index.html, feed.atom and the OPDS catalog; returns the files written or kept."""
    if not settings.archive.enabled:
        return []
    found = issues(out_dir, settings)
    langs = Counter(record.lang for _, record in found if record.lang and record.lang != "und")
    lang = settings.lang or min(langs.items(), key=lambda kv: (-kv[1], kv[0]))[0] if langs else settings.lang or "en"
    theme = (theme or load_theme(settings)).for_lang(lang)  # the site's language, else its issues'
    for issue, record in found:
        cover_for(out_dir, record, issue)
    items = [issue for issue, _ in found]
    ns = _namespace(settings)
    updated = max((i.generated for i in items), default=datetime(1980, 1, 1, tzinfo=UTC))
    by_month: dict[tuple[int, int], list[Issue]] = defaultdict(list)
    for i in items:
        by_month[(i.start.year, i.start.month)].append(i)
    months = [{"label": theme.labels.get("month_format", "{y}-{m:02d}").format(y=y, m=m), "key": f"{y}-{m:02d}",
               "issues": lst} for (y, m), lst in by_month.items()]
    site = {"title": settings.title, "url": settings.site_url, "lang": lang,
            "description": settings.description, "author": settings.author or settings.publisher or settings.title}
    common = {"site": site, "updated": _atom_time(updated), "atom_time": _atom_time, "nav_type": NAV_TYPE,
              "acq_type": ACQ_TYPE}
    written = [
        _write_if_changed(out_dir / "index.html", theme.render(
            "archive/index.html.j2", months=months, count=len(items), **common)),
        _write_if_changed(out_dir / "feed.atom", theme.render(
            "archive/feed.atom.j2", issues=items[: settings.archive.feed_entries], base_url=settings.archive.base_url,
            feed_id=f"urn:uuid:{uuid.uuid5(ns, 'feed')}", **common)),
    ]
    return written + _write_opds(out_dir, settings, theme, items, common, updated)


def _write_opds(out_dir: Path, settings: Settings, theme: Theme, items: list[Issue], common: dict[str, Any],
                updated: datetime) -> list[Path]:
    """The OPDS catalog: the navigation feed, and paged acquisition feeds (all issues; each kind of issue)."""
    ns = _namespace(settings)
    readable = [i for i in items if i.reader_downloads]  # an OPDS entry needs something to download
    kinds = sorted({i.period for i in readable}, key=lambda p: list(PERIOD_LABEL).index(p) if p in PERIOD_LABEL else 9)
    feeds: list[dict[str, Any]] = [{"name": "opds-all", "title": theme.labels["newest_issues"], "issues": readable,
              "rel": "http://opds-spec.org/sort/new"}]
    if len(kinds) > 1:
        feeds += [{"name": f"opds-{k}", "title": theme.labels[PERIOD_LABEL.get(k, "range_issues")],
                   "issues": [i for i in readable if i.period == k], "rel": "subsection"} for k in kinds]
    written = []
    nav_entries: list[dict[str, Any]] = []
    for feed in feeds:
        pages = feed_pages(feed["issues"], feed["name"], settings.archive.opds_page_size)
        for page in pages:
            written.append(_write_if_changed(out_dir / page["href"], theme.render(
                "archive/opds-acquisition.xml.j2", page=page, title=feed["title"],
                feed_id=f"urn:uuid:{uuid.uuid5(ns, page['href'])}", **common)))
        newest = feed["issues"][0].generated if feed["issues"] else updated
        nav_entries.append({**feed, "href": pages[0]["href"], "count": len(feed["issues"]),
                            "id": f"urn:uuid:{uuid.uuid5(ns, feed['name'])}", "updated": _atom_time(newest)})
    written.append(_write_if_changed(out_dir / "opds.xml", theme.render(
        "archive/opds-navigation.xml.j2", entries=nav_entries, feed_id=f"urn:uuid:{uuid.uuid5(ns, 'opds')}",
        **common)))
    return written


def refresh(out_dir: Path, settings: Settings | None = None, wait: float = 600.0) -> list[Path]:
    """``digest archive``: rewrite the archive of an output folder from what is in it — the issue records and
    the files they list — under its lock (after editing the archive templates or the ``[archive]``
    settings, deleting issue files by hand, or building issues in shards). Without ``settings`` the ones
    the last build kept in the folder are used (:mod:`.snapshot`): no site needed."""
    from digest.archive.snapshot import load_snapshot, save_snapshot
    from digest.runtime.lock import output_lock

    if not out_dir.is_dir():
        raise ConfigError("output folder not found", out_dir)
    with output_lock(out_dir, wait):
        if settings is None:
            settings = load_snapshot(out_dir)
        else:
            save_snapshot(out_dir, settings)
        return write_archive(out_dir, settings)
