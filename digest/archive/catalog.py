"""The archive in the output folder: ``index.html``, ``feed.atom`` and an OPDS 1.2 catalog.

Everything is computed from the issue records (:mod:`digest.manifest`), so the archive is cheap to
rebuild after every build. Links are relative to the folder, so it works served as static files
(``digest serve``, any web server) or copied elsewhere. OPDS: ``opds.xml`` is the root navigation
feed; ``opds-all.xml`` (and ``-2``, ``-3``… pages) lists every issue newest first, and each kind of
edition (daily, weekly, monthly) gets its own acquisition feed when there is more than one kind.
Covers come from the EPUB (a cover image written next to it, else the one inside the zip).
"""
from __future__ import annotations

import io
import posixpath
import uuid
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from digest.archive import records
from digest.runtime.files import atomic_write
from digest.config.settings import Settings
from digest.theming.loader import Theme, load_theme

NAV_TYPE = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQ_TYPE = "application/atom+xml;profile=opds-catalog;kind=acquisition"
MIME = {"html": "text/html", "epub": "application/epub+zip", "pdf": "application/pdf", "email": "message/rfc822"}
PRIMARY_SUFFIX = {"html": ".html", "epub": ".epub", "pdf": ".pdf", "email": ".eml"}
FORMAT_LABEL = {"html": "Web", "epub": "EPUB", "pdf": "PDF", "email": "Email"}
FORMAT_ORDER = ["epub", "pdf", "html", "email"]
READER_FORMATS = ("epub", "pdf", "html")  # what OPDS offers for download (no .eml)
COVERS = "covers"
THUMB_SIZE = (300, 480)
IMAGE_MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
PERIOD_LABEL = {"day": "daily_issues", "week": "weekly_issues", "month": "monthly_issues", "range": "range_issues"}


@dataclass
class Download:
    format: str
    label: str
    href: str
    size: int
    mime: str

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
        return next((d for d in self.downloads if d.format == "html"), None)

    @property
    def reader_downloads(self) -> list[Download]:
        return [d for d in self.downloads if d.format in READER_FORMATS]


def human_size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.0f} KB"
    return f"{n / 1_000_000:.1f} MB"


def _namespace(settings: Settings) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, settings.site_url or f"digest:{settings.title}")


def _primary(fmt: str, files: list[dict[str, Any]]) -> dict[str, Any]:
    suffix = PRIMARY_SUFFIX.get(fmt)
    return next((f for f in files if suffix and f["path"].endswith(suffix)), files[0])


def issues(out_dir: Path, settings: Settings) -> list[Issue]:
    """The issues whose files are all in place, newest first."""
    ns = _namespace(settings)
    out = []
    for r in records.all_records(out_dir):
        downloads = []
        for fmt in sorted(r["formats"], key=lambda f: (FORMAT_ORDER.index(f) if f in FORMAT_ORDER else 99, f)):
            entry = r["formats"][fmt]
            if not records.intact(out_dir, entry):
                continue
            main = _primary(fmt, entry["files"])
            downloads.append(Download(fmt, FORMAT_LABEL.get(fmt, fmt.upper()), main["path"], main["size"],
                                      MIME.get(fmt, "application/octet-stream")))
        if not downloads:
            continue
        out.append(Issue(
            slug=r["slug"], period=r.get("period", "day"), start=date.fromisoformat(str(r["start"])),
            end=date.fromisoformat(str(r["end"])), title=r.get("title", r["slug"]),
            generated=datetime.fromisoformat(r["generated"]), count=int(r.get("count", 0)),
            sections=[(str(t), int(n)) for t, n in r.get("sections", [])],
            id=f"urn:uuid:{uuid.uuid5(ns, r['slug'])}", downloads=downloads,
        ))
    out.sort(key=lambda i: (i.end, i.start, i.slug), reverse=True)  # a week or month is new when it ends
    return out


