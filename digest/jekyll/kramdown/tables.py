"""kramdown tables (``parser/kramdown/table.rb``): rows are lines with a pipe; ``|---|`` after the
first rows makes them the header, later ones start a new body, ``|===|`` starts the footer; a table
needs no header, starts and ends on block boundaries, and its cells may hold ``|`` in code spans."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.token import Token

from .blocks import after_boundary, before_boundary, in_container, line_text
from .state import kd

_SEP = re.compile(r"([+|: \t-]*?-[+|: \t-]*?)[ \t]*\Z")
_FOOT_SEP = re.compile(r"[+|: \t=]*?=[+|: \t=]*?[ \t]*\Z")
_ALIGN = re.compile(r"[ \t]?(:?)-+(:?)[ \t]?")
_BACKTICKS = re.compile(r"`+")
_PIPE = re.compile(r"(?:^|[^\\])\|")  # kramdown's TABLE_PIPE_CHECK: an unescaped pipe


def split_row(row: str) -> list[str] | None:
    """Cells of a row, split on pipes outside code spans (``\\|`` is a pipe in a cell); None
    when the row has no such pipe, so it is no table line."""
    cells, current, pos, found = [], [], 0, False
    while pos < len(row):
        ch = row[pos]
        if ch == "\\" and row.startswith("\\|", pos):
            current.append("|")
            pos += 2
        elif ch == "`":
            run = _BACKTICKS.match(row, pos)
            assert run is not None
            close = re.compile(rf"(?<!`){re.escape(run[0])}(?!`)").search(row, run.end())
            stop = close.end() if close else run.end()
            current.append(row[pos:stop])
            pos = stop
        elif ch == "|":
            cells.append("".join(current))
            current, found = [], True
            pos += 1
        else:
            current.append(ch)
            pos += 1
    cells.append("".join(current))
    return cells if found else None


def _alignments(sep: str) -> list[str]:
    return ["" if not left and not right else "left" if not right else "right" if not left else "center"
            for left, right in _ALIGN.findall(sep)]


@dataclass
class _Table:
    """A table being read: its finished sections, the rows of the current one, its alignments."""

    sections: list[tuple[str, list[list[str]]]] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    aligns: list[str] = field(default_factory=list)
    has_footer: bool = False

    def close(self, kind: str, force: bool = False) -> None:
        if self.rows and (not self.has_footer or kind != "tbody" or force):
            self.sections.append((kind, self.rows))
            self.rows = []

    def separator(self, text: str) -> bool:
        """A separator line (``|---|``, ``|===|``); False when ``text`` is none."""
        if sep := _SEP.match(text):
            if self.rows and not self.aligns and not self.has_footer:
                self.close("thead")
                self.aligns = _alignments(sep[1]) or [""]
            elif self.rows:
                self.close("tbody")
            return True
        if _FOOT_SEP.match(text):
            self.close("tbody", force=True)
            self.has_footer = True
            return True
        return False


def _parse(state: StateBlock, start: int, end: int) -> tuple[list[tuple[str, list[list[str]]]], list[str], int] | None:
    """The table's sections (thead/tbody/tfoot and their rows), alignments and next line."""
    table = _Table()
    line = start
    leading_pipe = line_text(state, start).lstrip().startswith("|")
    while in_container(state, line, end) and not state.isEmpty(line):
        kd(state.env).charge()
        text = line_text(state, line)
        if not _PIPE.search(text):
            break
        if not table.separator(text):
            cells = split_row(text)
            if cells is None:
                break
            if leading_pipe and cells and not cells[0].strip():
                cells.pop(0)
            if cells and not cells[-1].strip():
                cells.pop()
            table.rows.append(cells)
        line += 1
    if not before_boundary(state, line, end):
        return None
    table.close("tfoot" if table.has_footer else "tbody")
    if not any(kind == "tbody" for kind, _ in table.sections):
        return None
    return table.sections, table.aligns, line


def kramdown_table(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if silent or state.sCount[start] - state.blkIndent >= 4 or not after_boundary(state, start):
        return False
    first = line_text(state, start)
    if not _PIPE.search(first):
        return False
    parsed = _parse(state, start, end)
    if parsed is None:
        return False
    sections, aligns, next_line = parsed
    columns = max((len(row) for _, rows in sections for row in rows), default=0)
    # A cell costs about as much as four parser steps (its tokens and its own inline parse).
    kd(state.env).charge(4 * columns * sum(len(rows) for _, rows in sections))
    aligns = (aligns + [""] * columns)[:columns]
    table = state.push("table_open", "table", 1)
    table.map = [start, next_line]
    for kind, rows in sections:
        state.push(f"{kind}_open", kind, 1)
        for row in rows:
            state.push("tr_open", "tr", 1)
            cell_tag = "th" if kind == "thead" else "td"
            for i in range(columns):
                cell = state.push(f"{cell_tag}_open", cell_tag, 1)
                if aligns[i]:
                    cell.attrSet("style", f"text-align: {aligns[i]}")
                inline = state.push("inline", "", 0)
                inline.content, inline.children = (row[i].strip() if i < len(row) else ""), []
                inline.map = [start, next_line]
                state.push(f"{cell_tag}_close", cell_tag, -1)
            state.push("tr_close", "tr", -1)
        state.push(f"{kind}_close", kind, -1)
    state.push("table_close", "table", -1)
    state.line = next_line
    return True


def use(md: MarkdownIt) -> None:
    md.enable("table")
    md.block.ruler.at("table", kramdown_table)


__all__ = ["Token", "kramdown_table", "split_row", "use"]
