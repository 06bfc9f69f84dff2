"""The EPUB container: OCF (``mimetype``, ``container.xml``), the OPF package, the EPUB 3 navigation
document and the EPUB 2 NCX, zipped deterministically.

As in Sphinx's epub3 builder, Python gathers small records (manifest items, spine, guide, table of
contents) and this module turns them into the package files; lxml writes the XML, so every value is
escaped for XML. ``mimetype`` goes first in the zip, stored; every entry has the issue's timestamp, so the
same issue gives a byte-identical file. The zip is written entry by entry (:class:`Writer`): each document goes
in as soon as it is rendered and only its record is kept, so a month's issue is never held whole; the
package document, the NCX and the navigation document, which list everything, go in last.
"""
from __future__ import annotations

import contextlib
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from lxml import etree

from digest import __version__

OPF_NS = "http://www.idpf.org/2007/opf"
DC_NS = "http://purl.org/dc/elements/1.1/"
NCX_NS = "http://www.daisy.org/z3986/2005/ncx/"
XHTML_NS = "http://www.w3.org/1999/xhtml"
OPS_NS = "http://www.idpf.org/2007/ops"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FOLDER = "EPUB"
CONTAINER = (b'<?xml version="1.0" encoding="utf-8"?>\n<container xmlns="urn:oasis:names:tc:opendocument:xmlns:'
             b'container" version="1.0">\n  <rootfiles>\n    <rootfile media-type="application/oebps-package+xml" '
             b'full-path="EPUB/content.opf"/>\n  </rootfiles>\n</container>\n')
_STORED = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".woff", ".woff2")  # compressed already
_LANDMARK = {"cover": "cover", "toc": "toc", "text": "bodymatter"}  # EPUB 2 guide type → EPUB 3 landmark


@dataclass(frozen=True)
class Item:
    """One file of the publication (besides the navigation documents): its record in the package."""

    id: str
    href: str  # relative to the package folder
    media_type: str
    properties: str | None = None
    in_spine: bool = False


@dataclass(frozen=True)
class NavPoint:
    title: str
    href: str
    id: str
    children: tuple[NavPoint, ...] = ()


@dataclass(frozen=True)
class Reference:
    """A landmark: ``type`` is the EPUB 2 guide type (cover, toc, text)."""

    type: str
    title: str
    href: str


@dataclass(frozen=True)
class Meta:
    """One ``<meta>`` of the OPF: its text and attributes, in order (``name``/``content`` for EPUB 2,
    ``property`` with text, perhaps ``refines`` or ``id``, for EPUB 3)."""

    text: str
    attrs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Book:
    identifier: str
    title: str
    language: str
    creator: str
    modified: datetime
    dc: tuple[tuple[str, str], ...]  # further Dublin Core elements: (name, value)
    metas: tuple[Meta, ...]
    items: tuple[Item, ...]  # in manifest order; spine items in reading order
    toc: tuple[NavPoint, ...]
    guide: tuple[Reference, ...]
    toc_title: str
    landmarks_title: str
    nav_css: str | None = None


def _pretty(root: etree._Element, doctype: str | None = None) -> bytes:
    if doctype is None:
        return etree.tostring(root, pretty_print=True, encoding="utf-8", xml_declaration=True)
    return etree.tostring(root, pretty_print=True, encoding="utf-8", xml_declaration=True, doctype=doctype)


def opf(book: Book) -> bytes:
    root = etree.Element("package", {"xmlns": OPF_NS, "unique-identifier": "id", "version": "3.0",
                                     "prefix": "rendition: http://www.idpf.org/vocab/rendition/#",
                                     XML_LANG: book.language})
    meta = etree.SubElement(root, "metadata", nsmap={"dc": DC_NS, "opf": OPF_NS})
    etree.SubElement(meta, "meta", {"property": "dcterms:modified"}).text = \
        book.modified.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    etree.SubElement(meta, "meta", {"name": "generator", "content": f"digest {__version__}"})
    etree.SubElement(meta, f"{{{DC_NS}}}identifier", {"id": "id"}).text = book.identifier
    etree.SubElement(meta, f"{{{DC_NS}}}title").text = book.title
    etree.SubElement(meta, f"{{{DC_NS}}}language").text = book.language
    etree.SubElement(meta, f"{{{DC_NS}}}creator", {"id": "creator"}).text = book.creator
    for name, value in book.dc:
        etree.SubElement(meta, f"{{{DC_NS}}}{name}").text = value
    for m in book.metas:
        etree.SubElement(meta, "meta", dict(m.attrs)).text = m.text
    manifest = etree.SubElement(root, "manifest")
    for item in [*book.items, Item("ncx", "toc.ncx", "application/x-dtbncx+xml"),
                 Item("nav", "nav.xhtml", "application/xhtml+xml", "nav")]:
        attrs = {"href": item.href, "id": item.id, "media-type": item.media_type}
        if item.properties:
            attrs["properties"] = item.properties
        etree.SubElement(manifest, "item", attrs)
    spine = etree.SubElement(root, "spine", {"toc": "ncx"})
    for item in book.items:
        if item.in_spine:
            etree.SubElement(spine, "itemref", {"idref": item.id})
    guide = etree.SubElement(root, "guide")
    for ref in book.guide:
        etree.SubElement(guide, "reference", {"type": ref.type, "title": ref.title, "href": ref.href})
    return _pretty(root)