# -- covers ---------------------------------------------------------------------------------------
def epub_cover(epub: Path) -> tuple[bytes, str] | None:
    """The cover image inside an EPUB: EPUB 3 ``cover-image`` property, else the EPUB 2 meta."""
    from lxml import etree

    try:
        with zipfile.ZipFile(epub) as z:
            container = etree.fromstring(z.read("META-INF/container.xml"))
            opf_path = container.find(".//{*}rootfile").get("full-path")
            opf = etree.fromstring(z.read(opf_path))
            items = opf.findall(".//{*}manifest/{*}item")
            item = next((i for i in items if "cover-image" in (i.get("properties") or "").split()), None)
            if item is None:
                meta = next((m for m in opf.iter("{*}meta") if m.get("name") == "cover"), None)
                if meta is not None:
                    item = next((i for i in items if i.get("id") == meta.get("content")), None)
            if item is None:
                return None
            href = posixpath.normpath(posixpath.join(posixpath.dirname(opf_path), item.get("href")))
            ext = Path(href).suffix.lower()
            if ext not in IMAGE_MIME:
                return None
            return z.read(href), ext
    except (OSError, KeyError, AttributeError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return None


def ensure_cover(out_dir: Path, slug: str, epub_files: list[dict[str, Any]]) -> tuple[str, str] | None:
    """The cover and thumbnail of an issue (paths relative to OUT), made once per EPUB.

    An image the EPUB exporter wrote next to the book is used as is; else the cover inside the EPUB
    is copied to ``covers/``. The thumbnail is a small JPEG in ``covers/``. Called by the build right
    after the EPUB is written (in the worker, so covers are made in parallel), and by the archive.
    """
    image = next((f["path"] for f in epub_files if Path(f["path"]).suffix.lower() in IMAGE_MIME), None)
    epub = next((f["path"] for f in epub_files if f["path"].endswith(".epub")), None)
    covers = out_dir / COVERS
    if image is not None and (out_dir / image).is_file():
        source: Path = out_dir / image
    elif epub is not None and (out_dir / epub).is_file():
        src_epub = out_dir / epub
        existing = [p for p in (covers / f"{slug}{e}" for e in (".jpg", ".png")) if p.is_file()]
        if existing and existing[0].stat().st_mtime_ns >= src_epub.stat().st_mtime_ns:
            source = existing[0]
        else:
            got = epub_cover(src_epub)
            if got is None:
                return None
            data, ext = got
            target = covers / f"{slug}{'.jpg' if ext == '.jpeg' else ext}"
            if existing and existing[0] == target and target.read_bytes() == data:
                source = target  # a rebuilt EPUB with the same cover: the thumbnail stays valid too
            else:
                source = atomic_write(target, data)
    else:
        return None
    thumb = covers / f"{slug}.thumb.jpg"
    if not thumb.is_file() or thumb.stat().st_mtime_ns < source.stat().st_mtime_ns:
        from PIL import Image

        with Image.open(source) as im:
            im.draft("RGB", THUMB_SIZE)  # a JPEG decodes at a fraction of its size: far less work
            im = im.convert("RGB")
            im.thumbnail(THUMB_SIZE)
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=80, optimize=True)
        atomic_write(thumb, buf.getvalue())
    return source.relative_to(out_dir).as_posix(), thumb.relative_to(out_dir).as_posix()


def cover_for(out_dir: Path, epub_files: list[dict[str, Any]], issue: Issue) -> None:
    got = ensure_cover(out_dir, issue.slug, epub_files)
    if got is not None:
        cover, thumb = got
        issue.cover = (cover, IMAGE_MIME[Path(cover).suffix.lower()])
        issue.thumbnail = (thumb, "image/jpeg")


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
    theme = theme or load_theme(settings)
    items = issues(out_dir, settings)
    recs = {r["slug"]: r for r in records.all_records(out_dir)}
    for issue in items:
        if any(d.format == "epub" for d in issue.downloads):  # only an EPUB still in place
            cover_for(out_dir, recs[issue.slug]["formats"]["epub"]["files"], issue)
    ns = _namespace(settings)
    updated = max((i.generated for i in items), default=datetime(1980, 1, 1, tzinfo=timezone.utc))
    by_month: dict[tuple[int, int], list[Issue]] = defaultdict(list)
    for i in items:
        by_month[(i.start.year, i.start.month)].append(i)
    months = [{"label": theme.labels.get("month_format", "{y}-{m:02d}").format(y=y, m=m), "key": f"{y}-{m:02d}",
               "issues": lst} for (y, m), lst in by_month.items()]
    site = {"title": settings.title, "url": settings.site_url, "lang": settings.lang,
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
    size = settings.archive.opds_page_size
    readable = [i for i in items if i.reader_downloads]  # an OPDS entry needs something to download
    kinds = sorted({i.period for i in readable}, key=lambda p: list(PERIOD_LABEL).index(p) if p in PERIOD_LABEL else 9)
    feeds = [{"name": "opds-all", "title": theme.labels["newest_issues"], "issues": readable,
              "rel": "http://opds-spec.org/sort/new"}]
    if len(kinds) > 1:
        feeds += [{"name": f"opds-{k}", "title": theme.labels[PERIOD_LABEL.get(k, "range_issues")],
                   "issues": [i for i in readable if i.period == k], "rel": "subsection"} for k in kinds]
    nav_entries = []
    for feed in feeds:
        pages = feed_pages(feed["issues"], feed["name"], size)
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
