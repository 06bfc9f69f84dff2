"""Jekyll's filters on strings, dates and URLs (the array filters are in ``_arrays.py``).

Semantics follow Jekyll 4's ``Jekyll::Filters``: a missing input gives an empty string, dates
carry the site's time zone when written without one, and nothing reads the clock (``"now"``
is the build time the caller gave).
"""
from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, tzinfo
from functools import partial
from typing import Any
from urllib.parse import quote, quote_plus
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as date_parser
from liquid import Environment
from liquid.builtin.filters.misc import date as liquid_date
from liquid.exceptions import FilterArgumentError
from liquid.filter import with_environment
from liquid.undefined import is_undefined
from markdown_it import MarkdownIt

from .site import JekyllSite

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CJK = ("\u1100-\u11ff\u2e80-\u2fdf\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
        "\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f")
_CJK_CHAR = re.compile(f"[{_CJK}]")
_NON_CJK_WORD = re.compile(rf"[^{_CJK}\s]+")
_URL_SAFE = "/:@!$&'()*+,;=-._~%?#[]"
_SCHEME = re.compile(r"\A[a-zA-Z][a-zA-Z0-9+.-]*:|\A//")
_PRETTY_KEEP = frozenset("._~!$&'()+,;=@")
_LATIN_EXTRA = {"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ł": "l",
                "Ł": "L", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D"}
_RUBY_INT = re.compile(r"\s*([+-]?\d[\d_]*)")


def _blank(value: object) -> bool:
    return value is None or is_undefined(value) or value == ""


def text(value: object) -> str:
    """Ruby's ``to_s`` for what Liquid passes around."""
    if value is None or is_undefined(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, Mapping)):
        return ruby_inspect(value)
    return str(value)


def site_zone(config: Mapping[str, Any]) -> tzinfo | None:
    name = config.get("timezone")
    try:
        return ZoneInfo(str(name)) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def to_datetime(value: object, site: JekyllSite, zone: tzinfo | None) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, tz=UTC)
    elif isinstance(value, str) and value.strip() in ("now", "today"):
        if site.time is None:
            raise FilterArgumentError("'now' has no value: the build time was not given", token=None)
        moment = site.time
    else:
        try:
            moment = date_parser.parse(str(value))
        except (ValueError, OverflowError) as err:
            raise FilterArgumentError(f"invalid date '{text(value)}'", token=None) from err
    return moment.replace(tzinfo=zone or UTC) if moment.tzinfo is None else moment


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _date_string(long: bool, site: JekyllSite, zone: tzinfo | None, value: object,
                 kind: object = None, style: object = None) -> object:
    if _blank(value):
        return ""
    moment = to_datetime(value, site, zone)
    month = _MONTHS[moment.month - 1] if long else _MONTHS[moment.month - 1][:3]
    if text(kind) == "ordinal":
        day = _ordinal(moment.day)
        return f"{month} {day}, {moment.year}" if text(style) == "US" else f"{day} {month} {moment.year}"
    return f"{moment.day:02d} {month} {moment.year}"


def _xmlschema(site: JekyllSite, zone: tzinfo | None, value: object) -> str:
    return "" if _blank(value) else to_datetime(value, site, zone).isoformat(timespec="seconds")


def _rfc822(site: JekyllSite, zone: tzinfo | None, value: object) -> str:
    if _blank(value):
        return ""
    moment = to_datetime(value, site, zone)
    return (f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1][:3]} {moment.year} "
            f"{moment:%H:%M:%S} {moment:%z}")


def _date_filter(site: JekyllSite) -> Callable[..., Any]:
    @with_environment
    def date_(value: object, fmt: object, *, environment: Environment) -> object:
        """python-liquid's ``date``, with ``now`` the given build time instead of the clock."""
        if isinstance(value, str) and value.strip() in ("now", "today"):
            value = to_datetime(value, site, None)
        return liquid_date(value, fmt, environment=environment)

    return date_


def xml_escape(value: object) -> str:
    return html.escape(text(value), quote=False).replace('"', "&quot;")


def cgi_escape(value: object) -> str:
    return quote_plus(text(value), safe="")


def uri_escape(value: object) -> str:
    return quote(text(value), safe=_URL_SAFE)


