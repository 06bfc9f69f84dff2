"""Markdown with raw HTML → sanitised HTML; attribution, summary and site-chrome removal.

Every format shows the same sanitised fragment; nothing a post says is trusted: nh3 (ammonia)
keeps an allowlist of tags and attributes and the http(s)/mailto URL schemes only.
"""
from __future__ import annotations

import html as htmllib
import re
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any, Callable, Iterator
from urllib.parse import quote, urlsplit, urlunsplit

import nh3
from markdown_it import MarkdownIt

from digest.sources.collect import SourcePost, clean_line
from digest.errors import PostError
from digest.render.links import absolutize, permalink_path
from digest.model import Attribution, Post
from digest.config.settings import Settings

# Interactive or strictly structured elements (details/summary, hgroup) go too: XHTML readers reject them half-made.
TAGS = frozenset(nh3.ALLOWED_TAGS - {"acronym", "center", "strike", "tt", "map", "area", "rtc", "details", "summary",
                                     "hgroup"})
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
# The allowlists as nh3 takes them (built once, not per post; nh3 only reads them)
_NH3_TAGS = set(TAGS)
_NH3_ATTRIBUTES = {k: set(v) for k, v in ATTRIBUTES.items()}
_NH3_SCHEMES = set(URL_SCHEMES)
# Front-matter keys digest understands; every other key goes to ``Post.extra``.
KNOWN_KEYS = frozenset({
    "layout", "title", "date", "categories", "category", "tags", "tag", "published", "slug", "permalink",
    "source", "outlet", "source_url", "original_url", "original", "canonical_url", "link", "author",
    "excerpt", "description", "summary",
})
_OUTLET_KEYS = ("source", "outlet")
_URL_KEYS = ("source_url", "original_url", "original", "canonical_url", "link")
_SUMMARY_KEYS = ("excerpt", "description", "summary")
_BLOCK_END = re.compile(r"</(?:p|div|li|h[1-6]|blockquote|tr|pre|table|ul|ol|dl|dt|dd|figure|figcaption|section|article)>|<br\s*/?>", re.I)
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_ID_BAD = re.compile(r"[^A-Za-z0-9_.\-]")
_LEAD_QUOTE = re.compile(r"^\s*<blockquote>(.*?)</blockquote>", re.S)
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
_LATIN = re.compile(r"[A-Za-z0-9]")

# Limits on the work one post may cause (docs/safety.md). Deterministic: counts, never the clock.
MAX_MARKDOWN_STEPS = 300_000  # Markdown parser rule runs (≈ tokens): bounds time (seconds) and memory
MAX_HTML_DEPTH = 100  # elements inside each other in a sanitised body (WeasyPrint, libxml2 and readers)
_PRE_DEPTH = 1_000  # a rough count before sanitising: keeps the HTML parser away from its quadratic cases
_URL_ESCAPE = re.compile(r'[ "<>\\^`{|}]')  # not allowed in a URL as written: percent-encoded
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_NETLOC_BAD = re.compile(r"[^\w.:@\[\]!$&'()*+,;=~-]")
# nh3 gives every <a> a rel; without an href, HTML forbids it (EPUBCheck says so): removed there.
_A_WITHOUT_HREF = re.compile(r'<a((?:\s+(?!href=)[^\s"\'>/=]+(?:="[^"]*")?)*) rel="noopener noreferrer"((?:\s+(?!href=)'
                             r'[^\s"\'>/=]+(?:="[^"]*")?)*)>')
_HTTP_START = re.compile(r"(?i)\s*https?:")
_HTTP = re.compile(r"(?i)https?://[^\s\x00-\x1f\x7f]+\Z")
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                   "track", "wbr", "keygen", "frame", "basefont", "bgsound", "image"})
# Elements that an element of the same name closes (or that cannot nest): they add one level at most.
_NO_SELF_NEST = frozenset({"p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot",
                           "a", "nobr", "button", "form", "rb", "rt", "rp", "rtc", "caption", "colgroup", "h1", "h2",
                           "h3", "h4", "h5", "h6", "html", "head", "body"})
_ANY_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
# Sanitised HTML is well formed, attribute values are double-quoted and text has no raw "<": exact.
_CLEAN_TAG = re.compile(r'<(/?)([a-z][a-z0-9]*)(?:\s+[^\s"\'>/=]+(?:="[^"]*")?)*\s*/?>')


class _TooMuchWork(Exception):
    pass


def _count_step(env: dict) -> None:
    n = env["_steps"] = env.get("_steps", 0) + 1
    if n > MAX_MARKDOWN_STEPS:
        raise _TooMuchWork


def _block_budget(state: Any, start: int, end: int, silent: bool) -> bool:
    _count_step(state.env)
    return False


def _inline_budget(state: Any, silent: bool) -> bool:
    _count_step(state.env)
    return False


