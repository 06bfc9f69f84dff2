"""Sanitised HTML made to fit HTML's content model, so that every format can hold it (EPUBCheck's RSC-005).

nh3 keeps allowed elements wherever the HTML parser put them, and the parser is lenient: a ``<li>`` outside a
list, a ``<div>`` inside ``<em>``, a ``<p>`` inside ``<ul>``, a ``<dt>`` with no ``<dd>``, a ``<thead>`` after
the rows — a browser shows them, an EPUB reader may refuse the book. This pass walks the sanitised fragment
once (lxml, as XML: nh3's output is well formed but for void tags and ``&nbsp;``) and repairs it the way
that keeps the text and as much structure as it can:

- an element that needs flow content where only phrasing is allowed (``div``, ``p``, lists, tables,
  headings… inside ``span``, ``em``, ``h2``, ``p``…) becomes a ``span``; one in a place that forbids it
  (a heading in ``dt``/``th``, ``header`` in ``footer``) becomes a ``div``;
- list items outside a list are wrapped in ``<ul>`` (or become ``span`` in phrasing); anything but ``li`` in
  a list is wrapped in an ``li``; ``dl`` gets ``dd`` around stray content and the ``dt``/``dd`` it lacks;
  ``dt``/``dd``/``rt``/``rp``/``figcaption`` out of place become ``div``/``span``;
- a table's parts are put in order (caption, colgroups, head, body, foot), loose rows next to a ``tbody`` go
  into one;
- attributes whose value the content model would refuse are dropped (``data`` without ``value``, ``bdo``
  without ``dir``, a ``time``/``del``/``ins`` date that is not one, ``lang``/``hreflang`` that is no
  language tag, ``th scope`` outside its keywords, ``headers``);
- a ``#fragment`` link to an id the post no longer has (its element was removed) loses its ``href``.

A fragment that needs none of it is returned unchanged (the same bytes as before).
"""
from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

_VOID_TAG = re.compile(r"<(br|img|hr|wbr|col)((?:\s+[^\s\"'>/=]+(?:=\"[^\"]*\")?)*)\s*>")
VOID_ELEMENTS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                           "source", "track", "wbr", "keygen", "frame", "basefont", "bgsound", "image"})
# Sanitised HTML is well formed, attribute values are double-quoted and text has no raw "<": exact.
_TAG = r'<(/?)([a-z][a-z0-9]*)((?:\s+[^\s"\'>/=]+(?:="[^"]*")?)*)\s*/?>'
CLEAN_TAG = re.compile(_TAG)
GLOBAL_ATTRS = frozenset({"id", "lang", "title", "dir"})
PHRASING = frozenset({"a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "del", "dfn", "em", "i", "img",
                      "ins", "kbd", "mark", "q", "ruby", "s", "samp", "small", "span", "strong", "sub", "sup",
                      "time", "u", "var", "wbr"})
