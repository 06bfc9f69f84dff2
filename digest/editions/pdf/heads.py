"""The running heads, stamped once the pieces are joined instead of laid out by WeasyPrint on every page.

In the piece modes (``body``, ``front``) the theme's print stylesheet draws no margin boxes: a page's
running head depends only on its page name and on the named string :data:`STRING` (``string(section)``:
the first assignment on the page, else the one carried from the pages before, as CSS GCPM says), so the
worker records that pair for every page (:func:`page_keys`), and the footer sample (``stubs`` mode, which
draws every margin box) gets one page per pair the issue needs. At the join, what WeasyPrint drew on the
sample page of a pair — everything but the footer: the heads, a title wrapped or squeezed by a long
section title included — is copied onto every page with that pair (:func:`learn`, :func:`Head.ops`):
the same operators at the same place, the fonts pointed at the merged PDF's one font per face, the other
resources they name copied. So a stamped head is WeasyPrint's own drawing, not a reconstruction.

What a theme promises by drawing its margin boxes only outside the piece modes: nothing in them but
text that depends on the page name and ``string(section)`` (no page counters but the footer's). A theme
whose stylesheet still draws top margin boxes in a piece is left alone (:func:`page_keys` records no pair
for those pages, so nothing is stamped on them).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pikepdf
from pikepdf import Name

from digest.editions.pdf.glyphs import base_name, parse_unicode
from digest.editions.pdf.stamp import FOOTER_TOTAL, Matrix, _gids, _Reader

STRING = "section"  # the named string the running heads show
HEAD_FONT = "digestH"  # resource names of the heads' fonts: digestH0, digestH1…
HEAD_RESOURCE = "digestR"  # … and of the other resources they name (graphics states, images…)
Key = tuple[str, str]  # (page name, string(section)) of a page: what its heads depend on
_TEXT = {"TJ", "Tj", "'", '"'}
_RESOURCE_OF = {"Tf": "/Font", "gs": "/ExtGState", "Do": "/XObject", "sh": "/Shading", "cs": "/ColorSpace",
                "CS": "/ColorSpace", "scn": "/Pattern", "SCN": "/Pattern", "BDC": "/Properties", "DP": "/Properties"}


def _assignments(page_box: Any, name: str) -> Iterator[str]:
    """The ``string-set`` values of ``name`` on a laid-out page, in the order WeasyPrint collects them (its
    boxes in document order); lazily: the first costs a few boxes, not the whole page."""
    for box in page_box.descendants():
        for string_name, text in getattr(box, "string_set", None) or ():
            if string_name == name:
                yield str(text)


def _draws_heads(page_box: Any) -> bool:
    return any(str(getattr(child, "at_keyword", "")).startswith("@top") and getattr(child, "is_generated", False)
               for child in page_box.children)


def page_keys(pages: Iterable[Any]) -> tuple[list[Key], bool]:
    """Each WeasyPrint page's (name, string(section)) — the value carried over from the pages before when
    none is set on it — and whether the stylesheet drew top margin boxes itself (then a piece gets no
    stamped heads; the samples do)."""
    out: list[Key] = []
    carried = ""  # the most recent assignment before this page (once ``pending`` is read)
    pending: Any = None  # the last page with an assignment, while its last one is not needed yet
    drawn = False
    for page in pages:
        box = page._page_box
        value = next(_assignments(box, STRING), None)
        if value is None:
            if pending is not None:  # (a whole page's boxes read: only before a page that sets nothing)
                carried, pending = list(_assignments(pending, STRING))[-1], None
            value = carried
        else:
            pending = box
        out.append((str(box.page_type.name or ""), value))
        drawn = drawn or _draws_heads(box)
    return out, drawn


def predicted(titles: Iterable[str], contents: str) -> list[Key]:
    """The pairs a digest's pages will have with the default templates: the cover (named ``cover``, no
    string), the contents, each section (its title; "" when the digest has one implicit section)."""
    return list(dict.fromkeys([("", ""), ("cover", ""), ("", contents), *(("", t) for t in titles)]))


@dataclass
class _State:
    ctm: Matrix = (1, 0, 0, 1, 0, 0)
    fill: tuple[Any, ...] = ()  # the fill colour operators in force
    gs: tuple[Any, ...] = ()  # the graphics-state operators in force


@dataclass(frozen=True)
class Head:
    """The heads of one sample page: content-stream operators (resources renamed), the glyphs they draw
    of each merged font (BaseFont → ids), and the copied resources they name ((category, name) → object)."""

    data: bytes
    glyphs: Mapping[str, frozenset[int]]
    fonts: Mapping[str, str]  # BaseFont → resource name
    resources: Mapping[tuple[str, str], Any]


@dataclass
class _Page:
    """One sample page, read: its instructions, the groups (q … Q), the text operators and the state in
    force where each group starts."""

    instrs: list[Any]
    groups: list[tuple[int, int]] = field(default_factory=list)
    texts: dict[int, bool] = field(default_factory=dict)  # instruction index → draws the footer
    states: dict[int, _State] = field(default_factory=dict)  # group start → the state in force


def _read(page: pikepdf.Page, texts: dict[tuple[int, int], dict[int, str]]) -> _Page:
    """``texts``: each font's glyph → text, read once for all the sample's pages (they share their fonts)."""
    fonts: dict[str, tuple[str, dict[int, str]]] = {}
    for key, font in page.obj.Resources.get(Name.Font, {}).items():
        if font.objgen not in texts or font.objgen == (0, 0):
            texts[font.objgen] = parse_unicode(font.ToUnicode.read_bytes()) if Name.ToUnicode in font else {}
        fonts[str(key)] = (base_name(font) or str(key), texts[font.objgen])
    instrs = list(pikepdf.parse_content_stream(page))
    out = _Page(instrs)
    reader = _Reader(fonts)
    stack: list[int] = []
    states = [_State()]
    for k, instr in enumerate(instrs):
        if not isinstance(instr, pikepdf.ContentStreamInstruction):
            continue
        op = str(instr.operator)
        if op == "q":
            stack.append(k)
            out.states[k] = _State(reader.stack[-1].ctm, reader.stack[-1].colour, states[-1].gs)
            states.append(_State(gs=states[-1].gs))
        elif op == "Q" and stack:
            out.groups.append((stack.pop(), k))
            states.pop()
        elif op == "gs":
            states[-1].gs = (instr,)
        before = len(reader.runs)
        reader.graphics(op, instr)
        reader.text(op, list(instr.operands))
        if op in _TEXT:
            drawn = reader.runs[before:]
            out.texts[k] = any(str(FOOTER_TOTAL) in r.text for r in drawn)
    return out


def _chosen(page: _Page) -> list[tuple[int, int]]:
    """The largest groups that draw text and not the footer: the margin boxes but the footer's."""
    chosen: list[tuple[int, int]] = []
    for start, end in sorted(page.groups, key=lambda g: (g[0], -g[1])):
        if any(s <= start and end <= e for s, e in chosen):
            continue
        inside = [footer for k, footer in page.texts.items() if start < k < end]
        if inside and not any(inside):
            chosen.append((start, end))
    loose = [k for k, footer in page.texts.items() if not footer and not any(s < k < e for s, e in chosen)]
    if loose:
        raise ValueError("the sample's running head is not drawn in a group of its own")
    return chosen


