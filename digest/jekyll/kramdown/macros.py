"""The definitions a post makes for MathJax, kept for the rest of the post (MathJax keeps them for the whole
page) and expanded before each formula is converted: ``\\def\\name#1{…}``, ``\\newcommand``,
``\\renewcommand``, ``\\providecommand{\\name}[n][default]{…}``, ``\\DeclareMathOperator(*){\\name}{text}``
and ``\\definecolor{name}{rgb|RGB|HTML|gray}{…}`` (``\\require{…}`` is dropped).

Why here and not in latex2mathml: its ``Converter`` does keep ``\\newcommand``/``\\def`` between calls, but
not ``\\renewcommand``/``\\providecommand``, optional arguments with a default, or colours, and the PDF and
email editions draw each formula again from its TeX alone. So each formula is expanded once, in document
order, to self-contained TeX that every edition converts alike. The work is bounded: a macro that expands
into itself stops at :data:`MAX_EXPANSIONS` and is reported.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import tinycss2.color3

MAX_EXPANSIONS = 2_000  # macro uses expanded in one formula
MAX_TOKENS = 40_000  # tokens a formula may grow to while it is expanded
_TOKEN = re.compile(r"\\(?:[A-Za-z@]+|.)?|#[1-9#]|\s+|[^\\#\s]|#", re.S)
_COLOUR_COMMANDS = {"\\color": 1, "\\textcolor": 1, "\\colorbox": 1, "\\fcolorbox": 2}
DEFINITIONS = re.compile(r"\\(?:def|newcommand|renewcommand|providecommand|DeclareMathOperator|definecolor)"
                         r"(?![A-Za-z])")
_NUMBER = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*")


class MacroError(ValueError):
    """A definition or a use that cannot be expanded; the message is one line."""


@dataclass(frozen=True)
class Macro:
    params: int
    default: tuple[str, ...] | None  # the first parameter is optional, with this default
    body: tuple[str, ...]


@dataclass(frozen=True)
class Expanded:
    tex: str
    only_definitions: bool  # the formula defined something and shows nothing
    notes: tuple[str, ...]  # things left out (each said once per post)


def tokens(tex: str) -> list[str]:
    """TeX's tokens as text: control sequences, parameters, spaces, single characters (they join back)."""
    return _TOKEN.findall(tex)


def join(toks: list[str]) -> str:
    """The tokens as TeX, with a space where a control word would otherwise run into a letter."""
    out: list[str] = []
    for tok in toks:
        if out and tok[:1].isalpha() and re.fullmatch(r"\\[A-Za-z@]+", out[-1]):
            out.append(" ")
        out.append(tok)
    return "".join(out)


def colour_hex(model: str, spec: str) -> str:
    """``#rrggbb`` for an xcolor ``\\definecolor`` model and value (MathJax's colour extension accepts these)."""
    model, spec = model.strip(), spec.strip()
    if model == "HTML" and re.fullmatch(r"[0-9A-Fa-f]{6}", spec):
        return "#" + spec.lower()
    parts = spec.split(",")
    numbers = [_NUMBER.fullmatch(p) for p in parts]
    if not all(numbers):
        raise MacroError(f"colour value {spec!r} not understood")
    values = [float(m[1]) for m in numbers if m]
    scale = {"rgb": 1.0, "RGB": 255.0, "gray": 1.0}.get(model)
    if scale is None or len(values) != (1 if model == "gray" else 3) or any(v > scale for v in values):
        raise MacroError(f"colour model {model!r} with value {spec!r} not understood")
    values = values * 3 if model == "gray" else values
    return "#" + "".join(f"{round(v / scale * 255):02x}" for v in values)


def css_colour(name: str) -> str | None:
    """``#rrggbb`` for a CSS colour (a name or ``#hex``); None for anything else."""
    parsed = tinycss2.color3.parse_color(name.strip())
    if not isinstance(parsed, tinycss2.color3.RGBA) or parsed.alpha != 1:
        return None
    return "#" + "".join(f"{round(c * 255):02x}" for c in (parsed.red, parsed.green, parsed.blue))


