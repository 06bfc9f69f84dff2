"""Sanitising HTML: nothing a post says is trusted.

nh3 (ammonia) keeps an allowlist of tags and attributes and the http(s)/mailto URL schemes only; every id
is prefixed with the article's id (unique across the digest) and ``#fragment`` links follow; relative,
site-relative and protocol-relative links are resolved against the post's URL; nesting is bounded.
"""
from __future__ import annotations

import re
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlsplit, urlunsplit

import nh3

from digest.errors import PostError
from digest.render.links import absolutize
from digest.render.structure import CLEAN_TAG, VOID_ELEMENTS, fitting_depth, repair

# Interactive or strictly structured elements (details/summary, hgroup) go too: XHTML readers reject them half-made.
TAGS = frozenset(nh3.ALLOWED_TAGS - {"acronym", "center", "strike", "tt", "map", "area", "rtc", "details", "summary",
                                     "hgroup"} | {"tfoot"})  # kramdown writes a table's footer rows in <tfoot>
ATTRIBUTES = {
    "*": {"id", "lang", "title", "dir"},
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "headers", "scope"},
    "ol": {"start", "reversed"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "time": {"datetime"},
}
URL_SCHEMES = {"http", "https", "mailto"}
# Numeric attributes: the values the content model takes (a colspan of 0 is invalid, of 10^9 a hang)
_NUMBERS = {"width": (0, 100_000), "height": (0, 100_000), "colspan": (1, 1000), "rowspan": (0, 65534),
            "start": (0, 10**9)}
# The allowlists as nh3 takes them (built once, not per post; nh3 only reads them)
_NH3_TAGS = set(TAGS)
_NH3_ATTRIBUTES = {k: set(v) for k, v in ATTRIBUTES.items()}
_NH3_SCHEMES = set(URL_SCHEMES)
_PLACEHOLDER = re.compile("\ue000[mc]\\d+\ue001")  # digest.jekyll.kramdown's tokens (filled after sanitising)
_ID_BAD = re.compile(r"[^A-Za-z0-9_.\-]")
MAX_HTML_DEPTH = 100  # elements inside each other in a sanitised body (WeasyPrint, libxml2 and readers)
_PRE_DEPTH = 1_000  # a rough count before sanitising: keeps the HTML parser away from its quadratic cases
_URL_ESCAPE = re.compile(r'[ "<>\\^`{|}]')  # not allowed in a URL as written: percent-encoded
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_NETLOC_BAD = re.compile(r"[^\w.:@\[\]!$&'()*+,;=~-]")
# An http(s) URL that safe_link would give back as it is: a plain host, then only characters that quote keeps,
# "?" and "#" each followed by something (urlunsplit drops an empty query or fragment). Most links are such.
_VALID_LINK = re.compile(r"https?://[A-Za-z0-9.-]+(?:/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*)?"
                         r"(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]+)?(?:#[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]+)?")
# nh3 gives every <a> a rel; without an href, HTML forbids it (EPUBCheck says so): removed there.
_A_WITHOUT_HREF = re.compile(r'<a((?:\s+(?!href=)[^\s"\'>/=]+(?:="[^"]*")?)*) rel="noopener noreferrer"((?:\s+(?!href=)'
                             r'[^\s"\'>/=]+(?:="[^"]*")?)*)>')
_HTTP_START = re.compile(r"(?i)\s*https?:")
_HTTP = re.compile(r"(?i)https?://[^\s\x00-\x1f\x7f]+\Z")
# Elements that an element of the same name closes (or that cannot nest): they add one level at most.
_NO_SELF_NEST = frozenset({"p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot",
                           "a", "nobr", "button", "form", "rb", "rt", "rp", "rtc", "caption", "colgroup", "h1", "h2",
                           "h3", "h4", "h5", "h6", "html", "head", "body"})
_ANY_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")


