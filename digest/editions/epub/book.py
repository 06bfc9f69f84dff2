"""The EPUB book: the documents of an issue laid out like a periodical, and the records of its package.

Cover → contents (the section index: one screen, each section with its count) → sections, each opening with
its articles' titles and summaries (as calibre's news layout does); the navigation document nests
sections → articles for the reader's own table of contents. A section whose articles are
small is one XHTML document; a bigger one gets a short section page and one document per article, so
readers stay fast on busy days. :mod:`digest.editions.epub.package` writes the package from the records.
"""
from __future__ import annotations

import io
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from digest.editions.base import WriteContext, base_context
from digest.editions.content import content_css
from digest.editions.epub import package
from digest.editions.epub.bodies import XML_BAD, Bodies, convert_each, xml_error
from digest.editions.epub.options import EpubOptions
from digest.editions.epub.package import Item, Meta, NavPoint, Reference
from digest.errors import ThemeError
from digest.model import Digest, Post, Section

CSS_NAME = "style/epub.css"
CONTENTS = "contents.xhtml"
COVER_PAGE = "cover.xhtml"
FONT_FAMILY = "Digest CJK"
XHTML = "application/xhtml+xml"
CONFORMS_TO = "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"  # what the book claims (checked by Ace in the tests)


def identifier(digest: Digest) -> str:
    """Stable per site and issue: a rebuilt issue replaces the old one on a reader."""
    site = digest.site_url or digest.site_title
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{site}#digest/{digest.period}/{digest.slug}')}"


def series_index(digest: Digest) -> str:
    return f"{digest.start:%Y%m%d}"


@dataclass
class _Docs:
    """The XHTML documents rendered so far, in reading order: each is in the zip as soon as it is made,
    and only its record stays here."""

    digest: Digest
    ctx: WriteContext
    package: package.Writer
    keep_text: bool  # the font subset (embed_fonts) needs every character used
    items: list[Item] = field(default_factory=list)
    chars: set[str] = field(default_factory=set)

    def add(self, uid: str, name: str, template: str, *, first: bool = False, **values: Any) -> Item:
        context = base_context(self.digest, self.ctx.settings, "epub")
        context.update(css_href=CSS_NAME, contents_href=CONTENTS)
        context.update(values)
        xhtml = XML_BAD.sub("", self.ctx.theme.render(template, **context))
        data = xhtml.encode("utf-8")
        error = xml_error(data)
        if error:
            where = self.ctx.theme.source_file(template) or template
            raise ThemeError(f"renders to XHTML that is not well-formed ({error})", where)
        # EPUB 3 readers are told which documents hold MathML (the manifest's "mathml" property)
        item = Item(uid, name, XHTML, properties="mathml" if b"<math" in data else None, in_spine=True)
        self.package.put(name, data)
        self.items.insert(0 if first else len(self.items), item)
        if self.keep_text:
            self.chars.update(xhtml)
        return item


class _Hrefs(Mapping[str, str]):
    """Post id → where its article is: in its section's document (``combined``) or in one of its own. Made
    when a template asks, never held for every post (a huge day has 100,000)."""

    def __init__(self, digest: Digest, combined: set[str]):
        self._digest, self._combined = digest, combined

    def __getitem__(self, post_id: str) -> str:
        anchor = self._digest.section_of(post_id).anchor
        return f"{anchor}.xhtml#{post_id}" if anchor in self._combined else f"{post_id}.xhtml"

    def __iter__(self) -> Iterator[str]:
        return (p.id for p in self._digest)

    def __len__(self) -> int:
        return self._digest.count


def _plan(digest: Digest, options: EpubOptions) -> tuple[_Hrefs, dict[str, str], set[str]]:
    """Where each article and section lives: (post id → href, section anchor → href, combined anchors)."""
    limit = options.section_doc_kb * 1024
    section_hrefs: dict[str, str] = {}
    combined: set[str] = set()
    for s in digest.sections:
        section_hrefs[s.anchor] = f"{s.anchor}.xhtml"
        if sum(len(p.html.encode("utf-8")) for p in s.posts) <= limit:
            combined.add(s.anchor)
    return _Hrefs(digest, combined), section_hrefs, combined


class _Pagers(Mapping[str, dict[str, Any]]):
    """Post id → the links after its article (:func:`_pager`), for one section's posts, made when asked."""

    def __init__(self, digest: Digest, section: Section, href: Mapping[str, str], section_hrefs: dict[str, str],
                 compact: bool):
        self._digest, self._section, self._href, self._section_hrefs = digest, section, href, section_hrefs
        self._compact = compact

    def __getitem__(self, post_id: str) -> dict[str, Any]:
        return _pager(self._digest, self._digest.post(post_id), self._href, self._section_hrefs, self._compact)

    def __iter__(self) -> Iterator[str]:
        return (p.id for p in self._section.posts)

    def __len__(self) -> int:
        return len(self._section.posts)