class Reader:
    """The tokens still to read (a stack, next token last), as TeX's macro arguments are read."""

    def __init__(self, toks: list[str]):
        self.stack = toks[::-1]

    def __bool__(self) -> bool:
        return bool(self.stack)

    def pop(self) -> str:
        return self.stack.pop()

    def push(self, toks: list[str]) -> None:
        self.stack.extend(reversed(toks))
        if len(self.stack) > MAX_TOKENS:
            raise MacroError(f"macros expand to more than {MAX_TOKENS:,} tokens")

    def skip_spaces(self) -> None:
        while self.stack and self.stack[-1].isspace():
            self.stack.pop()

    def peek(self) -> str | None:
        self.skip_spaces()
        return self.stack[-1] if self.stack else None

    def argument(self, what: str) -> list[str]:
        """One argument: a ``{…}`` group's content or a single token."""
        first = self.peek()
        if first is None or first == "}":
            raise MacroError(f"{what} lacks an argument")
        self.pop()
        return self.until("}", what) if first == "{" else [first]

    def optional(self, what: str) -> list[str] | None:
        """A ``[…]`` argument's content, or None when there is none."""
        if self.peek() != "[":
            return None
        self.pop()
        return self.until("]", what)

    def until(self, close: str, what: str) -> list[str]:
        depth, out = 0, list[str]()
        while self.stack:
            tok = self.stack.pop()
            if tok == close and depth == 0:
                return out
            depth += (tok == "{") - (tok == "}")
            out.append(tok)
        raise MacroError(f"{what}: a brace or bracket is not closed")

    def name(self, what: str) -> str:
        got = [t for t in self.argument(what) if not t.isspace()]
        if len(got) != 1 or not got[0].startswith("\\"):
            raise MacroError(f"{what}: {''.join(got)!r} is not a command name")
        return got[0]


def _substitute(macro: Macro, args: list[list[str]]) -> list[str]:
    out: list[str] = []
    for tok in macro.body:
        if tok == "##":
            out.append("#")
        elif len(tok) == 2 and tok[0] == "#" and tok[1].isdigit() and int(tok[1]) <= len(args):
            out += args[int(tok[1]) - 1]
        else:
            out.append(tok)
    return out


