"""The EPUB edition: an EPUB 3 (with an EPUB 2 NCX for older readers) laid out like a periodical.

Cover → contents (sections, their articles and summaries) → sections. A section whose articles are
small is one XHTML document; a bigger one gets a short section page and one document per article, so
readers stay fast on busy days. ebooklib writes the package (OPF, nav.xhtml, toc.ncx); the zip is
written with fixed timestamps and order so the same input gives a byte-identical file.
"""
from __future__ import annotations

import io
import logging
import re
import uuid
import zipfile
from dataclasses import replace
from datetime import timezone
from html import escape as html_escape
from pathlib import Path
from typing import Any
from xml.parsers import expat

from ebooklib import epub
from lxml import etree
from lxml import html as lxml_html

from digest.editions.epub.images import Images, Refused
from digest.errors import ThemeError
from digest.runtime.files import atomic_write
from digest.model import Digest, Post, Section
from digest.config.settings import Settings
from digest.theming.loader import Theme
from digest.editions.base import base_context, output_path

SUFFIX = ".epub"
CSS_NAME = "style/epub.css"
CONTENTS = "contents.xhtml"
COVER_PAGE = "cover.xhtml"
FONT_FAMILY = "Digest CJK"
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_STORED = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".woff", ".woff2")
log = logging.getLogger("digest.epub")


def write(digest: Digest, out_dir: Path, *, theme: Theme, settings: Settings) -> list[Path]:
    data = render(digest, theme=theme, settings=settings)
    path = atomic_write(output_path(settings, digest, out_dir, SUFFIX), data)
    limit = settings.epub.warn_size_mb
    if len(data) > limit * 1024 * 1024:
        log.warning("%s: %.1f MB is above %d MB, the Send-to-Kindle limit", path, len(data) / 1048576, limit)
    return [path]


# -- identity ------------------------------------------------------------------------------------
def identifier(digest: Digest) -> str:
    """Stable per site and issue: a rebuilt issue replaces the old one on a reader."""
    site = digest.site_url or digest.site_title
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{site}#digest/{digest.period}/{digest.slug}')}"


def series_index(digest: Digest) -> str:
    return f"{digest.start:%Y%m%d}"


def _xml_error(data: bytes) -> str | None:
    """Why ``data`` is not well-formed XML (``None``: it is). expat: fast, builds no tree, fetches nothing."""
    parser = expat.ParserCreate()
    try:
        parser.Parse(data, True)
    except expat.ExpatError as e:
        return f"{expat.ErrorString(e.code)}, line {e.lineno}"
    return None


# -- post bodies → XHTML -------------------------------------------------------------------------
class _Bodies:
    """Converts sanitised HTML fragments to XHTML, packaging or replacing their images."""

    def __init__(self, settings: Settings, labels: dict[str, str]):
        self.images = Images(settings)
        self.labels = labels
        self.remote_skipped = 0

    def convert(self, post: Post) -> str:
        html = _XML_BAD.sub("", post.html)
        if not html.strip():
            return ""
        if "<img" not in html:
            if _xml_error(f"<div>{html}</div>".encode("utf-8")) is None:
                return html  # already well-formed XML (no void tags, no HTML-only entities): use it as is
        root = lxml_html.fragment_fromstring(html, create_parent="div")
        for img in list(root.iter("img")):
            self._image(img, post)
        parts = [html_escape(root.text or "", quote=False)]
        parts.extend(etree.tostring(child, encoding="unicode", method="xml") for child in root)
        return "".join(parts)

    def _image(self, img: Any, post: Post) -> None:
        src = (img.get("src") or "").strip()
        alt = " ".join((img.get("alt") or "").split())
        try:
            if not src:
                raise Refused("image without a source")
            packed = self.images.pack(src)
        except Refused as e:
            remote = src.startswith(("http://", "https://")) and not self._is_local(src)
            if remote and not self.images.settings.network.fetch_images:
                self.remote_skipped += 1
            else:
                log.warning("%s: %s", post.path, e)
            text = self.labels["image_alt"].format(alt=alt) if alt else self.labels["image"]
            new = lxml_html.Element("a" if remote else "span")
            new.set("class", "image-link" if remote else "image-alt")
            if remote:
                new.set("href", src)
            new.text = text
            new.tail = img.tail
            img.getparent().replace(img, new)
            return
        for attr in ("width", "height"):
            img.attrib.pop(attr, None)
        img.set("src", packed.name)
        img.set("alt", alt)

    def _is_local(self, src: str) -> bool:
        try:
            return self.images.local_path(src) is not None
        except Refused:
            return True