def _pager(digest: Digest, post: Post, href: Mapping[str, str], section_hrefs: dict[str, str],
           compact: bool) -> dict[str, Any]:
    """Links after an article. "Back" returns to the reader's place: the article's entry on its section page,
    the section's entry in the contents. ``compact``: one line, for short items sharing a document."""
    prev, nxt = digest.neighbours(post)
    section = digest.section_of(post)
    return {
        "prev": {"href": href[prev.id], "title": prev.title} if prev else None,
        "next": {"href": href[nxt.id], "title": nxt.title} if nxt else None,
        "section": f"{section_hrefs[section.anchor]}#{entry_id(post)}",
        "contents": f"{CONTENTS}#toc-{section.anchor}",
        "compact": compact,
    }


def entry_id(post: Post) -> str:
    """The id of an article's entry in its section page's list."""
    return f"t-{post.id}"


def _documents(digest: Digest, bodies: Bodies, docs: _Docs,
               options: EpubOptions) -> tuple[list[NavPoint], Item | None, dict[str, Any]]:
    """Contents, section and article documents; the table of contents; the first text document. Bodies
    are made XHTML one section at a time, just before its documents are written."""
    href, section_hrefs, combined = _plan(digest, options)
    common: dict[str, Any] = {"sections": digest.sections, "href": href, "section_hrefs": section_hrefs}
    docs.add("contents", CONTENTS, "epub/contents.xhtml.j2", **common)
    toc: list[NavPoint] = []
    first_text = None
    for i, section in enumerate(convert_each(digest, bodies, docs.ctx.env.cache_dir)):
        shref = section_hrefs[section.anchor]
        is_combined = section.anchor in combined
        pagers = _Pagers(digest, section, href, section_hrefs, is_combined)
        sdoc = docs.add(section.anchor, shref, "epub/section.xhtml.j2", section=section, combined=is_combined,
                        pagers=pagers, **common)
        first_text = first_text or sdoc
        if not is_combined:
            for post in section.posts:
                docs.add(post.id, href[post.id], "epub/article.xhtml.j2", post=post, section=section,
                         section_href=shref, pager=pagers[post.id], **common)
        points = tuple(NavPoint(p.title, href[p.id], f"nav-{p.id}") for p in section.posts)
        if digest.sectioned:
            toc.append(NavPoint(section.title, shref, f"sep_{i}", points))
        else:  # one implicit section: the articles are the table of contents
            toc.extend(points)
    return toc, first_text, common


def render(digest: Digest, ctx: WriteContext, options: EpubOptions | None = None,
           part: tuple[int, int] | None = None) -> bytes:
    """The EPUB file's bytes (:func:`write_to` a file is what the edition does)."""
    out = io.BytesIO()
    write_to(digest, ctx, out, options, part)
    return out.getvalue()


def write_to(digest: Digest, ctx: WriteContext, target: BinaryIO, options: EpubOptions | None = None,
             part: tuple[int, int] | None = None) -> None:
    """Write the EPUB to ``target`` as it is made. ``options``: the ``[epub]`` settings to use (scaled down
    to fit a size limit); ``part``: (n, total) when the issue is split into several books (each with its
    own contents)."""
    options = options or ctx.settings.options(EpubOptions)
    labels = ctx.theme.labels
    writer = package.Writer(target, digest.generated)
    docs = _Docs(digest, ctx, writer, keep_text=options.embed_fonts)
    bodies = Bodies(ctx.settings, labels, options)
    # A cover to draw is drawn in another process while the bodies are converted and the documents
    # rendered; its page goes first at the end.
    pending = None
    if options.cover:
        from digest.editions.epub.cover import start_cover

        pending = start_cover(digest, ctx)
    try:
        try:
            toc, first_text, common = _documents(digest, bodies, docs, options)
            cover = pending.result() if pending is not None else None
        finally:
            if pending is not None:
                pending.cancel()
        _finish(digest, ctx, options, writer, docs, bodies, cover, common, toc, first_text, part)
    except BaseException:
        writer.abort()
        raise