class _Copier:
    """Renames the resources the heads name: the merged fonts by BaseFont, the rest copied into ``pdf``."""

    def __init__(self, sample: pikepdf.Pdf, pdf: pikepdf.Pdf, faces: Iterable[str]):
        self.sample, self.pdf, self.faces = sample, pdf, set(faces)
        self.fonts: dict[str, str] = {}
        self.copied: dict[tuple[str, int, int], tuple[str, Any]] = {}
        self.texts: dict[tuple[int, int], dict[int, str]] = {}

    def font_name(self, base: str) -> str:
        return self.fonts.setdefault(base, f"{HEAD_FONT}{len(self.fonts)}")

    def other(self, category: str, obj: Any) -> tuple[str, Any]:
        if not obj.is_indirect:
            obj = self.sample.make_indirect(obj)
        key = (category, *obj.objgen)
        if key not in self.copied:
            copy = self.pdf.copy_foreign(obj)
            self.copied[key] = (f"{HEAD_RESOURCE}{len(self.copied)}", copy)
        return self.copied[key]


def _renamed(instr: Any, op: str, resources: Any, copier: _Copier, used: dict[tuple[str, str], Any],
             fonts: dict[str, str]) -> Any:
    category = _RESOURCE_OF.get(op)
    if category is None:
        return instr
    operands = list(instr.operands)
    for k, value in enumerate(operands):
        if not isinstance(value, pikepdf.Name) or value not in resources.get(Name(category), {}):
            continue
        obj = resources[Name(category)][value]
        base = base_name(obj) if category == "/Font" else None
        if base is not None and base in copier.faces:
            name = copier.font_name(base)
            fonts[base] = name
        else:
            name, copy = copier.other(category, obj)
            used[(category, name)] = copy
        operands[k] = Name("/" + name)
    return pikepdf.ContentStreamInstruction(operands, instr.operator)