TRANSPARENT = frozenset({"a", "ins", "del"})
# Elements whose children must be phrasing content (rt/rp too; caption, dt and th take flow minus a few).
PHRASING_ONLY = frozenset({"abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "i", "kbd", "mark", "q",
                           "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "p", "pre",
                           "h1", "h2", "h3", "h4", "h5", "h6", "rt", "rp", "ruby"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_SECTIONING = frozenset({"article", "aside", "nav"})
# Descendants an element forbids, whatever lies between.
FORBIDS: dict[str, frozenset[str]] = {
    "a": frozenset({"a"}),
    "header": frozenset({"header", "footer"}),
    "footer": frozenset({"header", "footer"}),
    "dt": frozenset({"header", "footer"}) | _HEADINGS | _SECTIONING,
    "th": frozenset({"header", "footer"}) | _HEADINGS | _SECTIONING,
    "caption": frozenset({"table"}),
}
# Elements with one possible parent.
PARENTS: dict[str, frozenset[str]] = {
    "li": frozenset({"ul", "ol"}), "dt": frozenset({"dl"}), "dd": frozenset({"dl"}),
    "rt": frozenset({"ruby"}), "rp": frozenset({"ruby"}), "figcaption": frozenset({"figure"}),
    "caption": frozenset({"table"}), "colgroup": frozenset({"table"}), "col": frozenset({"colgroup"}),
    "thead": frozenset({"table"}), "tbody": frozenset({"table"}), "tfoot": frozenset({"table"}),
    "tr": frozenset({"table", "thead", "tbody", "tfoot"}),
    "td": frozenset({"tr"}), "th": frozenset({"tr"}),
}
_LANG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_DATE = re.compile(r"\d{4}-\d{2}(?:-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})?)?)?"
                   r"|\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?")
_SCOPES = frozenset({"row", "col", "rowgroup", "colgroup"})


# Attributes whose value the content model may refuse: dropped when it does
_CHECKS: dict[str, Callable[[str], bool]] = {
    "lang": lambda v: bool(_LANG.fullmatch(v)), "hreflang": lambda v: bool(_LANG.fullmatch(v)),
    "datetime": lambda v: bool(_DATE.fullmatch(v.strip())), "scope": lambda v: v in _SCOPES,
    "headers": lambda v: False,
}


class _Repair:
    """One fragment's repair; ``changed`` says whether anything was touched."""

    def __init__(self) -> None:
        self.changed = False

    def rename(self, el: etree._Element, tag: str) -> None:
        el.tag = tag
        for name in [n for n in el.attrib if n not in GLOBAL_ATTRS]:
            del el.attrib[name]
        self.changed = True

    def drop_attr(self, el: etree._Element, name: str) -> None:
        del el.attrib[name]
        self.changed = True

    def walk(self, el: etree._Element, phrasing: bool, forbid: frozenset[str]) -> None:
        self.structure(el, phrasing)
        for child in el:
            if not isinstance(child.tag, str):
                continue
            tag = child.tag
            if phrasing and tag not in PHRASING and not (el.tag == "ruby" and tag in ("rt", "rp")):
                self.rename(child, "span")
            elif tag in forbid or ((parents := PARENTS.get(tag)) is not None and el.tag not in parents):
                self.rename(child, "span" if phrasing else "div")
            self.attributes(child)
            tag = child.tag
            inner = phrasing if tag in TRANSPARENT else (tag in PHRASING_ONLY or phrasing)
            more = FORBIDS.get(tag)
            self.walk(child, inner, forbid | more if more else forbid)

    def structure(self, el: etree._Element, phrasing: bool) -> None:
        """What an element's own children must be (lists, definition lists, tables, figures)."""
        tag = el.tag
        if tag in ("ul", "ol"):
            self.changed |= _wrap_runs(el, frozenset({"li"}), "li")
        elif tag == "dl":
            self.definitions(el)
        elif tag == "table":
            self.table(el)
        elif tag == "figure":
            caps = [c for c in el if c.tag == "figcaption"]
            for c in caps:
                if (c is not el[0] and c is not el[-1]) or c is not caps[0]:
                    self.rename(c, "div")
        if not phrasing and tag not in ("ul", "ol") and any(c.tag == "li" for c in el):
            self.changed |= _wrap_runs(el, frozenset(), "ul", only=frozenset({"li"}))

    def definitions(self, dl: etree._Element) -> None:
        self.changed |= _wrap_runs(dl, frozenset({"dt", "dd"}), "dd")
        kinds = [c.tag for c in dl if isinstance(c.tag, str)]
        if kinds and kinds[0] == "dd":
            dl.insert(0, etree.Element("dt"))
            self.changed = True
        if kinds and kinds[-1] == "dt":
            etree.SubElement(dl, "dd")
            self.changed = True

    def table(self, table: etree._Element) -> None:
        order = {"caption": 0, "colgroup": 1, "thead": 2, "tbody": 3, "tr": 3, "tfoot": 4}
        children = [c for c in table if isinstance(c.tag, str)]
        if any(c.tag not in order for c in children):
            return  # stray content: the walk turns it into divs, which a table cannot hold; left as is
        if any(c.tag == "tbody" for c in children) and any(c.tag == "tr" for c in children):
            self.changed |= _wrap_runs(table, frozenset(order) - {"tr"}, "tbody", only=frozenset({"tr"}))
            children = [c for c in table if isinstance(c.tag, str)]
        for part in ("thead", "tfoot"):
            for c in [c for c in children if c.tag == part][1:]:
                c.tag = "tbody"  # one head, one foot: the others are body rows
                self.changed = True
        ranked = sorted(children, key=lambda c: order[c.tag])
        self.one_caption(table, ranked)
        if ranked != children:
            for c in ranked:
                table.append(c)  # moves it (with its tail)
            self.changed = True

    def one_caption(self, table: etree._Element, ranked: list[etree._Element]) -> None:
        """A table has one caption: the others' text joins the first."""
        captions = [c for c in ranked if c.tag == "caption"]
        for extra in captions[1:]:
            captions[0].append(etree.Element("br"))
            _append(captions[0], extra.text or "")
            for c in list(extra):
                captions[0].append(c)
            table.remove(extra)
            ranked.remove(extra)
            self.changed = True

    def attributes(self, el: etree._Element) -> None:
        attrib = el.attrib
        if attrib:  # (most elements of a post have none: nothing to look up)
            for name, ok in _CHECKS.items():
                value = attrib.get(name)
                if value is not None and not ok(value):
                    self.drop_attr(el, name)
        if el.tag == "ol" and el.get("reversed") not in (None, "", "reversed"):
            el.set("reversed", "reversed")
            self.changed = True
        if (el.tag == "data" or (el.tag == "bdo" and el.get("dir") not in ("ltr", "rtl"))
                or (el.tag == "time" and el.get("datetime") is None
                and not _DATE.fullmatch("".join(map(str, el.itertext())).strip()))):
            self.rename(el, "span")


def _wrap_runs(el: etree._Element, keep: frozenset[str], wrapper: str,
               only: frozenset[str] | None = None) -> bool:
    """Wrap each run of ``el``'s children that are not in ``keep`` (and non-blank text) in a new ``wrapper``;
    with ``only``, the runs are of those elements instead (blank text between them kept inside)."""
    def wraps(item: etree._Element | str) -> bool:
        if isinstance(item, str):
            return only is None and bool(item.strip())
        return item.tag in only if only is not None else item.tag not in keep

    items: list[etree._Element | str] = [el.text] if el.text else []
    for c in el:
        items.append(c)
        if c.tail:
            items.append(c.tail)
    if not any(wraps(i) for i in items):
        return False
    for c in list(el):
        c.tail = None
        el.remove(c)
    el.text = None
    run: etree._Element | None = None
    for i, item in enumerate(items):
        if wraps(item) or (run is not None and isinstance(item, str) and not item.strip()
                           and i + 1 < len(items) and wraps(items[i + 1])):
            if run is None:
                run = etree.SubElement(el, wrapper)
            _append(run, item)
        else:
            run = None
            _append(el, item)
    return True


def _append(parent: etree._Element, item: etree._Element | str) -> None:
    if not isinstance(item, str):
        parent.append(item)
    elif len(parent):
        parent[-1].tail = (parent[-1].tail or "") + item
    else:
        parent.text = (parent.text or "") + item


def _drop_dangling_links(root: etree._Element) -> bool:
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    changed = False
    for a in root.iter("a"):
        href = a.get("href")
        if href is not None and href.startswith("#") and href[1:] not in ids:
            del a.attrib["href"]
            for name in ("rel", "hreflang"):
                if name in a.attrib:
                    del a.attrib[name]
            changed = True
    return changed


# Elements with rules of their own in the walk (their parents, children, order or attributes): where one occurs,
# the walk decides whether the fragment fits.
_OWN_RULES = frozenset({"dl", "dt", "dd", "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "td",
                        "th", "figure", "figcaption", "header", "footer", "ruby", "rt", "rp", "data", "bdo", "time"})
_CHECKED_ATTR = re.compile(r"\s(?:lang|hreflang|datetime|scope|headers|reversed)=")
_LISTS = ("ul", "ol")


def _left_as_is(name: str, attrs: str, text: str, parent: str, phrasing: bool, in_link: bool) -> bool:
    """Whether the walk leaves an element (its opening tag, the text before it) as it is."""
    in_list = parent in _LISTS
    return not (name in _OWN_RULES or (phrasing and name not in PHRASING) or (name == "li") != in_list
                or (in_link and name == "a") or (attrs and _CHECKED_ATTR.search(attrs)) or (in_list and text.strip()))


def fitting_depth(clean: str) -> int | None:
    """How deep sanitised HTML nests, when one pass over its tags shows that it fits the content model as it is
    (:func:`repair` would give it back unchanged, as it does most posts); None when it may not, or when its tags
    are not all as nh3 writes them. Each rule of the walk that could change something is checked here, or the
    elements it concerns (``_OWN_RULES``) send the fragment to the walk."""
    if 'href="#' in clean:  # a fragment link, whose target may be gone
        return None
    parts = CLEAN_TAG.split(clean)  # text, "/" or "", name, attributes, text, … (linear: a search from each "<")
    if len(parts) // 4 != clean.count("<"):
        return None
    stack, parent = [""], ""  # the open elements (under the fragment's own root), the innermost
    phrasing = links = deepest = 0  # open phrasing-only elements, open links, the most elements open
    for text, close, name, attrs in zip(parts[0:-1:4], parts[1::4], parts[2::4], parts[3::4], strict=True):
        if close:
            if name != parent or (text and parent in _LISTS and text.strip()):
                return None
            stack.pop()
            parent = stack[-1]
            if name in PHRASING_ONLY:
                phrasing -= 1
            elif name == "a":
                links -= 1
        elif not _left_as_is(name, attrs, text, parent, phrasing > 0, links > 0):
            return None
        elif name not in VOID_ELEMENTS:
            stack.append(name)
            parent = name
            if name in PHRASING_ONLY:
                phrasing += 1
            elif name == "a":
                links += 1
            if len(stack) > deepest:
                deepest = len(stack)
    return None if len(stack) > 1 else max(deepest - 1, 0)


def repair(html: str) -> str:
    """``html`` (nh3's output for one post) fitted to the content model; unchanged when it already fits."""
    if "<" not in html:
        return html
    xml = _VOID_TAG.sub(r"<\1\2/>", html).replace("&nbsp;", "&#160;")
    try:
        root = etree.fromstring(f"<div>{xml}</div>", etree.XMLParser(resolve_entities=False, no_network=True,
                                                                     huge_tree=True))
    except etree.XMLSyntaxError:
        return html  # not what nh3 writes; the editions' own checks stay in charge
    fix = _Repair()
    fix.walk(root, False, frozenset())
    if not (_drop_dangling_links(root) | fix.changed):
        return html
    parts = [_escape_text(root.text or "")]
    parts += [etree.tostring(c, method="html", encoding="unicode", with_tail=True) for c in root]
    return "".join(parts)


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
