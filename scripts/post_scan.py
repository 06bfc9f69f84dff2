"""Mechanical scans of one post's body: Liquid (live or inside raw), code blocks, maths, images, links.

These are plain regular-expression scans, deliberately simpler than a renderer: they give counts a test can trust
without trusting digest. Where a scan is a heuristic, the README says so.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

RAW_BLOCK = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.DOTALL)
COMMENT_BLOCK = re.compile(r"\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}", re.DOTALL)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
TAG = re.compile(r"\{%-?\s*([A-Za-z_]\w*)(.*?)-?%\}", re.DOTALL)
OUTPUT = re.compile(r"\{\{-?(.*?)-?\}\}", re.DOTALL)
FILTER = re.compile(r"\|\s*([A-Za-z_]\w*)")
FENCE_OPEN = re.compile(r"^(?P<indent>[ \t>]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[\w#+.-]*)(?P<rest>(?:[ \t{].*)?)$")
IAL_LANG = re.compile(r"^\s*\{:?\s*[^}]*\.language-([\w#+-]+)")
CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)")
HIGHLIGHT = re.compile(r"\{%-?\s*highlight\s+([\w#+-]+)")
DISPLAY_OR_INLINE_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
MD_IMAGE = re.compile(r"!\[(?:[^\]\\]|\\.|\[[^\]]*\])*\]"  # ![alt] (brackets and escapes allowed inside)
                      r"\(\s*<?([^\s)>]+)>?(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")  # (url "title")
MD_IMAGE_REF = re.compile(r"!\[((?:[^\]\\]|\\.)*)\](?:\[([^\]]*)\])?(?!\()")
LINK_DEF = re.compile(r"^ {0,3}\[([^\]]+)\]:\s*<?(\S+?)>?(?:\s.*)?$", re.MULTILINE)
HTML_IMG = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE | re.DOTALL)
INCLUDE = re.compile(r"\{%-?\s*include(?:_cached)?\s+(\S+)(.*?)-?%\}", re.DOTALL)
PARAM = re.compile(r"([\w-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
IMAGE_PARAMS = {"path", "image_path", "src", "img", "image"}
LINK_TAG = re.compile(r"\{%-?\s*(post_url|link)\s+(.+?)\s*-?%\}", re.DOTALL)
URL_LIQUID = re.compile(r"\{\{-?\s*(['\"])(.*?)\1\s*\|\s*(relative_url|absolute_url)\s*-?\}\}")
SITE_PREFIX = re.compile(r"\{\{-?\s*site\.(?:baseurl|url)\s*-?\}\}")


@dataclass(frozen=True)
class Split:
    """A post body cut into the parts Liquid executes and the parts it leaves as text."""

    live: str
    raw: str


def split_liquid(body: str) -> Split:
    """Text inside `{% raw %}` is output verbatim and `{% comment %}` is dropped; the rest is live Liquid."""
    no_comments = COMMENT_BLOCK.sub("", body)
    raws = [m.group(1) for m in RAW_BLOCK.finditer(no_comments)]
    return Split(live=RAW_BLOCK.sub(" ", no_comments), raw="\n".join(raws))


def liquid_tags(text: str) -> Counter[str]:
    return Counter(m.group(1) for m in TAG.finditer(text))


def liquid_outputs(text: str) -> Counter[str]:
    """The variable each `{{ … }}` starts with (`site.baseurl`, `page.title`, a quoted string is `'…'`)."""
    heads = (m.group(1).strip().split("|")[0].strip() for m in OUTPUT.finditer(text))
    return Counter("'…'" if h[:1] in "'\"" else h for h in heads if h)


def liquid_filters(text: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for m in list(OUTPUT.finditer(text)) + list(TAG.finditer(text)):
        found.update(FILTER.findall(m.group(0)))
    return found


@dataclass(frozen=True)
class Blocks:
    """Prose lines with code removed, and the languages of the fenced/highlighted code blocks."""

    prose: str
    languages: tuple[str, ...]
    plain_fences: int


def code_blocks(body: str, live: str) -> Blocks:
    """Fenced blocks (``` or ~~~, at any indent, kramdown `{: .language-x}` after the fence) and live highlight tags."""
    lines = body.split("\n")
    prose: list[str] = []
    langs: list[str] = []
    plain = 0
    i = 0
    while i < len(lines):
        if _indented_code_starts(lines, i):
            i = _skip_indented(lines, i)
            prose.append("")
            continue
        m = FENCE_OPEN.match(lines[i])
        if not m or ("`" in m.group("rest") and m.group("fence")[0] == "`"):
            prose.append(lines[i])
            i += 1
            continue
        fence = m.group("fence")
        end = i + 1
        closer = re.compile(r"^[ \t>]*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$")
        while end < len(lines) and not closer.match(lines[end]):
            end += 1
        lang = m.group("info").strip()
        if not lang and end + 1 < len(lines):
            ial = IAL_LANG.match(lines[end + 1])
            lang = ial.group(1) if ial else ""
        if lang:
            langs.append(lang)
        else:
            plain += 1
        prose.append("")
        i = end + 1
    langs += HIGHLIGHT.findall(live)
    return Blocks(prose="\n".join(prose), languages=tuple(langs), plain_fences=plain)


LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
INDENTED = re.compile(r"^(?: {4,}|\t)\S")


def _indented_code_starts(lines: list[str], i: int) -> bool:
    """An indented code block: indented 4+ after a blank line that follows an unindented, non-list line."""
    if not INDENTED.match(lines[i]) or i == 0 or lines[i - 1].strip():
        return False
    j = i - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    return j < 0 or not (lines[j][:1].isspace() or LIST_ITEM.match(lines[j]))


def _skip_indented(lines: list[str], i: int) -> int:
    while i < len(lines) and (not lines[i].strip() or lines[i][:4] == "    " or lines[i][:1] == "\t"):
        i += 1
    return i


def strip_code_spans(text: str) -> str:
    return CODE_SPAN.sub(" ", text)


@dataclass(frozen=True)
class Maths:
    display: int
    inline: int
    paren: int  # `\(` or `\[` delimiters written in the source (MathJax-style)


def maths(prose: str) -> Maths:
    """`$$…$$` that starts a paragraph is a block for kramdown; any other `$$…$$` is inline maths."""
    text = strip_code_spans(HTML_COMMENT.sub(" ", prose))
    display = inline = 0
    for m in DISPLAY_OR_INLINE_MATH.finditer(text):
        lines = text[: m.start()].split("\n")
        own_line = lines[-1].strip(" \t>") == ""
        after_blank = len(lines) == 1 or lines[-2].strip(" \t>") == ""
        if own_line and after_blank:
            display += 1
        else:
            inline += 1
    paren = len(re.findall(r"\\\\?[(\[]", text))
    return Maths(display=display, inline=inline, paren=paren)


def resolve_liquid_urls(text: str) -> str:
    """Replace `{{ 'x' | relative_url }}` by `/x` and drop `{{ site.baseurl }}`/`{{ site.url }}` prefixes."""
    text = URL_LIQUID.sub(lambda m: "/" + m.group(2).lstrip("/"), text)
    return SITE_PREFIX.sub("", text)


@dataclass(frozen=True)
class ImageRef:
    ref: str
    via: str  # markdown, markdown-ref, html, include


def image_refs(prose_live: str) -> list[ImageRef]:
    """Images in live prose (code, comments and raw text removed): Markdown, reference-style, <img>, include params."""
    text = resolve_liquid_urls(strip_code_spans(HTML_COMMENT.sub(" ", prose_live)))
    refs = [ImageRef(m.group(1), "markdown") for m in MD_IMAGE.finditer(text)]
    defs = {k.lower(): v for k, v in LINK_DEF.findall(text)}
    for m in MD_IMAGE_REF.finditer(text):
        key = (m.group(2) or m.group(1)).lower()
        if key in defs:
            refs.append(ImageRef(defs[key], "markdown-ref"))
    refs += [ImageRef(next(g for g in m.groups() if g is not None), "html") for m in HTML_IMG.finditer(text)]
    for m in INCLUDE.finditer(text):
        for key, dq, sq in PARAM.findall(m.group(2)):
            if key in IMAGE_PARAMS:
                refs.append(ImageRef(resolve_liquid_urls(dq or sq), "include"))
    return refs


def link_tags(live: str) -> list[tuple[str, str]]:
    """`{% post_url X %}` and `{% link path %}` in live Liquid, with their argument (tags may span lines)."""
    return [(m.group(1), " ".join(m.group(2).split())) for m in LINK_TAG.finditer(live)]


def includes(live: str) -> list[tuple[str, tuple[str, ...]]]:
    """Live `{% include file param=… %}`: the file and the parameter names."""
    return [(m.group(1), tuple(k for k, _, _ in PARAM.findall(m.group(2)))) for m in INCLUDE.finditer(live)]
