"""Jekyll's array filters: where, where_exp, find, find_exp, group_by, group_by_exp, sort,
sample, push, pop, shift, unshift, array_to_sentence_string.

Expressions (``where_exp: "item", "item.year > 2015"``) are python-liquid boolean and filtered
expressions, parsed once per build and evaluated with the item bound to the variable.
``sample`` is seeded with the post's path: the same post always gets the same sample.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from functools import cmp_to_key
from typing import Any

from liquid import Environment, RenderContext
from liquid.builtin.expressions import BooleanExpression, FilteredExpression, tokenize
from liquid.exceptions import FilterArgumentError, LiquidError
from liquid.expression import Expression
from liquid.filter import with_context
from liquid.stream import TokenStream
from liquid.stringify import to_liquid_string
from liquid.token import TOKEN_EXPRESSION, Token
from liquid.undefined import is_undefined

from ._env import jekyll_env
from ._filters import text, to_integer


def _items(value: object) -> list[Any] | None:
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, (list, tuple)):
        return list(value)
    return None


def _attribute(item: object, key: str) -> object:
    if isinstance(item, Mapping):
        return item.get(key)
    if isinstance(item, (list, tuple)) and key.lstrip("-").isdigit():
        index = int(key)
        return item[index] if -len(item) <= index < len(item) else None
    return None


def item_property(item: object, prop: str) -> object:
    value: object = item
    for key in prop.split(".") if "." in prop else (prop,):
        value = _attribute(value, key)
    return value


def _matches(prop: object, target: object) -> bool:
    if target is None or is_undefined(target):
        return prop is None
    wanted = text(target)
    if isinstance(prop, str):
        return prop == wanted
    values = prop if isinstance(prop, (list, tuple)) else [prop]
    return any(text(value) == wanted for value in values)


def where(value: object, prop: object = None, target: object = None) -> object:
    items = _items(value)
    if items is None or _blank(prop) or isinstance(target, (list, Mapping)):
        return value
    return [item for item in items if _matches(item_property(item, text(prop)), target)]


def find(value: object, prop: object = None, target: object = None) -> object:
    items = _items(value)
    if items is None or _blank(prop):
        return None
    return next((item for item in items if _matches(item_property(item, text(prop)), target)), None)


def _blank(value: object) -> bool:
    return value is None or is_undefined(value) or value == ""


def _parse(env: Environment, source: str, kind: type[Expression]) -> Expression:
    cache = jekyll_env(env).expression_cache
    key = (kind.__name__, source)
    if key not in cache:
        token = Token(TOKEN_EXPRESSION, source, 0, source)
        try:
            stream = TokenStream(tokenize(source, token))
            parsed: Expression = (BooleanExpression.parse(env, stream) if kind is BooleanExpression
                                  else FilteredExpression.parse(env, stream))
        except LiquidError as err:
            raise FilterArgumentError(f"cannot read the expression '{source}': {err.message}", token=None) from err
        cache[key] = parsed
    found = cache[key]
    if not isinstance(found, Expression):
        raise TypeError("expression cache holds something else")
    return found


def _each(context: RenderContext, items: list[Any], variable: object, expression: object,
          kind: type[Expression]) -> list[tuple[Any, object]]:
    parsed = _parse(context.env, text(expression), kind)
    name = text(variable)
    results = []
    namespace: dict[str, object] = {}
    with context.extend(namespace):
        for item in items:
            namespace[name] = item
            results.append((item, parsed.evaluate(context)))
    return results


@with_context
def where_exp(value: object, variable: object, expression: object, *, context: RenderContext) -> object:
    items = _items(value)
    if items is None:
        return value
    return [item for item, keep in _each(context, items, variable, expression, BooleanExpression) if keep]


@with_context
def find_exp(value: object, variable: object, expression: object, *, context: RenderContext) -> object:
    items = _items(value)
    if items is None:
        return None
    return next((item for item, keep in _each(context, items, variable, expression, BooleanExpression) if keep), None)


def _grouped(pairs: Sequence[tuple[Any, str]]) -> list[dict[str, Any]]:
    groups: dict[str, list[Any]] = {}
    for item, key in pairs:
        groups.setdefault(key, []).append(item)
    return [{"name": key, "items": items, "size": len(items)} for key, items in groups.items()]


def group_by(value: object, prop: object) -> object:
    items = _items(value)
    if items is None:
        return value
    return _grouped([(item, text(item_property(item, text(prop)))) for item in items])


@with_context
def group_by_exp(value: object, variable: object, expression: object, *, context: RenderContext) -> object:
    items = _items(value)
    if items is None:
        return value
    pairs = _each(context, items, variable, expression, FilteredExpression)
    return _grouped([(item, to_liquid_string(result, autoescape=False)) for item, result in pairs])


def _compare(a: object, b: object) -> int:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return (a > b) - (a < b)
    left, right = text(a), text(b)
    return (left > right) - (left < right)


def sort(value: object, prop: object = None, nils: object = "first") -> object:
    if value is None or is_undefined(value):
        raise FilterArgumentError("cannot sort a null object", token=None)
    items = _items(value)
    if items is None:
        return value
    if _blank(prop):
        return sorted(items, key=cmp_to_key(_compare))
    if text(nils) not in ("first", "last"):
        raise FilterArgumentError(f"invalid nils order '{text(nils)}': it must be 'first' or 'last'", token=None)
    order = -1 if text(nils) == "first" else 1

    def compare(a: tuple[object, Any], b: tuple[object, Any]) -> int:
        if a[0] is not None and b[0] is None:
            return -order
        if a[0] is None and b[0] is not None:
            return order
        return _compare(a[0], b[0])

    keyed = sorted(((item_property(item, text(prop)), item) for item in items), key=cmp_to_key(compare))
    return [item for _key, item in keyed]


@with_context
def sample(value: object, count: object = 1, *, context: RenderContext) -> object:
    """Seeded with the post's path and the array's length: random-looking, the same each build."""
    items = _items(value)
    if items is None:
        return value
    state = jekyll_env(context.env).state
    chooser = random.Random(f"{state.path if state else ''}|{len(items)}")
    number = to_integer(count)
    if number == 1:
        return chooser.choice(items) if items else None
    return chooser.sample(items, max(0, min(number, len(items))))


def push(value: object, item: object) -> object:
    return [*value, item] if isinstance(value, list) else value


def unshift(value: object, item: object) -> object:
    return [item, *value] if isinstance(value, list) else value


def pop(value: object, count: object = 1) -> object:
    number = max(0, to_integer(count))
    return (value[:-number] if number else list(value)) if isinstance(value, list) else value


def shift(value: object, count: object = 1) -> object:
    number = max(0, to_integer(count))
    return value[number:] if isinstance(value, list) else value


def array_to_sentence_string(value: object, connector: object = "and") -> object:
    items = [text(item) for item in _items(value) or []]
    word = text(connector)
    if len(items) <= 1:
        return items[0] if items else ""
    if len(items) == 2:
        return f"{items[0]} {word} {items[1]}"
    return f"{', '.join(items[:-1])}, {word} {items[-1]}"


def array_filters() -> dict[str, Callable[..., Any]]:
    return {
        "where": where, "where_exp": where_exp, "find": find, "find_exp": find_exp,
        "group_by": group_by, "group_by_exp": group_by_exp, "sort": sort, "sample": sample,
        "push": push, "pop": pop, "shift": shift, "unshift": unshift,
        "array_to_sentence_string": array_to_sentence_string,
    }
