"""``{% include %}``, ``{% include_cached %}`` and ``{% include_relative %}`` in Jekyll's syntax.

``{% include file.html k=v k2="text {{ x }}" %}``: the file comes from the includes folder (or,
for include_relative, from the post's own folder), its parameters are ``include.k`` inside it.
A name that leads outside that folder — ``../``, an absolute path, a symlink out — is refused
before anything is read. Each file is parsed once per build.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TextIO

from liquid import Environment, RenderContext
from liquid.ast import IllegalNode, Node
from liquid.builtin.expressions import parse_primitive, tokenize
from liquid.exceptions import LiquidError
from liquid.expression import Expression
from liquid.stream import TokenStream
from liquid.tag import Tag
from liquid.template import BoundTemplate
from liquid.token import TOKEN_EOF, TOKEN_EXPRESSION, TOKEN_TAG, Token

from ._env import JekyllEnvironment, jekyll_env
from ._scan import unclosed
from ._state import Abort, IncludeFrame, RenderState
from ._support import has_liquid, markup, render_sub, sub_template

_PARAM = re.compile(r"""([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([\w.\-\[\]'"]+))""", re.DOTALL)
_MAX_PARAMS = 8_000  # an unclosed quote is looked for to the end, once per parameter: bounded
_VALID_NAME = re.compile(r"[\w/.\-()+~#@ ]+")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True)
class Parsed:
    template: BoundTemplate
    source: str
    problems: tuple[tuple[int | None, str], ...]  # (line in the include, message) from parsing it


Value = Expression | BoundTemplate | str


class IncludeNode(Node):
    __slots__ = ("file", "kind", "params")

    def __init__(self, token: Token, kind: str, file: str | BoundTemplate, params: dict[str, Value]) -> None:
        super().__init__(token)
        self.kind = kind
        self.file = file
        self.params = params
        self.blank = False

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        env = jekyll_env(context.env)
        state = env.state
        name = self.file if isinstance(self.file, str) else render_sub(self.file, context, self.token)
        name = name.strip()
        if state is None:
            return 0
        found = _locate(env, state, self.kind, name)
        if isinstance(found, str):
            state.report(self.token, f"{self.kind} '{name}': {found}")
            return 0
        parsed = _load(env, found, name)
        if parsed is None:
            state.report(self.token, f"{self.kind} '{name}': cannot be read as UTF-8 text within "
                                     f"{env.limits.include_bytes} bytes")
            return 0
        _count(env, state, self.token, name)
        values = {key: _evaluate(value, context, self.token) for key, value in self.params.items()}
        line = state.post_line(self.token) if not state.includes else state.includes[0].line
        state.includes.append(IncludeFrame(name, line, parsed.source))
        try:
            for inner_line, message in parsed.problems:
                where = f", line {inner_line}" if inner_line else ""
                state.add(line, f"{message} (in include '{name}'{where})")
            with context.extend({"include": values}, template=parsed.template):
                parsed.template.render_with_context(context, buffer, partial=True)
        finally:
            state.includes.pop()
        return 1


def _count(env: JekyllEnvironment, state: RenderState, token: Token, name: str) -> None:
    state.include_count += 1
    if state.include_count > env.limits.includes_per_post:
        raise Abort(state.problem(token, f"more than {env.limits.includes_per_post} includes rendered "
                                         f"(at '{name}')"))
    if len(state.includes) >= env.limits.include_depth:
        raise Abort(state.problem(token, f"includes nested more than {env.limits.include_depth} deep "
                                         f"(recursive include '{name}'?)"))


def _evaluate(value: Value, context: RenderContext, token: Token) -> object:
    if isinstance(value, str):
        return value
    if isinstance(value, BoundTemplate):
        return render_sub(value, context, token)
    return value.evaluate(context)


def _locate(env: JekyllEnvironment, state: RenderState, kind: str, name: str) -> Path | str:
    """The file, or why it is refused. Nothing is read here."""
    site = env.services.site
    if not name:
        return "no file named"
    if "\x00" in name or not _VALID_NAME.fullmatch(name):
        return "invalid file name"
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts or re.search(r"[./]{2,}", name):
        return "outside the includes folder, refused"
    if kind == "include_relative":
        post = Path(state.path)
        post = post if post.is_absolute() else site.root / post
        base = post.parent
    else:
        base = site.includes_dir
    try:
        base = base.resolve()
        target = (base / rel).resolve()
        root = site.root.resolve()
    except (OSError, RuntimeError):
        return "cannot be resolved"
    if not target.is_relative_to(base) or not target.is_relative_to(root):
        return "leads outside the includes folder (symlink?), refused"
    if not target.is_file():
        return "no such file" + ("" if kind == "include_relative" else f" in {site.includes_dir.name}/")
    return target


def _load(env: JekyllEnvironment, path: Path, name: str) -> Parsed | None:
    cache = env.include_cache
    if path in cache:
        cached = cache[path]
        return cached if isinstance(cached, Parsed) else None
    try:
        with path.open("rb") as handle:
            data = handle.read(env.limits.include_bytes + 1)
        text = data.decode("utf-8-sig") if len(data) <= env.limits.include_bytes else None
    except (OSError, UnicodeDecodeError):
        text = None
    parsed = None if text is None else _parse(env, text, name)
    cache[path] = parsed
    return parsed


def _parse(env: JekyllEnvironment, text: str, name: str) -> Parsed:
    """An include is parsed under a state of its own: its problems are kept with it and told to
    every post that uses it, at the line of the post's include tag."""
    outer = env.state
    inner = RenderState(source=text, first_line=1, path=name, page={}, max_problems=20)
    broken = unclosed(text)
    if broken is not None:
        inner.report(Token(TOKEN_TAG, "", broken.index, text), broken.message)
        return Parsed(env.from_string("", name=name), text, tuple((p.line, p.message) for p in inner.final()))
    env.state = inner
    try:
        template = env.from_string(text, name=name)
    except LiquidError as err:
        inner.report_error(err)
        template = env.from_string("", name=name)
    finally:
        env.state = outer
    return Parsed(template, text, tuple((p.line, p.message) for p in inner.final()))


class IncludeTag(Tag):
    name = "include"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        tag = stream.current
        text, token = markup(stream, tag)
        end = _file_end(text)
        state = jekyll_env(self.env).state
        if not end:
            if state is not None:
                state.report(tag, f"{self.name}: no file named")
            return IllegalNode(tag)
        file_text = text[:end]
        file: str | BoundTemplate = sub_template(self.env, file_text, tag) if has_liquid(file_text) else file_text
        params = _params(self.env, text[end:], token, end, tag, self.name)
        return IncludeNode(tag, self.name, file, params)


class IncludeCachedTag(IncludeTag):
    name = "include_cached"


class IncludeRelativeTag(IncludeTag):
    name = "include_relative"


def _file_end(text: str) -> int:
    """Where the file name ends: at the first space outside ``{{ }}`` (``posts/{{ page.kind }}.html``)."""
    index = 0
    while index < len(text) and not text[index].isspace():
        if text.startswith("{{", index):
            close = text.find("}}", index + 2)
            if close < 0:
                return len(text)
            index = close + 2
        else:
            index += 1
    return index


def _params(env: Environment, text: str, token: Token, offset: int, tag: Token, kind: str) -> dict[str, Value]:
    params: dict[str, Value] = {}
    position = 0
    state = jekyll_env(env).state
    if len(text) > _MAX_PARAMS:
        if state is not None:
            state.report(tag, f"{kind}: parameters longer than {_MAX_PARAMS} characters, not read")
        return params
    for match in _PARAM.finditer(text):
        if text[position:match.start()].strip() and state is not None:
            state.report(tag, f"{kind}: cannot read the parameters '{' '.join(text.split())}'")
            return params
        position = match.end()
        key, double, single, bare = match.groups()
        quoted = double if double is not None else single
        if quoted is not None:
            value = _ESCAPE.sub(r"\1", quoted)
            params[key] = sub_template(env, value, tag) if has_liquid(value) else value
        else:
            start = token.start_index + offset + match.start(4)
            try:
                params[key] = _variable(env, bare, Token(TOKEN_EXPRESSION, bare, start, token.source))
            except LiquidError as err:
                if state is not None:
                    state.report(err.token or tag, f"{kind}: parameter {key}={bare}: {err.message}")
    if text[position:].strip() and state is not None:
        state.report(tag, f"{kind}: cannot read the parameters '{' '.join(text.split())}'")
    return params


def _variable(env: Environment, text: str, token: Token) -> Expression:
    stream = TokenStream(tokenize(text, token))
    expression = parse_primitive(env, stream)
    stream.expect(TOKEN_EOF)
    return expression