def _finish(digest: Digest, ctx: WriteContext, options: EpubOptions, writer: package.Writer, docs: _Docs,
            bodies: Bodies, cover: tuple[bytes, str] | None, common: dict[str, Any], toc: list[NavPoint],
            first_text: Item | None, part: tuple[int, int] | None) -> None:
    labels = ctx.theme.labels
    items = _extras(digest, ctx, options, docs, bodies, cover, common)
    guide = [Reference("cover", labels["cover"], COVER_PAGE)] if cover is not None else []
    guide.append(Reference("toc", labels["contents"], CONTENTS))
    if first_text is not None:
        guide.append(Reference("text", digest.sections[0].title, first_text.href))
    images_used = bool(bodies.images.items) or cover is not None
    title, uid = digest.title, identifier(digest)
    if part is not None:
        title += " · " + labels["part"].format(n=part[0], total=part[1])
        uid = f"urn:uuid:{uuid.uuid5(uuid.UUID(uid.removeprefix('urn:uuid:')), f'part/{part[0]}/{part[1]}')}"
    writer.finish(package.Book(
        identifier=uid, title=title, language=digest.lang,
        creator=ctx.settings.author or digest.site_title, modified=digest.generated,
        dc=_dublin_core(digest, ctx, labels), metas=_metas(digest, labels, cover is not None, images_used),
        items=(*items, *docs.items), toc=tuple(toc), guide=tuple(guide), toc_title=labels["contents"],
        landmarks_title=labels.get("landmarks", "Guide"), nav_css=CSS_NAME,
    ))


def _extras(digest: Digest, ctx: WriteContext, options: EpubOptions, docs: _Docs, bodies: Bodies,
            cover: tuple[bytes, str] | None, common: dict[str, Any]) -> list[Item]:
    """The cover (image and page), the stylesheet (and embedded font), the images: written, recorded."""
    items: list[Item] = []
    if cover is not None:
        data, ext = cover
        image = f"images/cover.{ext}"
        items.append(Item("cover-img", image, "image/jpeg" if ext == "jpg" else f"image/{ext}", "cover-image"))
        docs.package.put(image, data)
        docs.add("cover", COVER_PAGE, "epub/cover.xhtml.j2", cover_src=image, first=True, **common)
    css = ctx.theme.read_text("epub/style.css") + content_css(ctx.theme, "epub")
    if options.embed_fonts:
        font, data, rules = _embedded_font(options, "".join(sorted(docs.chars)) + digest.title)
        items.append(font)
        docs.package.put(font.href, data)
        css += rules
    items.append(Item("style", CSS_NAME, "text/css"))
    docs.package.put(CSS_NAME, css.encode("utf-8"))
    for p in sorted(bodies.images.items.values(), key=lambda p: p.name):
        items.append(Item("img-" + p.name.split("/")[-1].split(".")[0], p.name, p.media_type))
        docs.package.put(p.name, p.data)
    return items


def _dublin_core(digest: Digest, ctx: WriteContext, labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    out = []
    if ctx.settings.publisher:
        out.append(("publisher", ctx.settings.publisher))
    out.append(("date", digest.start.isoformat()))
    heads = "; ".join(p.title for p in digest.posts[:5])
    out.append(("description", f"{labels['article_count'].format(n=digest.count)}: {heads}"))
    if digest.site_url:
        out.append(("source", digest.site_url + "/"))
    return tuple(out)


def _metas(digest: Digest, labels: dict[str, str], cover: bool, images: bool) -> tuple[Meta, ...]:
    """The cover; the series (calibre's and EPUB 3's); accessibility (schema.org, EPUB Accessibility 1.1)."""
    out = [Meta("", (("name", "cover"), ("content", "cover-img")))] if cover else []
    out += [
        Meta("", (("name", "calibre:series"), ("content", digest.site_title))),
        Meta("", (("name", "calibre:series_index"), ("content", series_index(digest)))),
        Meta(digest.site_title, (("property", "belongs-to-collection"), ("id", "series"))),
        Meta("series", (("refines", "#series"), ("property", "collection-type"))),
        Meta(series_index(digest), (("refines", "#series"), ("property", "group-position"))),
    ]
    for prop, values in (
        ("schema:accessMode", ["textual"] + (["visual"] if images else [])),
        ("schema:accessModeSufficient", ["textual"]),
        ("schema:accessibilityFeature", ["structuralNavigation", "tableOfContents", "readingOrder",
                                         "displayTransformability"]
         + (["alternativeText"] if images else [])),
        ("schema:accessibilityHazard", ["none"]),
    ):
        out += [Meta(value, (("property", prop),)) for value in values]
    out.append(Meta(labels["a11y_summary"], (("property", "schema:accessibilitySummary"),)))
    out.append(Meta(CONFORMS_TO, (("property", "dcterms:conformsTo"),)))
    return tuple(out)


def _embedded_font(options: EpubOptions, text: str) -> tuple[Item, bytes, str]:
    from digest.editions.epub.fonts import find_cjk_font, subset

    font = find_cjk_font("serif", False, options.font)
    data, ext = subset(font, text)
    name = f"fonts/cjk.{ext}"
    rules = (f'\n@font-face {{ font-family: "{FONT_FAMILY}"; src: url(../{name}); }}\n'
             f'body, h1, h2, h3, .site-title {{ font-family: "{FONT_FAMILY}", serif; }}\n')
    return Item("font-cjk", name, f"font/{ext}"), data, rules
