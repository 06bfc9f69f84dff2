"""Jekyll's Liquid source rules: a highlight-aware lexer and the markup-removing fallback.

A ``{% highlight %}`` block is code: Liquid inside it must not run, and code that looks like
Liquid (``{{`` in a Go template, ``{%`` in Jinja) must not break the post. python-liquid's lexer
knows ``{% raw %}`` as a whole-block rule; the highlight block is added as one more such rule, so
raw, comment and highlight regions are recognised by one regular expression in source order.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from liquid import lex
from liquid.token import TOKEN_CONTENT, TOKEN_TAG, Token

from . import _scan

# The tag name the lexer gives a whole highlight block: a space cannot occur in a tag name
# written in a post, so only this lexer can produce it.
HIGHLIGHT_BLOCK = "highlight block"

_HIGHLIGHT = (
    r"\{%-?[ \t\r\n]*highlight\b(?P<hl_args>(?:(?!-?%\})[^\n])*?)[ \t\r\n]*(?P<hl_open_ws>-?)%\}"
    r"(?P<hl_body>.*?)"
    r"\{%-?[ \t\r\n]*endhighlight[ \t\r\n]*(?P<hl_close_ws>-?)%\}"
)
HIGHLIGHT_RE = re.compile(_HIGHLIGHT, re.DOTALL)
_RAW_MARKER = re.compile(r"\{%-?[ \t\r\n]*(?:end)?raw[ \t\r\n]*-?%\}")
_BLANK_LINES_AROUND = re.compile(r"\A(?:[ \t]*\r?\n)+|(?:\r?\n[ \t]*)+\Z")
_BACKTICKS = re.compile(r"`+")
_HIGHLIGHT_OPTION = re.compile(r'\s+(\w+)(?:=(\w+|"(?:[0-9]+\s)*[0-9]+"))?')
_LANG = re.compile(r"[a-zA-Z0-9.+#_-]+")


def _rules() -> re.Pattern[str]:
    base = lex.compile_liquid_rules()
    return re.compile(f"(?P<HIGHLIGHT>{_HIGHLIGHT})|{base.pattern}", re.DOTALL)


def make_tokenizer() -> Callable[[str], Iterator[Token]]:
    """The standard Liquid lexer with one more whole-block rule, for ``{% highlight %}``."""
    rules = _rules()
    tokenize_template: Callable[[str, re.Pattern[str]], Iterator[Token]] = lex._tokenize_template

    def tokenize(source: str) -> Iterator[Token]:
        replaced = range(0)  # the text after a highlight block: the lexer's own tokens for it are replaced
        for token in tokenize_template(source, rules):
            if token.kind == TOKEN_CONTENT and token.start_index in replaced:
                continue
            if token.kind != "HIGHLIGHT":
                yield token
                continue
            yield Token(TOKEN_TAG, HIGHLIGHT_BLOCK, token.start_index, source)
            match = HIGHLIGHT_RE.match(source, token.start_index)
            if match is not None:
                after, end = _text_after(source, match.end(), bool(match.group("hl_close_ws")))
                replaced = range(match.end(), end)
                if after:
                    yield Token(TOKEN_CONTENT, after, match.end(), source)

    return tokenize


def _text_after(source: str, start: int, strip_left: bool) -> tuple[str, int]:
    """The text between a highlight block and the next markup, with whitespace control applied,
    and where it ends. The lexer would apply the whitespace control of the tag before the block
    to it."""
    ends = [index for index in (source.find("{%", start), source.find("{{", start)) if index >= 0]
    end = min(ends, default=len(source))
    text = source[start:end]
    if end + 2 < len(source) and source[end + 2] == "-":
        text = text.rstrip()
    return (text.lstrip() if strip_left else text), end


@dataclass(frozen=True)
class Highlight:
    """One ``{% highlight LANG [linenos] [mark_lines="…"] %}…{% endhighlight %}`` block, as written."""

    lang: str
    options: tuple[tuple[str, str], ...]
    body: str
    bad_options: str  # the markup when it is not Jekyll's highlight syntax, else ""
    inline_after: bool  # text follows the end tag on its line

    @classmethod
    def parse(cls, source: str, start: int) -> Highlight | None:
        match = HIGHLIGHT_RE.match(source, start)
        if match is None:
            return None
        args = match.group("hl_args")
        words = args.split()
        lang = words[0] if words and _LANG.fullmatch(words[0]) else ""
        rest = args.strip()[len(lang):] if lang else args
        options = tuple((m.group(1), (m.group(2) or "").strip('"')) for m in _HIGHLIGHT_OPTION.finditer(rest))
        leftover = _HIGHLIGHT_OPTION.sub("", rest).strip()
        bad = args.strip() if (not lang or leftover) else ""
        body = _BLANK_LINES_AROUND.sub("", _RAW_MARKER.sub("", match.group("hl_body")))
        line_end = source.find("\n", match.end())
        after = source[match.end():] if line_end < 0 else source[match.end():line_end]
        return cls(lang, () if bad else options, body, bad, bool(after.strip()))

    def info_string(self) -> str:
        """``LANG`` plus ``{linenos mark_lines="1 2"}`` when options were given."""
        attrs = [name if not value else f'{name}="{value}"' for name, value in self.options]
        return self.lang + (" {" + " ".join(attrs) + "}" if attrs else "")

    def fenced(self, before: str) -> str:
        """A fenced code block: the body verbatim, in a fence longer than any backtick run in it.
        ``before`` is the output so far on the current line: the fence starts a line of its own,
        indented as that line is when it holds only indentation (a block inside a list item)."""
        longest = max((len(run) for run in _BACKTICKS.findall(self.body)), default=0)
        fence = "`" * max(3, longest + 1)
        inline = bool(before.strip())
        indent = "" if inline else before
        head = "\n" if inline else ""
        tail = "\n" if self.inline_after else ""
        body = self.body + "\n" if self.body else ""
        return f"{head}{fence}{self.info_string()}\n{body}{indent}{fence}{tail}"


def strip_markup(source: str) -> str:
    """The post's text with its Liquid markup removed (see ``_scan.strip_markup``), highlight
    blocks made into code."""

    def fence(line: str, start: int) -> str:
        block = Highlight.parse(source, start)
        return block.fenced(line) if block else ""

    return _scan.strip_markup(source, fence)
