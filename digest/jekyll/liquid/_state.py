"""What one render of one post keeps: its problems, where they are, and the work it has done.

python-liquid reports every error through ``Environment.error``; the Jekyll environment hands
them to the ``RenderState`` of the post being rendered, which turns each into one line naming
the post's line (an error inside an include names the line of the ``{% include %}`` and the
include's own file and line).
"""
from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from liquid.exceptions import LiquidError
from liquid.token import TOKEN_TAG, Token

_NEWLINE = re.compile("\n")


@dataclass(frozen=True)
class Limits:
    """Work one post may cause. Counts, never the clock: the same post stops at the same place."""

    loop_iterations: int = 100_000  # product of the lengths of nested loops (python-liquid's limit)
    output_bytes: int = 4_000_000  # the rendered post (python-liquid's output stream limit)
    locals_bytes: int = 4_000_000  # values bound by assign/capture (python-liquid's namespace limit)
    context_depth: int = 30  # nested scopes: loops, includes (python-liquid's context depth limit)
    include_depth: int = 10  # includes inside includes
    includes_per_post: int = 1_000  # include renders in one post: a fan-out of includes stops here
    include_bytes: int = 1_000_000  # one include file
    problems_per_post: int = 20  # problems listed for one post; the rest are counted
    markup_per_post: int = 10_000  # tags and outputs in one post: parse time grows with them


@dataclass(frozen=True)
class LiquidProblem:
    """One problem in one post: the post's line when known and a one-line message."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return self.message if self.line is None else f"{self.message} at line {self.line}"


class Abort(Exception):
    """A work limit was reached: the render stops at once and the post keeps its text."""

    def __init__(self, problem: LiquidProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass(frozen=True)
class IncludeFrame:
    name: str
    line: int | None  # the line of the outermost include tag, in the post
    source: str


def one_line(message: object) -> str:
    text = " ".join(str(message).split())
    return text[:300] + "…" if len(text) > 300 else text


def error_message(err: LiquidError) -> str:
    return one_line(err.message if err.message is not None else type(err).__name__)


@dataclass
class RenderState:
    """Mutable, per render: the environment holds one only while it renders a post."""

    source: str
    first_line: int
    path: str
    page: Mapping[str, Any]
    max_problems: int
    problems: list[LiquidProblem] = field(default_factory=list)
    dropped: int = 0
    includes: list[IncludeFrame] = field(default_factory=list)
    include_count: int = 0
    open_tags: list[Token] = field(default_factory=list)
    anchors: list[int | None] = field(default_factory=list)
    parsing_post: bool = False
    failure: LiquidProblem | None = None  # a syntax error in the post: its Liquid cannot run
    _seen: set[tuple[int | None, str]] = field(default_factory=set)
    _names: set[str] = field(default_factory=set)
    _newlines: dict[int, tuple[str, list[int]]] = field(default_factory=dict)

    def line_in(self, source: str, index: int) -> int:
        """1-based line of an index: newlines are indexed once per text, so that many problems
        in a long post cost a lookup each, not a count over the text."""
        known = self._newlines.get(id(source))
        if known is None or known[0] is not source:
            known = (source, [match.start() for match in _NEWLINE.finditer(source)])
            self._newlines[id(source)] = known
        return bisect_left(known[1], index) + 1

    def add(self, line: int | None, message: str) -> None:
        key = (line, message)
        if key in self._seen:
            return
        self._seen.add(key)
        if len(self.problems) < self.max_problems:
            self.problems.append(LiquidProblem(line, message))
        else:
            self.dropped += 1

    def problem(self, token: Token | None, message: str) -> LiquidProblem:
        line, where = self.locate(token)
        return LiquidProblem(line, one_line(message) + where)

    def report(self, token: Token | None, message: str) -> None:
        found = self.problem(token, message)
        self.add(found.line, found.message)

    def report_error(self, err: LiquidError) -> None:
        """An error python-liquid reports. While the post itself is parsed, the first one is
        why its Liquid cannot run (``failure``)."""
        token = err.token
        message = error_message(err)
        tag = self.open_tags[-1] if self.open_tags else None
        if (token is None or token.start_index < 0) and tag is not None:
            message = f"'{tag.value}' block was never closed (no 'end{tag.value}')"
        elif tag is not None and tag.kind == TOKEN_TAG and not message.startswith(f"{tag.value}:") \
                and f"'{tag.value}'" not in message:
            message = f"{tag.value}: {message}"
        if self.parsing_post and self.failure is None:
            self.failure = self.problem(token, message)
        else:
            self.report(token, message)

    def report_unknown(self, kind: str, name: str, token: Token | None) -> None:
        """Unknown tags and filters: once per post and name, at the first place seen."""
        if f"{kind}:{name}" in self._names:
            return
        self._names.add(f"{kind}:{name}")
        self.report(token, f"unknown Liquid {kind} '{name}'")

    def knows(self, kind: str, name: str) -> bool:
        return f"{kind}:{name}" in self._names

    def locate(self, token: Token | None) -> tuple[int | None, str]:
        """The post line of a token, and where in an include it is when it is in one."""
        if (token is None or token.start_index < 0 or not token.source) and self.open_tags:
            token = self.open_tags[-1]
        valid = token is not None and token.start_index >= 0 and bool(token.source)
        if valid and token is not None and token.source is self.source:
            return self.first_line + self.line_in(self.source, token.start_index) - 1, ""
        if self.includes:
            frame = self.includes[-1]
            inner = ""
            if valid and token is not None and token.source is frame.source:
                inner = f", line {self.line_in(frame.source, token.start_index)}"
            return self.includes[0].line, f" (in include '{frame.name}'{inner})"
        if self.anchors:
            return self.anchors[-1], ""
        return None, ""

    def post_line(self, token: Token) -> int | None:
        """The post line of a tag's own token (the include tag's line when inside an include)."""
        return self.locate(token)[0]

    def final(self) -> tuple[LiquidProblem, ...]:
        if self.dropped:
            more = LiquidProblem(None, f"{self.dropped} more Liquid problems not listed")
            return (*self.problems, more)
        return tuple(self.problems)