def _depth(points: tuple[NavPoint, ...]) -> int:
    return 1 + max((_depth(p.children) for p in points if p.children), default=0) if points else 0


def ncx(book: Book) -> bytes:
    """The EPUB 2 table of contents, with its real depth (section → article) that older readers use."""
    root = etree.Element("ncx", {"xmlns": NCX_NS, "version": "2005-1", XML_LANG: book.language})
    head = etree.SubElement(root, "head")
    for name, content in (("dtb:uid", book.identifier), ("dtb:depth", str(max(1, _depth(book.toc)))),
                          ("dtb:totalPageCount", "0"), ("dtb:maxPageNumber", "0")):
        etree.SubElement(head, "meta", {"content": content, "name": name})
    etree.SubElement(etree.SubElement(root, "docTitle"), "text").text = book.title
    nav_map = etree.SubElement(root, "navMap")
    order = [0]

    def add(parent: etree._Element, point: NavPoint) -> None:
        order[0] += 1
        el = etree.SubElement(parent, "navPoint", {"id": point.id, "playOrder": str(order[0])})
        etree.SubElement(etree.SubElement(el, "navLabel"), "text").text = point.title
        etree.SubElement(el, "content", {"src": point.href})
        for child in point.children:
            add(el, child)

    for point in book.toc:
        add(nav_map, point)
    return _pretty(root)


def nav(book: Book) -> bytes:
    """The EPUB 3 navigation document: the table of contents and the landmarks."""
    root = etree.Element(f"{{{XHTML_NS}}}html", {"lang": book.language, XML_LANG: book.language},
                         nsmap={None: XHTML_NS, "epub": OPS_NS})  # type: ignore[dict-item]  # None: default
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = book.toc_title
    if book.nav_css:
        etree.SubElement(head, "link", {"href": book.nav_css, "rel": "stylesheet", "type": "text/css"})
    body = etree.SubElement(root, "body")
    toc = etree.SubElement(body, "nav", {f"{{{OPS_NS}}}type": "toc", "id": "id", "role": "doc-toc"})
    etree.SubElement(toc, "h1").text = book.toc_title

    def add(parent: etree._Element, points: tuple[NavPoint, ...]) -> None:
        ol = etree.SubElement(parent, "ol")
        for point in points:
            li = etree.SubElement(ol, "li")
            etree.SubElement(li, "a", {"href": point.href}).text = point.title
            if point.children:
                add(li, point.children)

    add(toc, book.toc)
    if book.guide:
        marks = etree.SubElement(body, "nav", {f"{{{OPS_NS}}}type": "landmarks"})
        etree.SubElement(marks, "h2").text = book.landmarks_title
        ol = etree.SubElement(marks, "ol")
        for ref in book.guide:
            a = etree.SubElement(etree.SubElement(ol, "li"), "a",
                                 {f"{{{OPS_NS}}}type": _LANDMARK.get(ref.type, ref.type), "href": ref.href})
            a.text = ref.title
    return _pretty(root, "<!DOCTYPE html>")


def _zip_time(when: datetime) -> tuple[int, int, int, int, int, int]:
    w = when.astimezone(UTC)
    if w.year < 1980:  # before what a zip can hold
        return (1980, 1, 1, 0, 0, 0)
    return (w.year, w.month, w.day, w.hour, w.minute, w.second)


class Writer:
    """The publication's zip, written as it is made: ``mimetype`` (stored, first) and the container now,
    each item when :meth:`put`, the package, NCX and navigation documents at :meth:`finish`."""

    def __init__(self, target: BinaryIO, modified: datetime):
        self.date_time = _zip_time(modified)
        self.zip = zipfile.ZipFile(target, "w")
        self._put("mimetype", b"application/epub+zip", stored=True)
        self._put("META-INF/container.xml", CONTAINER)

    def _put(self, name: str, data: bytes, stored: bool = False) -> None:
        info = zipfile.ZipInfo(name, self.date_time)
        info.create_system = 3
        info.external_attr = 0o100644 << 16
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        self.zip.writestr(info, data, compresslevel=None if stored else 6)

    def put(self, href: str, data: bytes) -> None:
        """One item of the package folder (``href`` as in its :class:`Item`)."""
        self._put(f"{FOLDER}/{href}", data, stored=href.lower().endswith(_STORED))

    def finish(self, book: Book) -> None:
        self._put(f"{FOLDER}/content.opf", opf(book))
        self._put(f"{FOLDER}/toc.ncx", ncx(book))
        self._put(f"{FOLDER}/nav.xhtml", nav(book))
        self.zip.close()

    def abort(self) -> None:
        """Give up (the build failed, the disk is full): the zip is closed without another word of error; the
        caller removes the file."""
        with contextlib.suppress(OSError, ValueError):  # (close() drops its file even when that fails)
            self.zip.close()