class TexMacros:
    """One post's definitions and colours, fed its formulas in document order."""

    def __init__(self) -> None:
        self.macros: dict[str, Macro] = {}
        self.colours: dict[str, str] = {}
        self._noted: set[str] = set()

    def expand(self, tex: str) -> Expanded:
        """The formula with the post's macros expanded and its colours made ``#rrggbb`` or left out;
        :class:`MacroError` for a definition or use that cannot be expanded."""
        if "\\" not in tex:
            return Expanded(tex, False, ())
        notes: list[str] = []
        out, defined = self._expand(Reader(tokens(tex)))
        out = self._colours(out, notes)
        text = join(out)
        return Expanded(text if text != "".join(tokens(tex)) else tex, defined and not text.strip(), tuple(notes))

    def _expand(self, reader: Reader) -> tuple[list[str], bool]:
        out: list[str] = []
        count, defined = 0, False
        while reader:
            tok = reader.pop()
            definer = _DEFINERS.get(tok)
            if definer is not None:
                star = reader.stack[-1:] == ["*"] and bool(reader.pop())
                definer(self, reader, star)
                defined = True
                continue
            macro = self.macros.get(tok)
            if macro is None:
                out.append(tok)
                continue
            count += 1
            if count > MAX_EXPANSIONS:
                raise MacroError(f"macro {tok} expands without end (more than {MAX_EXPANSIONS:,} expansions; "
                                 "is it defined in terms of itself?)")
            reader.push(_substitute(macro, self._arguments(tok, macro, reader)))
        return out, defined

    @staticmethod
    def _arguments(name: str, macro: Macro, reader: Reader) -> list[list[str]]:
        args: list[list[str]] = []
        if macro.default is not None and macro.params:
            opt = reader.optional(name)
            args.append(list(macro.default) if opt is None else opt)
        while len(args) < macro.params:
            args.append(reader.argument(name))
        return args

    def define_command(self, reader: Reader, kind: str) -> None:
        """``\\newcommand``, ``\\renewcommand``, ``\\providecommand``: ``{\\name}[n][default]{body}``."""
        name = reader.name(kind)
        count = reader.optional(kind)
        n_text = "".join(count or []).strip()
        if count is not None and not (n_text.isdigit() and int(n_text) <= 9):
            raise MacroError(f"{kind}{{{name}}}: [{n_text}] is not a number of parameters from 0 to 9")
        default = reader.optional(kind)
        body = reader.argument(f"{kind}{{{name}}}")
        if kind == "\\providecommand" and name in self.macros:
            return
        self.macros[name] = Macro(int(n_text or 0), tuple(default) if default is not None else None, tuple(body))

    def define_def(self, reader: Reader) -> None:
        """``\\def\\name#1#2{body}`` (parameters delimited by other text are not supported)."""
        reader.skip_spaces()
        name = reader.pop() if reader else ""
        if not name.startswith("\\"):
            raise MacroError(f"\\def: {name!r} is not a command name")
        params = []
        while reader and reader.stack[-1] != "{":
            tok = reader.pop()
            if not (tok.startswith("#") and tok[1:].isdigit()):
                raise MacroError(f"\\def{name}: parameters delimited by {tok!r} are not supported")
            params.append(tok)
        self.macros[name] = Macro(len(params), None, tuple(reader.argument(f"\\def{name}")))

    def declare_operator(self, reader: Reader, star: bool) -> None:
        name = reader.name("\\DeclareMathOperator")
        text = reader.argument(f"\\DeclareMathOperator{{{name}}}")
        self.macros[name] = Macro(0, None, ("\\operatorname", *(["*"] if star else []), "{", *text, "}"))

    def define_colour(self, reader: Reader) -> None:
        name = "".join(reader.argument("\\definecolor")).strip()
        model = "".join(reader.argument(f"\\definecolor{{{name}}}"))
        spec = "".join(reader.argument(f"\\definecolor{{{name}}}"))
        try:
            self.colours[name] = colour_hex(model, spec)
        except MacroError as e:
            raise MacroError(f"\\definecolor{{{name}}}: {e}") from None

    def _colours(self, toks: list[str], notes: list[str]) -> list[str]:
        """Colour names as ``#rrggbb`` (a defined colour) or kept (a CSS colour); others left out, said once."""
        reader, out = Reader(toks), list[str]()
        while reader:
            tok = reader.pop()
            if tok not in _COLOUR_COMMANDS:
                out.append(tok)
                continue
            model = reader.optional(tok)
            names = [reader.argument(tok) for _ in range(_COLOUR_COMMANDS[tok])]
            values = [self._colour(tok, model, "".join(n).strip(), notes) for n in names]
            if None in values:
                continue  # the command goes; its content (the next group) stays, uncoloured
            out += [tok, *("{" + v + "}" for v in values if v is not None)]
        return out

    def _colour(self, command: str, model: list[str] | None, name: str, notes: list[str]) -> str | None:
        try:
            value = colour_hex("".join(model), name) if model is not None else (
                self.colours.get(name) or (name if css_colour(name) else None))
        except MacroError:
            value = None
        if value is None and name not in self._noted:
            self._noted.add(name)
            notes.append(f"colour {name!r} ({command}) is neither defined with \\definecolor nor a CSS colour; "
                         "shown in the text colour")
        return value


def _def(m: TexMacros, r: Reader, star: bool) -> None:
    m.define_def(r)


def _skip(m: TexMacros, r: Reader, star: bool) -> None:
    r.argument("\\require")


_DEFINERS = {
    "\\def": _def,
    "\\newcommand": lambda m, r, star: m.define_command(r, "\\newcommand"),
    "\\renewcommand": lambda m, r, star: m.define_command(r, "\\renewcommand"),
    "\\providecommand": lambda m, r, star: m.define_command(r, "\\providecommand"),
    "\\DeclareMathOperator": lambda m, r, star: m.declare_operator(r, star),
    "\\definecolor": lambda m, r, star: m.define_colour(r),
    "\\require": _skip,
}