# -- documents -----------------------------------------------------------------------------------
class _Docs:
    def __init__(self, digest: Digest, theme: Theme, settings: Settings):
        self.digest, self.theme, self.settings = digest, theme, settings
        self.items: list[epub.EpubItem] = []
        self.text: list[str] = []

    def add(self, uid: str, name: str, template: str, *, first: bool = False, **ctx: Any) -> epub.EpubItem:
        base = base_context(self.digest, self.settings, "epub")
        base.update(css_href=CSS_NAME, contents_href=CONTENTS)
        base.update(ctx)
        xhtml = _XML_BAD.sub("", self.theme.render(template, **base))
        data = xhtml.encode("utf-8")
        error = _xml_error(data)
        if error:
            where = self.theme.source_file(template) or template
            raise ThemeError(f"renders to XHTML that is not well-formed ({error})", where)
        item = epub.EpubItem(uid=uid, file_name=name, media_type="application/xhtml+xml", content=data)
        self.items.insert(0 if first else len(self.items), item)
        if self.settings.epub.embed_fonts:  # the font subset needs every character used
            self.text.append(xhtml)
        return item


def _plan(digest: Digest, settings: Settings) -> tuple[dict[str, str], dict[str, str], set[str]]:
    """Where each article and section lives: (post id → href, section anchor → href, combined anchors)."""
    limit = settings.epub.section_doc_kb * 1024
    href: dict[str, str] = {}
    section_hrefs: dict[str, str] = {}
    combined: set[str] = set()
    for s in digest.sections:
        name = f"{s.anchor}.xhtml"
        section_hrefs[s.anchor] = name
        small = sum(len(p.html.encode("utf-8")) for p in s.posts) <= limit
        if small:
            combined.add(s.anchor)
        for p in s.posts:
            href[p.id] = f"{name}#{p.id}" if small else f"{p.id}.xhtml"
    return href, section_hrefs, combined


def _pager(digest: Digest, post: Post, href: dict[str, str], section_hrefs: dict[str, str]) -> dict[str, Any]:
    prev, nxt = digest.neighbours(post)
    return {
        "prev": {"href": href[prev.id], "title": prev.title} if prev else None,
        "next": {"href": href[nxt.id], "title": nxt.title} if nxt else None,
        "section": section_hrefs[digest.section_of(post).anchor],
        "contents": CONTENTS,
    }


def _convert(digest: Digest, bodies: _Bodies) -> tuple[Section, ...]:
    """The digest's sections with every post body as XHTML."""
    out = tuple(replace(s, posts=tuple(replace(p, html=bodies.convert(p)) for p in s.posts))
                for s in digest.sections)
    if bodies.remote_skipped:
        log.info("%s: %d remote images not fetched (network.fetch_images is off); alt text and links kept",
                 digest.slug, bodies.remote_skipped)
    return out