def _relative_url(site: JekyllSite, value: object) -> object:
    if value is None or is_undefined(value):
        return ""
    path = text(value)
    if _SCHEME.match(path):
        return path
    joined = "".join(part if not part or part.startswith("/") else "/" + part for part in (site.baseurl, path))
    return quote(joined, safe=_URL_SAFE)


def _absolute_url(site: JekyllSite, value: object) -> object:
    relative = _relative_url(site, value)
    if value is None or is_undefined(value) or _SCHEME.match(str(relative)):
        return relative
    return quote(site.url, safe=_URL_SAFE) + str(relative)


def _keep_default(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LM" or category == "Nd"


def _transliterate(value: str) -> str:
    out = []
    for char in value:
        char = _LATIN_EXTRA.get(char, char)
        plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        out.append(plain if plain.isascii() else "?")
    return "".join(out)


def slugify(value: object, mode: object = "default", cased: object = False) -> object:
    """Jekyll's ``Utils.slugify``: modes raw, default, pretty, ascii, latin (and none)."""
    if value is None or is_undefined(value):
        return None
    string = text(value)
    kind = "default" if _blank(mode) else text(mode)
    if kind not in ("raw", "default", "pretty", "ascii", "latin"):
        return string if cased is True else string.lower()
    if kind == "latin":
        string = _transliterate(string)
    keep: Callable[[str], bool] = {
        "raw": lambda c: not c.isspace(),
        "pretty": lambda c: _keep_default(c) or c in _PRETTY_KEEP,
        "ascii": lambda c: c.isascii() and c.isalnum(),
    }.get(kind, _keep_default)
    slug = re.sub(r"-+", "-", "".join(c if keep(c) else "-" for c in string)) if kind != "raw" else \
        re.sub(r"\s+", "-", string)
    slug = slug.removeprefix("-").removesuffix("-")
    return slug if cased is True else slug.lower()


def _json_default(value: object) -> object:
    if is_undefined(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple, range)):
        return list(value)
    return str(value)


def jsonify(value: object) -> str:
    return json.dumps(None if is_undefined(value) else value, ensure_ascii=False, separators=(",", ":"),
                      default=_json_default)


def number_of_words(value: object, mode: object = None) -> int:
    string = text(value)
    cjk = len(_CJK_CHAR.findall(string))
    if text(mode) == "cjk" or (text(mode) == "auto" and cjk):
        return cjk + len(_NON_CJK_WORD.findall(string))
    return len(string.split())


def normalize_whitespace(value: object) -> str:
    return " ".join(text(value).split())


def to_integer(value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value)
    match = _RUBY_INT.match(text(value))
    return int(match.group(1).replace("_", "")) if match else 0


def ruby_inspect(value: object) -> str:
    if value is None or is_undefined(value):
        return "nil"
    if isinstance(value, bool):
        return text(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{ruby_inspect(k)}=>{ruby_inspect(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(ruby_inspect(item) for item in value) + "]"
    return str(value)


def inspect(value: object) -> str:
    return xml_escape(ruby_inspect(value))


def _markdownify(convert: Callable[[str], str] | None, value: object) -> str:
    return text(value) if convert is None else convert(text(value))


def text_filters(site: JekyllSite, markdownify: Callable[[str], str] | None) -> dict[str, Callable[..., Any]]:
    zone = site_zone(site.config)
    smart = MarkdownIt("zero", {"typographer": True, "html": True}).enable(
        ["replacements", "smartquotes", "html_inline", "entity"])
    return {
        "date": _date_filter(site),
        "date_to_string": partial(_date_string, False, site, zone),
        "date_to_long_string": partial(_date_string, True, site, zone),
        "date_to_xmlschema": partial(_xmlschema, site, zone),
        "date_to_rfc822": partial(_rfc822, site, zone),
        "xml_escape": xml_escape,
        "cgi_escape": cgi_escape,
        "uri_escape": uri_escape,
        "relative_url": partial(_relative_url, site),
        "absolute_url": partial(_absolute_url, site),
        "markdownify": partial(_markdownify, markdownify),
        "smartify": lambda value: smart.renderInline(text(value)),
        "slugify": slugify,
        "jsonify": jsonify,
        "number_of_words": number_of_words,
        "normalize_whitespace": normalize_whitespace,
        "to_integer": to_integer,
        "inspect": inspect,
    }