def _prelude(state: _State) -> list[Any]:
    return [pikepdf.ContentStreamInstruction([*state.ctm], pikepdf.Operator("cm")), *state.fill, *state.gs]


def learn_page(page: pikepdf.Page, copier: _Copier) -> Head:
    """The heads drawn on one sample page, as operators to add to a page of the same size."""
    read = _read(page, copier.texts)
    resources = page.obj.Resources
    out: list[Any] = []
    used: dict[tuple[str, str], Any] = {}
    fonts: dict[str, str] = {}
    glyphs: dict[str, set[int]] = {}
    for start, end in _chosen(read):
        out.append(pikepdf.ContentStreamInstruction([], pikepdf.Operator("q")))
        out += [_renamed(i, str(i.operator), resources, copier, used, fonts) for i in _prelude(read.states[start])]
        base = ""
        for k in range(start, end + 1):
            instr = read.instrs[k]
            op = str(instr.operator) if isinstance(instr, pikepdf.ContentStreamInstruction) else ""
            if op == "Tf":
                font = resources.get(Name.Font, {}).get(instr.operands[0])
                base = (base_name(font) or "") if font is not None else ""
            elif op in _TEXT and base in copier.faces:
                glyphs.setdefault(base, set()).update(_gids(list(instr.operands)[-1:], "TJ" if op == "TJ" else "Tj"))
            out.append(_renamed(instr, op, resources, copier, used, fonts) if op else instr)
        out.append(pikepdf.ContentStreamInstruction([], pikepdf.Operator("Q")))
    data = pikepdf.unparse_content_stream(out) + b"\n" if out else b""
    return Head(data, {k: frozenset(v) for k, v in glyphs.items()}, fonts, used)


def learn(sample: pikepdf.Pdf, keys: list[Key], pdf: pikepdf.Pdf, faces: Iterable[str]) -> dict[Key, Head]:
    """Every pair's heads from the footer sample (``keys``: its pages' pairs; the first page met wins)."""
    copier = _Copier(sample, pdf, faces)
    out: dict[Key, Head] = {}
    for page, key in zip(sample.pages, keys, strict=True):
        if key not in out:
            out[key] = learn_page(page, copier)
    return out


def needed(pieces: Iterable[tuple[list[Key], bool]]) -> set[Key]:
    """The pairs of the pages that get stamped heads (``pieces``: each one's pairs, and whether it drew its own)."""
    return {k for keys, drawn in pieces if not drawn for k in keys}


def pages_with(parts: Iterable[tuple[list[Key], bool, int]]) -> Iterator[tuple[int, Key]]:
    """(final page index, pair) of every page to stamp (each piece's pairs, whether it drew its own heads,
    and its first page's index)."""
    for keys, drawn, offset in parts:
        if not drawn:
            for i, key in enumerate(keys):
                yield offset + i, key
