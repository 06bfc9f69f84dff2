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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import IO, Any, BinaryIO

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


@dataclass(frozen=True, slots=True)
class Item:
    """One file of the publication (besides the navigation documents): its record in the package."""

    id: str
    href: str  # relative to the package folder
    media_type: str
    properties: str | None = None
    in_spine: bool = False


@dataclass(frozen=True, slots=True)
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


_XF_LANG = "xml:lang"  # (given as {namespace}lang, lxml's incremental writer binds the xml namespace to ns0)


def _open(out: IO[bytes], write: Callable[[Any], None], doctype: str | None = None) -> None:
    """A package document written to ``out`` as it is made (lxml's incremental writer): the entries of a
    huge day's book (one per article) are never one tree in memory."""
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        if doctype:
            xf.write_doctype(doctype)
        write(xf)


def _put(xf: Any, el: etree._Element) -> None:
    xf.write(el, pretty_print=True)


def write_opf(book: Book, out: IO[bytes]) -> None:
    _open(out, partial(_opf, book))


def _opf(book: Book, xf: Any) -> None:
    attrs = {"xmlns": OPF_NS, "unique-identifier": "id", "version": "3.0",
             "prefix": "rendition: http://www.idpf.org/vocab/rendition/#", _XF_LANG: book.language}
    with xf.element("package", attrs):
        xf.write("\n")
        meta = etree.Element("metadata", nsmap={"dc": DC_NS, "opf": OPF_NS})
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
        _put(xf, meta)
        with xf.element("manifest"):
            xf.write("\n")
            for item in [*book.items, Item("ncx", "toc.ncx", "application/x-dtbncx+xml"),
                         Item("nav", "nav.xhtml", "application/xhtml+xml", "nav")]:
                attrs = {"href": item.href, "id": item.id, "media-type": item.media_type}
                if item.properties:
                    attrs["properties"] = item.properties
                _put(xf, etree.Element("item", attrs))
        xf.write("\n")
        with xf.element("spine", {"toc": "ncx"}):
            xf.write("\n")
            for item in book.items:
                if item.in_spine:
                    _put(xf, etree.Element("itemref", {"idref": item.id}))
        xf.write("\n")
        guide = etree.Element("guide")
        for ref in book.guide:
            etree.SubElement(guide, "reference", {"type": ref.type, "title": ref.title, "href": ref.href})
        _put(xf, guide)


def _depth(points: tuple[NavPoint, ...]) -> int:
    return 1 + max((_depth(p.children) for p in points if p.children), default=0) if points else 0


def write_ncx(book: Book, out: IO[bytes]) -> None:
    """The EPUB 2 table of contents, with its real depth (section → article) that older readers use."""
    _open(out, partial(_ncx, book))


def _ncx(book: Book, xf: Any) -> None:
    order = [0]

    def point_of(point: NavPoint) -> etree._Element:
        order[0] += 1
        el = etree.Element("navPoint", {"id": point.id, "playOrder": str(order[0])})
        etree.SubElement(etree.SubElement(el, "navLabel"), "text").text = point.title
        etree.SubElement(el, "content", {"src": point.href})
        for child in point.children:
            el.append(point_of(child))
        return el

    with xf.element("ncx", {"xmlns": NCX_NS, "version": "2005-1", _XF_LANG: book.language}):
        xf.write("\n")
        head = etree.Element("head")
        for name, content in (("dtb:uid", book.identifier), ("dtb:depth", str(max(1, _depth(book.toc)))),
                              ("dtb:totalPageCount", "0"), ("dtb:maxPageNumber", "0")):
            etree.SubElement(head, "meta", {"content": content, "name": name})
        _put(xf, head)
        title = etree.Element("docTitle")
        etree.SubElement(title, "text").text = book.title
        _put(xf, title)
        with xf.element("navMap"):
            xf.write("\n")
            for point in book.toc:  # a section (and its articles) at a time
                _put(xf, point_of(point))
        xf.write("\n")


def write_nav(book: Book, out: IO[bytes]) -> None:
    """The EPUB 3 navigation document: the table of contents and the landmarks."""
    _open(out, partial(_nav, book), "<!DOCTYPE html>")


def _items(points: tuple[NavPoint, ...]) -> Iterator[etree._Element]:
    for point in points:
        li = etree.Element("li")
        etree.SubElement(li, "a", {"href": point.href}).text = point.title
        if point.children:
            ol = etree.SubElement(li, "ol")
            ol.extend(_items(point.children))
        yield li


def _nav(book: Book, xf: Any) -> None:
    with xf.element(f"{{{XHTML_NS}}}html", {"lang": book.language, _XF_LANG: book.language},
                    nsmap={None: XHTML_NS, "epub": OPS_NS}):
        xf.write("\n")
        head = etree.Element("head")
        etree.SubElement(head, "title").text = book.toc_title
        if book.nav_css:
            etree.SubElement(head, "link", {"href": book.nav_css, "rel": "stylesheet", "type": "text/css"})
        _put(xf, head)
        with xf.element("body"):
            with xf.element("nav", {f"{{{OPS_NS}}}type": "toc", "id": "id", "role": "doc-toc"}):
                h1 = etree.Element("h1")
                h1.text = book.toc_title
                _put(xf, h1)
                with xf.element("ol"):
                    xf.write("\n")
                    for li in _items(book.toc):  # a section (and its articles) at a time
                        _put(xf, li)
            if book.guide:
                marks = etree.Element("nav", {f"{{{OPS_NS}}}type": "landmarks"}, nsmap={"epub": OPS_NS})
                etree.SubElement(marks, "h2").text = book.landmarks_title
                ol = etree.SubElement(marks, "ol")
                for ref in book.guide:
                    a = etree.SubElement(etree.SubElement(ol, "li"), "a",
                                         {f"{{{OPS_NS}}}type": _LANDMARK.get(ref.type, ref.type), "href": ref.href})
                    a.text = ref.title
                _put(xf, marks)
        xf.write("\n")


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
        for name, write in (("content.opf", write_opf), ("toc.ncx", write_ncx), ("nav.xhtml", write_nav)):
            info = zipfile.ZipInfo(f"{FOLDER}/{name}", self.date_time)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED  # (zlib's default level: 6, as for the other entries)
            with self.zip.open(info, "w") as out:
                write(book, out)
        self.zip.close()

    def abort(self) -> None:
        """Give up (the build failed, the disk is full): the zip is closed without another word of error; the
        caller removes the file."""
        with contextlib.suppress(OSError, ValueError):  # (close() drops its file even when that fails)
            self.zip.close()
