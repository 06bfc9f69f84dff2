"""What a reader sees of a post body, shared by the editions that show bodies (web, EPUB, PDF).

Posts come from scrapers that repeat themselves: a ``>`` lead quote followed by the same first paragraph,
paragraphs left empty once their hidden or scripted content was sanitised away, bold one-line subheads
written as ``<p><strong>…</strong></p>``. Each edition shows the body once, without empty gaps, with
subheads marked (``class="subhead"``) so print can keep them with the next paragraph. Editions that cannot
show an image (the EPUB and the PDF do not fetch remote ones) put an honest note in its place, in the
site's language, with its real alt text and a link to the image — never a link inside a link. Every
rewrite keeps the HTML content model valid.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from html import escape
from pathlib import Path
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from digest.model import Digest, Post, Section
from digest.runtime.spill import Spill
from digest.theming.teaser import norm as _norm

# Elements that show something without text: a paragraph holding one is not empty.
_MEDIA = frozenset({"img", "svg", "math", "video", "audio", "picture", "table", "hr", "iframe", "object", "canvas"})
_EMPHASIS = frozenset({"strong", "b"})
SUBHEAD_MAX = 40  # characters: a longer bold paragraph is emphasis, not a heading
_GENERIC_ALT = re.compile(r"(?i)^(?:image|img|picture|photo|pic|图片?|图像|照片|配图|插图"
                          r"|\S+\.(?:jpe?g|png|gif|webp|bmp|svg))$")

# What decides an image's fate: src → the src to use (kept), or None (left out: a note takes its place).
ImagePolicy = Callable[[str], "str | None"]


def _text(el: Any) -> str:
    return str(el.text_content())


def _is_blank(el: Any) -> bool:
    if el.tag is etree.Comment or not isinstance(el.tag, str):
        return False
    text = _text(el)
    if text.strip() or _norm(text):  # (the cheap test first: most paragraphs have text)
        return False
    return not any(isinstance(d.tag, str) and d.tag in _MEDIA for d in el.iterdescendants())


def _pass_id_on(el: Any) -> bool:
    """Whether ``el`` may go: it holds no id (a link's target), or its one id moves to the next (else the
    previous) element beside it, so a link in the body still lands where the empty element was."""
    ids = [x.get("id") for x in el.iter() if isinstance(x.tag, str) and x.get("id") is not None]
    if not ids:
        return True
    heir = next((x for x in (el.getnext(), el.getprevious()) if x is not None and isinstance(x.tag, str)
                 and x.get("id") is None), None)
    if len(ids) > 1 or heir is None:
        return False
    heir.set("id", ids[0])
    return True


def _drop(el: Any) -> None:
    """Remove ``el`` but keep the text that follows it."""
    parent = el.getparent()
    tail = el.tail
    if tail and tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _first_elements(root: Any) -> list[Any]:
    return [c for c in root if isinstance(c.tag, str)]


def _drop_repeated_lead(root: Any) -> None:
    """A leading blockquote whose text the next paragraph repeats (nearly) in full goes."""
    kids = _first_elements(root)
    if len(kids) < 2 or kids[0].tag != "blockquote" or (root.text or "").strip():
        return
    quote, para = _norm(_text(kids[0])), _norm(_text(kids[1]))
    if not quote or not para:
        return
    shorter, longer = sorted((quote, para), key=len)
    if shorter in longer and len(shorter) >= 0.9 * len(longer):
        _drop(kids[0])


def _mark_subheads(root: Any) -> None:
    for p in root.iter("p"):
        kids = [c for c in p if isinstance(c.tag, str)]
        if len(kids) != 1 or kids[0].tag not in _EMPHASIS or (p.text or "").strip() or (kids[0].tail or "").strip():
            continue
        words = _text(p).strip()
        if words and len(words) <= SUBHEAD_MAX and not any(isinstance(d.tag, str) and d.tag in _MEDIA
                                                           for d in kids[0].iterdescendants()):
            p.set("class", " ".join(filter(None, [p.get("class"), "subhead"])))


def _unnest_links(root: Any) -> None:
    """An ``<a>`` inside another ``<a>`` (invalid HTML) keeps its content and loses its own link."""
    for a in list(root.iter("a")):
        if any(anc.tag == "a" for anc in a.iterancestors()):
            a.drop_tag()


def real_alt(alt: str | None) -> str:
    """The alt text worth showing: not empty, not a file name, not a generic "Image"."""
    text = " ".join((alt or "").split())
    return "" if _GENERIC_ALT.match(text) else text


def image_note(img: Any, post: Post, labels: dict[str, str], src: str | None = None) -> None:
    """Replace ``img`` by a visible note: left out, where to see it, its real alt text. The note links to the
    image (or the original article) unless it already sits inside a link."""
    alt = real_alt(img.get("alt"))
    text = labels["image_missing_alt"].format(alt=alt) if alt else labels["image_missing"]
    target = src if src and src.startswith(("http://", "https://")) else (
        post.attribution.original_url or post.attribution.post_url)
    in_link = any(anc.tag == "a" for anc in img.iterancestors())
    note = lxml_html.Element("a" if target and not in_link else "span")
    note.set("class", "image-note")
    if note.tag == "a":
        note.set("href", str(target))
    note.text = text
    note.tail = img.tail
    img.getparent().replace(img, note)
    # a note alone in its paragraph: print keeps it with the caption that follows (break-after: avoid)
    holder = next((anc for anc in note.iterancestors() if anc.tag in ("p", "figure", "div")), None)
    if holder is not None and not _norm(_text(holder).replace(text, "", 1)):
        holder.set("class", " ".join(filter(None, [holder.get("class"), "image-note-p"])))


def tidy_tree(root: Any, post: Post, labels: dict[str, str], images: ImagePolicy | None = None) -> None:
    """Rewrite a parsed body (children of ``root``) for reading; ``images`` set: images it refuses get a note."""
    _drop_repeated_lead(root)
    for el in list(root.iter("p", "div")):
        if el.getparent() is not None and _is_blank(el) and _pass_id_on(el):
            _drop(el)
    _mark_subheads(root)
    if images is not None:
        for img in list(root.iter("img")):
            src = (img.get("src") or "").strip()
            kept = images(src) if src else None
            if kept is None:
                image_note(img, post, labels, src)
            else:
                img.set("src", kept)
    _unnest_links(root)


# HTML5 void elements libxml2's HTML parser (HTML 4) does not know: written ``<wbr>``, it would hold the text that
# follows (``<wbr>text</wbr>``, which EPUBCheck refuses); written ``<wbr/>``, libxml2 closes it.
_VOID5 = re.compile(r"<(wbr)((?:\s+[^\s\"'>/=]+(?:=\"[^\"]*\")?)*)\s*>")


def parse(fragment: str) -> Any:
    return lxml_html.fragment_fromstring(_VOID5.sub(r"<\1\2/>", fragment), create_parent="div")


def serialize(root: Any, method: str = "html") -> str:
    parts = [escape(root.text or "", quote=False)]
    parts.extend(etree.tostring(child, encoding="unicode", method=method) for child in root)
    return "".join(parts)


def tidy(post: Post, labels: dict[str, str], images: ImagePolicy | None = None, spill: Spill | None = None) -> Post:
    """``post`` with its body rewritten for reading (see :func:`tidy_tree`); kept by ``spill`` when given."""
    html = post.html
    if not html.strip():
        return post
    root = parse(html)
    tidy_tree(root, post, labels, images)
    tidied = serialize(root)
    return replace(post, body_html=spill.keep(tidied) if spill is not None else tidied)


def for_reading(digest: Digest, labels: dict[str, str], images: ImagePolicy | None = None,
                folder: Path | None = None) -> Digest:
    """The digest with every body tidied (the same sections, posts and order). The tidied bodies past the
    memory budget go to a temporary file in ``folder`` (the cache folder; else the system's)."""
    spill = Spill(folder)
    sections = tuple(replace(s, posts=tuple(tidy(p, labels, images, spill) for p in s.posts))
                     for s in digest.sections)
    spill.done()
    return with_sections(digest, sections)


def with_sections(digest: Digest, sections: tuple[Section, ...]) -> Digest:
    """A copy of ``digest`` with other sections (its cached lookups, posts and the index, are not carried over)."""
    return Digest(site_title=digest.site_title, site_url=digest.site_url, lang=digest.lang, timezone=digest.timezone,
                  start=digest.start, end=digest.end, sections=sections, generated=digest.generated,
                  period=digest.period, duplicates_dropped=digest.duplicates_dropped, problems=digest.problems)