# -- the book ------------------------------------------------------------------------------------
def render(digest: Digest, *, theme: Theme, settings: Settings) -> bytes:
    """The EPUB file's bytes."""
    labels = theme.labels
    href, section_hrefs, combined = _plan(digest, settings)
    docs = _Docs(digest, theme, settings)
    bodies = _Bodies(settings, labels)
    book = epub.EpubBook()
    # A cover to draw is drawn in another process while the bodies are converted and the documents
    # rendered; its page goes first at the end.
    pending = None
    if settings.epub.cover:
        from digest.editions.epub.cover import start_cover

        pending = start_cover(digest, theme=theme, settings=settings)
    try:
        xsections = _convert(digest, bodies)
        common = {"sections": xsections, "href": href, "section_hrefs": section_hrefs}
        docs.add("contents", CONTENTS, "epub/contents.xhtml.j2", **common)
        toc: list[Any] = []
        first_text = None
        for section in xsections:
            shref = section_hrefs[section.anchor]
            is_combined = section.anchor in combined
            pagers = {p.id: _pager(digest, p, href, section_hrefs) for p in section.posts}
            sdoc = docs.add(section.anchor, shref, "epub/section.xhtml.j2", section=section, combined=is_combined,
                            pagers=pagers, **common)
            first_text = first_text or sdoc
            if not is_combined:
                for post in section.posts:
                    docs.add(post.id, href[post.id], "epub/article.xhtml.j2", post=post, section=section,
                             section_href=shref, pager=pagers[post.id], **common)
            toc.append((epub.Section(section.title, shref),
                        [epub.Link(href[p.id], p.title, f"nav-{p.id}") for p in section.posts]))
        cover = pending.result() if pending is not None else None
    finally:
        if pending is not None:
            pending.cancel()
    cover_doc = None
    if cover is not None:
        data, ext = cover
        book.set_cover(f"images/cover.{ext}", data, create_page=False)
        cover_doc = docs.add("cover", COVER_PAGE, "epub/cover.xhtml.j2", cover_src=f"images/cover.{ext}",
                             first=True, **common)

    css = theme.read_text("epub/style.css")
    if settings.epub.embed_fonts:
        css += _embed_font(book, settings, "".join(docs.text) + digest.title)
    book.add_item(epub.EpubItem(uid="style", file_name=CSS_NAME, media_type="text/css", content=css.encode("utf-8")))
    for packed in sorted(bodies.images.items.values(), key=lambda p: p.name):
        book.add_item(epub.EpubItem(uid="img-" + packed.name.split("/")[-1].split(".")[0], file_name=packed.name,
                                    media_type=packed.media_type, content=packed.data))
    for item in docs.items:
        book.add_item(item)

    _metadata(book, digest, settings, labels, bool(bodies.images.items) or cover is not None)
    book.toc = toc
    book.add_item(epub.EpubNcx())
    nav = epub.EpubNav(title=labels["contents"])
    nav.add_link(href=CSS_NAME, rel="stylesheet", type="text/css")
    book.add_item(nav)
    book.spine = docs.items
    if cover_doc is not None:
        book.guide.append({"type": "cover", "href": COVER_PAGE, "title": labels["cover"]})
    book.guide.append({"type": "toc", "href": CONTENTS, "title": labels["contents"]})
    if first_text is not None:
        book.guide.append({"type": "text", "href": first_text.file_name, "title": digest.sections[0].title})
    return _write(book, digest, labels)


def _metadata(book: epub.EpubBook, digest: Digest, settings: Settings, labels: dict[str, str],
              images_used: bool) -> None:
    book.set_identifier(identifier(digest))
    book.set_title(digest.title)
    book.set_language(digest.lang)
    book.add_author(settings.author or digest.site_title)
    if settings.publisher:
        book.add_metadata("DC", "publisher", settings.publisher)
    book.add_metadata("DC", "date", digest.start.isoformat())
    heads = "; ".join(p.title for p in digest.posts[:5])
    book.add_metadata("DC", "description", f"{labels['article_count'].format(n=digest.count)}: {heads}")
    if digest.site_url:
        book.add_metadata("DC", "source", digest.site_url + "/")
    # Series: calibre's own metadata and the EPUB 3 collection both name the site, indexed by date.
    book.add_metadata(None, "meta", "", {"name": "calibre:series", "content": digest.site_title})
    book.add_metadata(None, "meta", "", {"name": "calibre:series_index", "content": series_index(digest)})
    book.add_metadata(None, "meta", digest.site_title, {"property": "belongs-to-collection", "id": "series"})
    book.add_metadata(None, "meta", "series", {"refines": "#series", "property": "collection-type"})
    book.add_metadata(None, "meta", series_index(digest), {"refines": "#series", "property": "group-position"})
    # Accessibility (schema.org, EPUB Accessibility 1.1): text with navigation; images carry alt text.
    images = bool(images_used)
    for prop, values in (
        ("schema:accessMode", ["textual"] + (["visual"] if images else [])),
        ("schema:accessModeSufficient", ["textual"]),
        ("schema:accessibilityFeature", ["structuralNavigation", "tableOfContents", "readingOrder"]
         + (["alternativeText"] if images else [])),
        ("schema:accessibilityHazard", ["none"]),
    ):
        for value in values:
            book.add_metadata(None, "meta", value, {"property": prop})
    book.add_metadata(None, "meta", labels["a11y_summary"], {"property": "schema:accessibilitySummary"})