def _block_tokens_budget(state: Any) -> None:
    if len(state.tokens) > MAX_MARKDOWN_STEPS:
        raise _TooMuchWork


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
        if name in _VOID:
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
    for m in _CLEAN_TAG.finditer(clean):
        if m[2] in _VOID:
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
    url = _URL_ESCAPE.sub(lambda m: "%{:02X}".format(ord(m[0])), url.strip())
    if not _HTTP.match(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a bad IPv6 literal
        return None
    if not parts.hostname or _NETLOC_BAD.search(parts.netloc):
        return None
    return urlunsplit((parts.scheme.lower(), parts.netloc, _quote(parts.path, _PATH_SAFE),
                       _quote(parts.query, _PATH_SAFE + "?"), _quote(parts.fragment, _PATH_SAFE + "?")))


def plain_text(fragment: str) -> str:
    """Readable plain text of an HTML fragment: one line per block, entities decoded."""
    text = nh3.clean(_BLOCK_END.sub("\n", fragment), tags=set())
    lines = (_SPACES.sub(" ", htmllib.unescape(line)).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def cut(text: str, limit: int) -> str:
    """Cut on a character boundary; never inside a Latin word; CJK text may break anywhere."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[:limit]
    if _LATIN.match(text[limit]) and _LATIN.match(head[-1]) and " " in head:
        head = head[: head.rindex(" ")]
    return head.rstrip(" ,.;:，。；：、") + "…"


def _line(value: Any, limit: int = 200) -> str | None:
    """A front-matter value shown on one line (outlet, author): text only, cleaned and bounded."""
    if value is None or isinstance(value, (dict, list, tuple, set, bool)):
        return None
    text = clean_line(str(value))[:limit]
    return text or None


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    text: str


class ContentRenderer:
    """Turns a :class:`SourcePost` into a :class:`Post`; one instance per build (compiled rules)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        rules = settings.attribution
        self._sources = [re.compile(p, re.M) for p in rules.source_patterns]
        self._url_line = re.compile(rules.original_url_pattern, re.M)
        self._chrome = [re.compile(p, re.M) for p in rules.chrome_patterns]

    @cached_property
    def _md(self) -> MarkdownIt:
        md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable("table")
        md.block.ruler.before(md.block.ruler.get_active_rules()[0], "digest_budget", _block_budget)
        md.inline.ruler.before(md.inline.ruler.get_active_rules()[0], "digest_budget", _inline_budget)
        md.core.ruler.after("block", "digest_budget", _block_tokens_budget)
        return md

    def markdown(self, body: str) -> str:
        """Markdown (raw HTML allowed) → unsanitised HTML; PostError past ``MAX_MARKDOWN_STEPS``."""
        if body.count("|") > MAX_MARKDOWN_STEPS // 2:  # one table rule run makes ~3 tokens a cell
            raise PostError(f"too much Markdown markup to render (over {MAX_MARKDOWN_STEPS // 2:,} '|' cells)")
        try:
            return self._md.render(body, {})
        except _TooMuchWork:
            raise PostError(f"too much Markdown markup to render (over {MAX_MARKDOWN_STEPS:,} parser steps)") from None
        except RecursionError:
            raise PostError("Markdown nested too deeply to render") from None

    # -- body ------------------------------------------------------------------------------------
    def strip_chrome(self, body: str) -> tuple[str, str | None]:
        """Remove site chrome lines and find the original-URL line (the last one wins)."""
        for rx in self._chrome:
            body = rx.sub("", body)
        url: str | None = None
        found = list(self._url_line.finditer(body))
        if found:
            url = found[-1].group(1) or None
            if self.settings.attribution.strip_original_url_line:
                body = self._url_line.sub("", body)
        return body, url

    def sanitize(self, fragment: str, post_id: str, base_url: str) -> str:
        site_url = self.settings.site_url
        seen: set[str] = set()

        def relative(url: str) -> str | None:
            if url.startswith("#"):
                return f"#{post_id}-{_ID_BAD.sub('_', url[1:])}" if len(url) > 1 else None
            # What the sanitiser calls relative may still read as a scheme to a browser or to urljoin
            # (" javascript:" with a leading no-break space): only an http(s) result is kept.
            return safe_link(absolutize(url, base_url, site_url))

        def attribute(tag: str, attr: str, value: str) -> str | None:
            if attr == "id":
                new = f"{post_id}-{_ID_BAD.sub('_', value)}"
                while new in seen:
                    new += "_"
                seen.add(new)
                return new
            if attr in ("width", "height", "colspan", "rowspan", "start"):
                return value if value.strip().isdigit() else None
            if attr == "dir":
                return value if value in ("ltr", "rtl", "auto") else None
            if attr == "cite":  # a URL the sanitiser does not check itself
                return safe_link(absolutize(value, base_url, site_url))
            if attr in ("href", "src") and _HTTP_START.match(value):
                return safe_link(value)  # absolute http(s): written as a valid URL
            return value

        # Every level of nesting takes a tag, and every tag a "<": too few of them cannot go too deep.
        rough = estimated_depth(fragment) if fragment.count("<") > _PRE_DEPTH else 0
        if rough > _PRE_DEPTH:
            raise PostError(f"HTML nested about {rough:,} levels deep (the limit is {MAX_HTML_DEPTH})")
        raised: list[BaseException] = []

        def passing_on(fn: Callable[..., str | None]) -> Callable[..., str | None]:
            """nh3 prints an exception raised in a callback and goes on without it (even Ctrl-C):
            keep it, and raise it once nh3 returns."""
            def call(*args: str) -> str | None:
                try:
                    return fn(*args)
                except BaseException as e:  # noqa: BLE001  (raised again below)
                    raised.append(e)
                    return None
            return call

        with _interrupt_held():
            clean = nh3.clean(
                fragment, tags=_NH3_TAGS, attributes=_NH3_ATTRIBUTES,
                attribute_filter=passing_on(attribute), url_relative=passing_on(relative),
                url_schemes=_NH3_SCHEMES, link_rel="noopener noreferrer", strip_comments=True,
            )
        if raised:
            raise raised[0]
        clean = _A_WITHOUT_HREF.sub(r"<a\1\2>", clean)
        depth = html_depth(clean) if clean.count("<") > MAX_HTML_DEPTH else 0
        if depth > MAX_HTML_DEPTH:
            raise PostError(f"HTML nested {depth:,} levels deep (the limit is {MAX_HTML_DEPTH})")
        return clean

    def render_body(self, body: str, post_id: str, base_url: str) -> Rendered:
        clean = self.sanitize(self.markdown(body), post_id, base_url)
        return Rendered(clean, plain_text(clean))

    # -- attribution and summary -----------------------------------------------------------------
    def outlet_in(self, text: str) -> str | None:
        for rx in self._sources:
            m = rx.search(text)
            if m and m.group(1).strip():
                return _SPACES.sub(" ", m.group(1)).strip()
        return None

    def outlet_of_host(self, url: str | None) -> str | None:
        rules = self.settings.attribution
        host = (urlsplit(url).hostname or "") if url else ""
        if not host:
            return None
        labels = host.split(".")
        for i in range(len(labels) - 1):
            name = rules.hosts.get(".".join(labels[i:]))
            if name:
                return name
        return host if rules.host_fallback else None

    def summary_of(self, front: dict[str, Any], html: str, text: str, lookup: Callable[[str], Any]) -> str:
        limit = self.settings.summary_length
        for key in _SUMMARY_KEYS:
            value = lookup(key)
            if value:
                return cut(plain_text(self.sanitize(str(value), "s", "")), limit)
        m = _LEAD_QUOTE.match(html)
        if m:
            quoted = plain_text(m.group(1))
            if quoted:
                return cut(quoted, limit)
        for m in _PARAGRAPH.finditer(html):
            para = plain_text(m.group(1))
            if para and not self.outlet_in(para):
                return cut(para, limit)
        return cut(text, limit)

    def post_url(self, src: SourcePost) -> str | None:
        if not self.settings.url:
            return None
        custom = src.front.get("permalink")
        path = quote(clean_line(str(custom)), safe="/:@!$&'()*+,;=-._~%") if custom else permalink_path(
            self.settings.permalink, when=src.date, categories=src.categories,
            title=src.slug, slug=src.slug,
        )
        return safe_link(self.settings.site_url + "/" + path.lstrip("/"))

    def render(self, src: SourcePost, post_id: str) -> Post:
        front = src.front

        def lookup(key: str) -> Any:
            v = front.get(key)
            return v if v not in (None, "") else None

        post_url = self.post_url(src)
        body, url_line = self.strip_chrome(src.body)
        rendered = self.render_body(body, post_id, post_url or self.settings.site_url + "/")
        original = next((str(lookup(k)) for k in _URL_KEYS if lookup(k)), None) or url_line
        if original:
            original = safe_link(absolutize(original, post_url or "", self.settings.site_url))
        named = (_line(lookup(k)) for k in _OUTLET_KEYS)
        outlet = next(filter(None, named), None) or self.outlet_in(rendered.text) or self.outlet_of_host(original)
        attribution = Attribution(
            outlet=_line(outlet), original_url=original, post_url=post_url, author=_line(lookup("author")),
        )
        extra = {k: v for k, v in front.items() if k not in KNOWN_KEYS}
        return Post(
            id=post_id, path=src.path, title=src.title, date=src.date, categories=src.categories,
            tags=src.tags, html=rendered.html, text=rendered.text,
            summary=self.summary_of(front, rendered.html, rendered.text, lookup),
            attribution=attribution, slug=src.slug, content_hash=src.content_hash,
            extra=MappingProxyType(extra),
        )
