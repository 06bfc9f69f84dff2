"""What a configured value may be, checked when the settings are loaded: one-line text, URLs, a language tag.

A setting reaches every edition: the site title is drawn on the EPUB cover and written into XML, HTML, CSS
and mail headers; ``url`` and the other URLs become links in the web page, the email and the ``.eml``. So a
value is made fit for all of them once, here, and a bad one is one line naming the key (``email.web_url:
'javascript:…' is not an http(s) URL``), never a crash in an edition or a ``javascript:`` link:

- :data:`Line` — one line of text: line breaks, tabs, control characters (C0, C1), the line and paragraph
  separators and the bidi embedding/override/isolate controls become spaces, runs of spaces one space;
- :data:`WebUrl` — empty, or an absolute ``http``/``https`` URL with a host and no white space, control
  character or character a URL cannot hold unencoded (``<>"\\{}|^```);
- :data:`LinkUrl` — the same, or ``mailto:`` with an address;
- :data:`SitePath` — ``baseurl``: a URL path, never a scheme or a host;
- :data:`LangTag` — a BCP 47-like tag (``zh-CN``, ``en``; ``zh_CN`` as Jekyll sites write it);
- :data:`Address` — one email address setting on one line.
"""
from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

_LINE_BAD = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
_URL_BAD = re.compile("[\x00-\x20\x7f-\x9f<>\"\\\\{}|^`\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f"
                      "\u3000\ufeff\ud800-\udfff\ufffe\uffff]")
_LANG = re.compile(r"[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*")
_ADDRESS = re.compile(r"[^@\s<>\"(),;:\\\[\]]+@[^@\s<>\"(),;:\\\[\]]+")


def one_line(text: str) -> str:
    """One line of plain text: controls, line breaks and bidi overrides become spaces; spaces collapsed."""
    return " ".join(_LINE_BAD.sub(" ", text).split())


def _fail(kind: str, message: str, value: str) -> PydanticCustomError:
    shown = one_line(value)
    shown = shown if len(shown) <= 80 else shown[:79] + "…"
    return PydanticCustomError(kind, message, {"value": repr(shown)})


def check_url(value: str, *, mailto: bool = False) -> str:
    """``value`` if it is an absolute http(s) URL with a host (or, when allowed, a ``mailto:`` address)."""
    if value == "":
        return value
    wanted = "an http(s) URL or a mailto: address" if mailto else "an http(s) URL"
    if _URL_BAD.search(value):
        raise _fail("url", f"{{value}} is not {wanted}: it holds white space or a character URLs "
                    "cannot hold", value)
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if mailto and scheme == "mailto":
        if not _ADDRESS.fullmatch(value[7:].split("?", 1)[0]):
            raise _fail("url", "{value} is not a mailto: address", value)
        return value
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number in range)
    except ValueError:
        raise _fail("url", f"{{value}} is not {wanted}", value) from None
    if scheme not in ("http", "https") or not parts.hostname:
        raise _fail("url", f"{{value}} is not {wanted}", value)
    return value


def _web_url(value: str) -> str:
    return check_url(value)


def _link_url(value: str) -> str:
    return check_url(value, mailto=True)


def _site_path(value: str) -> str:
    """``baseurl``: empty or a path (``/blog``); no scheme, host, query, fragment or ``..``."""
    if value == "":
        return value
    segments = value.strip("/").split("/")
    if (_URL_BAD.search(value) or any(c in value for c in "?#:") or value.startswith("//")
            or any(s in ("", "..") for s in segments if value.strip("/"))):
        raise _fail("path", "{value} is not a URL path such as /blog", value)
    return value


def _address(value: str) -> str:
    """An email address setting: one line that a mail header parses back as exactly one address, without
    defects (``Name <user@host>`` or ``user@host``)."""
    from email import policy  # here: only a site with address settings pays for the header parser

    if _LINE_BAD.search(value) or not value.strip():
        raise _fail("address", "{value} is not one email address (a line break or a control character)", value)
    try:
        header = policy.SMTP.header_factory("To", value)
        addresses = header.addresses
        ok = not header.defects and len(addresses) == 1 and bool(addresses[0].username and addresses[0].domain)
    except (ValueError, IndexError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise _fail("address", "{value} is not one email address", value)
    return value.strip()


def _optional_line(value: str | None) -> str | None:
    """:data:`Line`, and nothing left is no value (an author of control characters only is no author)."""
    cleaned = one_line(value) if value is not None else None
    return cleaned or None


def _lang(value: str) -> str:
    if value and not _LANG.fullmatch(value):  # (empty: not set, each post's own or found from its text)
        raise _fail("lang", "{value} is not a language tag such as en or zh-CN", value)
    return value


Line = Annotated[str, AfterValidator(one_line)]
WebUrl = Annotated[str, AfterValidator(_web_url)]
LinkUrl = Annotated[str, AfterValidator(_link_url)]
SitePath = Annotated[str, AfterValidator(_site_path)]
LangTag = Annotated[str, AfterValidator(_lang)]
Address = Annotated[str, AfterValidator(_address)]
OptLine = Annotated[str | None, AfterValidator(_optional_line)]