def _embed_font(book: epub.EpubBook, settings: Settings, text: str) -> str:
    from digest.editions.epub.fonts import find_cjk_font, subset

    font = find_cjk_font("serif", False, settings.epub.font)
    data, ext = subset(font, text)
    name = f"fonts/cjk.{ext}"
    book.add_item(epub.EpubItem(uid="font-cjk", file_name=name, media_type=f"font/{ext}", content=data))
    return (f'\n@font-face {{ font-family: "{FONT_FAMILY}"; src: url(../{name}); }}\n'
            f'body, h1, h2, h3, .site-title {{ font-family: "{FONT_FAMILY}", serif; }}\n')


class _StampedZip:
    """What ebooklib's writer needs of a ZipFile, with fixed timestamps and no re-compressing of images."""

    def __init__(self, zf: zipfile.ZipFile, date_time: tuple[int, ...]):
        self.zf, self.date_time = zf, date_time

    def writestr(self, name: str, data: bytes | str, compress_type: int | None = None) -> None:
        info = zipfile.ZipInfo(name, self.date_time)  # type: ignore[arg-type]
        info.create_system = 3
        info.external_attr = 0o100644 << 16
        if compress_type is None:
            compress_type = zipfile.ZIP_STORED if name.lower().endswith(_STORED) else zipfile.ZIP_DEFLATED
        info.compress_type = compress_type
        self.zf.writestr(info, data, compresslevel=6 if compress_type == zipfile.ZIP_DEFLATED else None)


class _Writer(epub.EpubWriter):
    def __init__(self, target: io.BytesIO, book: epub.EpubBook, options: dict[str, Any], date_time: tuple[int, ...]):
        super().__init__(target, book, options)
        self.date_time = date_time

    def _get_ncx(self) -> bytes:
        """ebooklib's NCX, with the real depth (section → article) that older readers use."""
        root = etree.fromstring(super()._get_ncx())
        ns = {"n": "http://www.daisy.org/z3986/2005/ncx/"}
        depth = max((len(p.xpath("ancestor::n:navPoint", namespaces=ns)) + 1
                     for p in root.iterfind(".//n:navPoint", ns)), default=1)
        for meta in root.iterfind("n:head/n:meta[@name='dtb:depth']", ns):
            meta.set("content", str(depth))
        root.set("{http://www.w3.org/XML/1998/namespace}lang", self.book.language)
        return etree.tostring(root, pretty_print=True, encoding="utf-8", xml_declaration=True)

    def write(self) -> None:
        with zipfile.ZipFile(self.file_name, "w") as zf:
            self.out = _StampedZip(zf, self.date_time)
            self.out.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
            self._write_container()
            self._write_opf()
            self._write_items()


def _write(book: epub.EpubBook, digest: Digest, labels: dict[str, str]) -> bytes:
    when = digest.generated.astimezone(timezone.utc)
    date_time = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    if when.year < 1980:
        date_time = (1980, 1, 1, 0, 0, 0)
    options = {"epub3_pages": False, "mtime": when.replace(tzinfo=None),
               "landmark_title": labels.get("landmarks", "Guide"),
               "play_order": {"enabled": True, "start_from": 1}}
    out = io.BytesIO()
    writer = _Writer(out, book, options, date_time)
    writer.process()
    writer.write()
    return out.getvalue()
