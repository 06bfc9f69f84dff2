"""A linear-time walk over a post's Liquid markup: the gate before python-liquid's lexer, and the
markup remover used when a post's Liquid cannot run.

python-liquid's lexer tries each ``{{``, ``{% raw %}`` and ``{% doc %}`` against the rest of the
text; when one is never closed, every one of them scans to the end: 8,000 unclosed ``{% raw %}``
take 40 seconds. This walk finds each closer once (and remembers which closers do not exist at
all), so a post whose markup is never closed is known for what it is in one pass.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_OPENER = re.compile(r"\{\{|\{%")
_TAG_NAME = re.compile(r"\{%-?\s*(#|\w*)")
_RAW_OPEN = re.compile(r"\{%-?\s*raw\s*-?%\}")
_DOC_OPEN = re.compile(r"\{%-?\s*doc\s*-?%\}")
_HIGHLIGHT_OPEN = re.compile(r"\{%-?[ \t\r\n]*highlight\b(?:(?!-?%\})[^\n])*?[ \t\r\n]*-?%\}")
_CLOSERS = {
    "raw": re.compile(r"\{%-?\s*endraw\s*-?%\}"),
    "doc": re.compile(r"\{%-?\s*enddoc\s*-?%\}"),
    "highlight": re.compile(r"\{%-?[ \t\r\n]*endhighlight[ \t\r\n]*-?%\}"),
}
_BLANK_LINE = re.compile(r"\n[ \t]*\r?\n")


@dataclass(frozen=True)
class Piece:
    """``text``, ``output`` ({{…}}), ``tag`` ({%…%}), ``raw`` (body at ``inner``), ``highlight``,
    ``comment``, ``doc``, or ``stray`` (an opener never closed: its two characters)."""

    kind: str
    start: int
    end: int
    inner: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Unclosed:
    message: str
    index: int
    opener_end: int  # the end of the opening tag, or of the two characters when it has no end


class _Walk:
    """Each closer is looked for once per place it is found: a search from between the last
    search's start and its answer has the same answer, and a closer found nowhere is never
    looked for again."""

    def __init__(self, source: str, lenient: bool) -> None:
        self.source = source
        # lenient: an unclosed opener is dropped, and markup spans no blank line and no other opener
        self.lenient = lenient
        self.absent: set[str] = set()
        self.ahead: dict[str, tuple[int, int, int]] = {}  # closer -> (searched from, its start, its end)
        self.blank = -1  # the next blank line at or after the last position asked about

    def find(self, closer: str, start: int) -> int:
        found = self._locate(closer, start)
        if found is None:
            return -1
        if self.lenient and found[0] > self._next_blank(start):
            return -1
        return found[0]

    def search(self, name: str, start: int) -> tuple[int, int] | None:
        return self._locate(name, start)

    def _locate(self, closer: str, start: int) -> tuple[int, int] | None:
        if closer in self.absent:
            return None
        known = self.ahead.get(closer)
        if known is not None and known[0] <= start <= known[1]:
            return known[1], known[2]
        if closer in _CLOSERS:
            match = _CLOSERS[closer].search(self.source, start)
            found = match.span() if match else None
        else:
            index = self.source.find(closer, start)
            found = (index, index + len(closer)) if index >= 0 else None
        if found is None:
            self.absent.add(closer)
        else:
            self.ahead[closer] = (start, *found)
        return found

    def _next_blank(self, start: int) -> int:
        if self.blank < start:
            match = _BLANK_LINE.search(self.source, start)
            self.blank = match.start() if match else len(self.source)
        return self.blank


def walk(source: str, *, lenient: bool) -> tuple[list[Piece], Unclosed | None]:
    """The pieces of the source in order. Strict: stops at the first opener never closed and
    says which. Lenient: such an opener is a ``stray`` and the walk goes on."""
    state = _Walk(source, lenient)
    pieces: list[Piece] = []
    position = 0
    while (opener := _OPENER.search(source, position)) is not None:
        start = opener.start()
        if start > position:
            pieces.append(Piece("text", position, start))
        found = _output(state, start) if opener.group() == "{{" else _tag(state, start)
        if isinstance(found, Unclosed):
            if not lenient:
                return pieces, found
            found = Piece("stray", start, found.opener_end)
        pieces.append(found)
        position = found.end
    if position < len(source):
        pieces.append(Piece("text", position, len(source)))
    return pieces, None


def _output(state: _Walk, start: int) -> Piece | Unclosed:
    end = state.find("}}", start + 2)
    if end < 0 or (state.lenient and state.source.find("{{", start + 2, end) >= 0):
        return Unclosed("'{{' was never closed (no '}}')", start, start + 2)
    return Piece("output", start, end + 2)


def _tag(state: _Walk, start: int) -> Piece | Unclosed:
    source = state.source
    for block, opener in (("raw", _RAW_OPEN), ("doc", _DOC_OPEN), ("highlight", _HIGHLIGHT_OPEN)):
        head = opener.match(source, start)
        if head is not None:
            closer = state.search(block, head.end())
            if closer is None:
                return Unclosed(f"'{block}' block was never closed (no 'end{block}')", start, head.end())
            return Piece(block, start, closer[1], (head.end(), closer[0]))
    end = state.find("%}", start + 2)
    if end < 0 or (state.lenient and source.find("{%", start + 2, end) >= 0):
        return Unclosed("'{%' was never closed (no '%}')", start, start + 2)
    name = _TAG_NAME.match(source, start)
    if name is not None and name.group(1) == "comment" and "comment" not in state.absent:
        return _comment(state, start, end + 2)
    return Piece("tag", start, end + 2)


def _comment(state: _Walk, start: int, position: int) -> Piece | Unclosed:
    """Comments nest, as in python-liquid: the tags inside are counted, their text is not read."""
    source = state.source
    depth = 1
    while (inner := source.find("{%", position)) >= 0:
        end = state.find("%}", inner + 2)
        if end < 0:
            break
        name = _TAG_NAME.match(source, inner)
        word = name.group(1) if name else ""
        depth += 1 if word == "comment" else -1 if word == "endcomment" else 0
        position = end + 2
        if depth == 0:
            return Piece("comment", start, position)
    state.absent.add("comment")  # walked to the end: a later comment cannot close either
    opener_end = source.index("%}", start) + 2
    return Unclosed("'comment' block was never closed (no 'endcomment')", start, opener_end)


def unclosed(source: str) -> Unclosed | None:
    """The first opener never closed, if any: python-liquid is not given such a text."""
    return walk(source, lenient=False)[1]


def strip_markup(source: str, fence: Callable[[str, int], str]) -> str:
    """The text with every Liquid tag and output removed: what a reader keeps of a post whose
    Liquid cannot run. Raw blocks keep their content, highlight blocks become code (``fence``),
    comments go; an opener never closed loses only its two characters."""
    out: list[str] = []
    line = ""  # the output's current line, as far back as a fence needs to look
    for piece in walk(source, lenient=True)[0]:
        if piece.kind == "text":
            text = source[piece.start:piece.end]
        elif piece.kind == "raw":
            text = source[piece.inner[0]:piece.inner[1]]
        elif piece.kind == "highlight":
            text = fence(line, piece.start)
        else:
            continue
        out.append(text)
        line = text.rsplit("\n", 1)[-1] if "\n" in text else (line + text)[-256:]
    return "".join(out)