@contextmanager
def _interrupt_held() -> Iterator[None]:
    """Ctrl-C while nh3 calls back into Python would be printed and lost there (even on the callback's
    first line, before any ``try``): hold it until nh3 returns, then raise it."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    held: list[int] = []
    signal.signal(signal.SIGINT, lambda *_: held.append(1))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if held:
        raise KeyboardInterrupt


def estimated_depth(html: str) -> int:
    """An upper-ish estimate of how deep raw (unsanitised) HTML nests, in one linear pass."""
    counts: dict[str, int] = {}
    depth = deepest = 0
    for m in _ANY_TAG.finditer(html):
        name = m[2].lower()
        if name in VOID_ELEMENTS:
            continue
        n = counts.get(name, 0)
        if m[1]:
            if n:
                counts[name] = n - 1
                if name not in _NO_SELF_NEST or n == 1:
                    depth -= 1
        else:
            counts[name] = n + 1
            if name not in _NO_SELF_NEST or n == 0:
                depth += 1
                deepest = max(deepest, depth)
    return deepest


def html_depth(clean: str) -> int:
    """How deep sanitised (well-formed) HTML nests."""
    depth = deepest = 0
    for m in CLEAN_TAG.finditer(clean):
        if m[2] in VOID_ELEMENTS:
            continue
        if m[1]:
            depth -= 1
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def _quote(part: str, safe: str) -> str:
    return quote(_LONE_PERCENT.sub("%25", part), safe=safe + "%")


def safe_link(url: str | None) -> str | None:
    """An absolute http(s) URL, written as a valid URL (percent-encoded where needed), else None."""
    if not url:
        return None
    if _VALID_LINK.fullmatch(url) and ("%" not in url or not _LONE_PERCENT.search(url)):
        return url  # what the round trip gives it back as (most links: tests/test_render_shortcuts.py)
    return link_round_trip(url)


def link_round_trip(url: str) -> str | None:
    """:func:`safe_link` the long way: escaped, split, checked and put together again."""
    url = _URL_ESCAPE.sub(lambda m: f"%{ord(m[0]):02X}", url.strip())
    if not _HTTP.match(url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (ValueError: "//javascript:alert(1)" resolved to a host with a port "alert(1)")
    except ValueError:  # e.g. a bad IPv6 literal
        return None
    if not parts.hostname or _NETLOC_BAD.search(parts.netloc):
        return None
    return urlunsplit((parts.scheme.lower(), parts.netloc, _quote(parts.path, _PATH_SAFE),
                       _quote(parts.query, _PATH_SAFE + "?"), _quote(parts.fragment, _PATH_SAFE + "?")))


def safe_mailto(url: str) -> str | None:
    """A ``mailto:`` URL written as a valid URL (``<``, spaces, quotes… percent-encoded), else None."""
    rest = url.strip()[7:]
    address = rest.split("?", 1)[0]
    if "@" not in address.strip("@"):
        return None
    return "mailto:" + _quote(rest, "@!$&'()*+,;=:/?~-._")


class _Callbacks:
    """What nh3 calls back for one fragment: ids made unique and prefixed, URLs resolved and checked.

    nh3 prints an exception raised in a callback and goes on without it (even Ctrl-C): each one is kept
    here, and raised once nh3 returns."""

    def __init__(self, post_id: str, base_url: str, site_url: str):
        self.post_id, self.base_url, self.site_url = post_id, base_url, site_url
        self.seen: set[str] = set()
        self.raised: list[BaseException] = []

    def relative(self, url: str) -> str | None:
        if url.startswith("#"):
            return f"#{self.post_id}.{_ID_BAD.sub('_', url[1:])}" if len(url) > 1 else None
        # What the sanitiser calls relative may still read as a scheme to a browser or to urljoin
        # (" javascript:" with a leading no-break space): only an http(s) result is kept.
        return safe_link(absolutize(url, self.base_url, self.site_url))

    def attribute(self, tag: str, attr: str, value: str) -> str | None:
        if "\ue000" in value:  # a formula or code block belongs in text, never in an attribute
            value = _PLACEHOLDER.sub("", value)
        if attr == "id":
            new = f"{self.post_id}.{_ID_BAD.sub('_', value)}"  # "." never occurs in a post id: no clash
            while new in self.seen:
                new += "_"
            self.seen.add(new)
            return new
        if attr in _NUMBERS:
            low, high = _NUMBERS[attr]
            return value.strip() if value.strip().isdigit() and low <= int(value) <= high else None
        if attr == "dir":
            return value if value in ("ltr", "rtl", "auto") else None
        if attr == "cite":  # a URL the sanitiser does not check itself
            return safe_link(absolutize(value, self.base_url, self.site_url))
        if attr in ("href", "src") and _HTTP_START.match(value):
            return safe_link(value)  # absolute http(s): written as a valid URL
        if attr == "href" and value[:7].lower() == "mailto:":
            return safe_mailto(value)
        return value

    def passing_on(self, fn: Callable[..., str | None]) -> Callable[..., str | None]:
        def call(*args: str) -> str | None:
            try:
                return fn(*args)
            except BaseException as e:  # raised again once nh3 returns
                self.raised.append(e)
                return None
        return call


class Sanitizer:
    """nh3 (ammonia) with digest's allowlist: ids prefixed per article, links resolved and made valid."""

    def __init__(self, site_url: str):
        self.site_url = site_url

    def sanitize(self, fragment: str, post_id: str, base_url: str) -> str:
        # Every level of nesting takes a tag, and every tag a "<": too few of them cannot go too deep.
        rough = estimated_depth(fragment) if fragment.count("<") > _PRE_DEPTH else 0
        if rough > _PRE_DEPTH:
            raise PostError(f"HTML nested about {rough:,} levels deep (the limit is {MAX_HTML_DEPTH})")
        calls = _Callbacks(post_id, base_url, self.site_url)
        with _interrupt_held():
            clean = nh3.clean(
                fragment, tags=_NH3_TAGS, attributes=_NH3_ATTRIBUTES,
                attribute_filter=calls.passing_on(calls.attribute), url_relative=calls.passing_on(calls.relative),
                url_schemes=_NH3_SCHEMES, link_rel="noopener noreferrer", strip_comments=True,
            )
        if calls.raised:
            raise calls.raised[0]
        clean = _A_WITHOUT_HREF.sub(r"<a\1\2>", clean)
        depth = fitting_depth(clean)  # (one pass over the tags: most posts need no repair)
        fits = depth is not None
        if depth is None:
            depth = html_depth(clean) if clean.count("<") > MAX_HTML_DEPTH else 0
        if depth > MAX_HTML_DEPTH:
            raise PostError(f"HTML nested {depth:,} levels deep (the limit is {MAX_HTML_DEPTH})")
        return clean if fits else repair(clean)
