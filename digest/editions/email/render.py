"""The email edition: an inlined-CSS HTML part, a plain-text part and a ready-to-send ``.eml``.

Python chooses what the message shows: every article if the HTML fits the size budget
(``email.max_html_bytes``, Gmail clips messages near 102 KB), else the first N articles of each
section, N the largest that fits, and an "N more in this section" line linking to the web edition.
Nothing is dropped silently; the text part shows the same articles and the same "more" lines.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import css_inline

from digest.config.settings import Settings
from digest.editions.base import base_context, output_path
from digest.editions.content import content_css
from digest.editions.email.bodies import EmailBodies, Part, with_data_urls
from digest.editions.email.mime import RenderedEmail, compose, message_bytes, unsubscribe_links
from digest.editions.email.options import EmailOptions
from digest.errors import ConfigError
from digest.model import Digest, Post, Section
from digest.runtime.files import atomic_write
from digest.theming.loader import Theme

HTML_SUFFIX = ".email.html"
TEXT_SUFFIX = ".email.txt"
EML_SUFFIX = ".eml"  # the ready-to-send message (the edition's primary file)
PREHEADER_CHARS = 110

_CHARSET = re.compile(r"<meta charset=[\"']?[\w-]+[\"']?\s*/?>\s*", re.I)
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False, minify_css=True)

Shown = list[tuple[Section, tuple[Post, ...], int]]


def web_url(digest: Digest, settings: Settings) -> str | None:
    """The issue's web edition (``email.web_url`` template), else None: a link to the site's home page
    would promise the issue's sections there, and the home page has none of them."""
    tpl = settings.options(EmailOptions).web_url
    if tpl:
        try:
            return tpl.format(year=f"{digest.start:%Y}", month=f"{digest.start:%m}", slug=digest.slug)
        except (KeyError, IndexError, ValueError) as e:
            raise ConfigError(f"email.web_url: bad placeholder {e} (use {{year}}, {{month}}, {{slug}})") from None
    return None


def web_file(digest: Digest, settings: Settings) -> str:
    """The web edition's file name (``2021-12-08.html``): what the "more" lines name when no URL is set."""
    from digest.editions import get

    return output_path(settings, digest, Path("."), get("web").primary.suffix).name


def date_text(digest: Digest, theme: Theme) -> str:
    if digest.start == digest.end:
        return theme.long_date(digest.start)
    return f"{theme.long_date(digest.start)} – {theme.long_date(digest.end)}"


def subject(digest: Digest, theme: Theme, settings: Settings) -> str:
    try:
        template = settings.options(EmailOptions).subject
        return template.format(site_title=digest.site_title, date=date_text(digest, theme),
                                             count=digest.count, slug=digest.slug)
    except (KeyError, IndexError, ValueError) as e:
        raise ConfigError(f"email.subject: bad placeholder {e} "
                          "(use {site_title}, {date}, {count}, {slug})") from None


def preheader(digest: Digest, shown: Shown) -> str:
    """The inbox preview line: the first headlines, cut to fit a preview."""
    titles = [p.title for _, posts, _ in shown for p in posts[:2]] or [p.title for p in digest.posts[:3]]
    text = " · ".join(titles)
    return text if len(text) <= PREHEADER_CHARS else text[: PREHEADER_CHARS - 1].rstrip() + "…"


def _shown(digest: Digest, n: int, k: int | None = None) -> Shown:
    """The first ``n`` articles of each of the first ``k`` sections (all sections when ``k`` is None)."""
    return [(s, s.posts[:n], max(0, len(s.posts) - n)) for s in digest.sections[:k]]


def _collapsed(digest: Digest, k: int | None) -> dict[str, int] | None:
    """The sections past the first ``k``: how many, with how many articles (None: every section is shown)."""
    if k is None or k >= len(digest.sections):
        return None
    rest = digest.sections[k:]
    return {"sections": len(rest), "articles": sum(len(s.posts) for s in rest)}


class _Renderer:
    """Renders both parts for a given N, sharing what does not depend on N."""

    def __init__(self, digest: Digest, theme: Theme, settings: Settings):
        self.digest, self.theme = digest, theme
        self.subject = subject(digest, theme, settings)
        self.web_url = web_url(digest, settings)
        https, mailto = unsubscribe_links(settings.options(EmailOptions).unsubscribe)
        self.ctx: dict[str, Any] = {
            **base_context(digest, settings, "email"),
            "subject": self.subject, "web_url": self.web_url, "web_file": web_file(digest, settings),
            "date_text": date_text(digest, theme),
            "multi_day": digest.start != digest.end, "site_host": urlsplit(digest.site_url).netloc or digest.site_url,
            "unsubscribe_url": https or mailto,
        }
        self.css = theme.read_text("email/email.css")
        self.full = False  # whole bodies (with their own stylesheet: code colours) or summaries
        self.bodies = EmailBodies(settings, theme.labels)

    def html(self, n: int, k: int | None = None) -> str:
        shown = _shown(self.digest, n, k)
        css = content_css(self.theme, "email") + self.css if self.full else self.css
        raw = self.theme.render("email/email.html.j2", css=css, shown=shown, full=self.full, body=self.bodies.body,
                                more_sections=_collapsed(self.digest, k), preheader=preheader(self.digest, shown),
                                **self.ctx)
        html = _charset_first(_INLINER.inline(raw))
        return html if html.endswith("\n") else html + "\n"

    def text(self, n: int, k: int | None = None) -> str:
        return self.theme.render("email/email.txt.j2", shown=_shown(self.digest, n, k), full=self.full,
                                 more_sections=_collapsed(self.digest, k), **self.ctx)

    def parts(self, html: str) -> tuple[Part, ...]:
        """The images the chosen HTML refers to, in the order it first names them."""
        cids = dict.fromkeys(re.findall(r'"cid:([^"]+)"', html))
        return tuple(self.bodies.parts[c] for c in cids if c in self.bodies.parts)


def _charset_first(html: str) -> str:
    """css-inline puts the rules it keeps (``@media``) in a ``<style>`` at the top of the head; with the
    code colours that runs past 1,024 bytes, where a browser stops looking for the ``<meta charset>``
    (the ``.email.html`` file opened from disk): the charset goes back to the top."""
    m = _CHARSET.search(html)
    head = html.find("<head>")
    if m is None or head < 0 or m.start() < head:
        return html
    html = html[:m.start()] + html[m.end():]
    return html[:head + 6] + m.group(0).rstrip() + html[head + 6:]


def _size(html: str) -> int:
    return len(html.encode("utf-8"))


def _fit(r: _Renderer, cap: int, cap_size: int, budget: int, fits: tuple[int, str] | None = None) -> tuple[int, str]:
    """The largest N < cap whose HTML fits ``budget`` (N = 0 keeps only the "N more" lines); ``fits``: an N
    known to fit, with its HTML, where the search starts (else at 0).

    Sizes grow almost linearly with N, so the next N to try is interpolated between the largest that
    fits and the smallest that does not (with a bisection step whenever that fails to halve the gap);
    a few renders instead of log2(cap). Deterministic: the same digest gives the same N (sizes never shrink
    as N grows, so the largest N that fits is one, wherever the search starts).
    """
    lo, lo_html = fits or (0, r.html(0))
    lo_size, hi, hi_size = _size(lo_html), cap, cap_size
    if lo_size > budget:
        return 0, lo_html
    bisect = False
    while hi - lo > 1:
        if bisect:
            n = (lo + hi) // 2
        else:
            n = lo + int((budget - lo_size) * (hi - lo) / max(1, hi_size - lo_size))
            n = min(max(n, lo + 1), hi - 1)
        html = r.html(n)
        size = _size(html)
        gap = hi - lo
        if size <= budget:
            lo, lo_size, lo_html = n, size, html
        else:
            hi, hi_size = n, size
        bisect = (hi - lo) * 2 > gap
    return lo, lo_html


def render(digest: Digest, *, theme: Theme, settings: Settings) -> RenderedEmail:
    """Render the email edition, showing as many articles per section as the size budget allows (whole
    articles or their summaries, by ``email.content``)."""
    r = _Renderer(digest, theme, settings)
    options = settings.options(EmailOptions)
    budget = options.max_html_bytes
    longest = max((len(s.posts) for s in digest.sections), default=0)
    cap = min(options.top_n, longest) if options.top_n > 0 else longest
    r.full = options.content == "full" or (options.content == "auto" and _may_fit_whole(digest, cap, budget))
    best, html, fits = _first_over(r, cap, budget)
    if _size(html) > budget and options.content == "auto" and r.full:
        r.full = False  # the whole issue does not fit as whole articles: summaries
        best, html, fits = _first_over(r, cap, budget)
    if _size(html) > budget:
        best, html = _fit(r, best, _size(html), budget, fits)
    k = None
    if _size(html) > budget:  # many sections: even their headings and "N more" lines are too much
        k, html = _fit_sections(r, len(digest.sections), budget)
    hidden = digest.count - sum(len(posts) for _, posts, _ in _shown(digest, best, k))
    return RenderedEmail(digest=digest, subject=r.subject, html=html, text=r.text(best, k), per_section=best,
                        hidden=hidden, web_url=r.web_url, parts=r.parts(html))


def _first_over(r: _Renderer, cap: int, budget: int) -> tuple[int, str, tuple[int, str] | None]:
    """``cap`` articles per section when they fit; else a number that does not, found from 8 up — each next
    try a quarter past where the last one's size says the budget ends, at most 8 times more articles: the
    search for the most that fit starts below it, and a day of 100,000 posts is never rendered whole only to
    learn that about 300 fit (nor a 300-post day, to learn that 11 a section do). Also the largest N tried
    that fits, with its HTML (None when none did)."""
    n, fits = min(cap, 8), None
    while True:
        html = r.html(n)
        size = _size(html)
        if n >= cap or size > budget:
            return n, html, fits
        fits = (n, html)
        n = min(cap, n * 8, max(n + 1, -(-5 * n * budget // (4 * max(1, size)))))


def _may_fit_whole(digest: Digest, cap: int, budget: int) -> bool:
    """Whether whole articles may fit at all: not when their bodies alone are well past the budget (a wire's
    300 items), so a busy day is not rendered whole only to be thrown away."""
    total, limit = 0, 1.5 * budget
    for s in digest.sections:
        for p in s.posts[:cap]:
            total += len(p.html.encode())
            if total > limit:
                return False
    return True


def _fit_sections(r: _Renderer, count: int, budget: int) -> tuple[int, str]:
    """The most sections (headings and "N more" lines only) whose HTML fits ``budget``; the rest are one line
    ("N more sections …"), so the footer with the unsubscribe link always stays under Gmail's clipping."""
    lo, lo_html = 0, r.html(0, 0)
    hi = count
    while hi - lo > 1:
        mid = (lo + hi) // 2
        html = r.html(0, mid)
        if _size(html) <= budget:
            lo, lo_html = mid, html
        else:
            hi = mid
    return lo, lo_html


def paths(digest: Digest, out_dir: Path, settings: Settings) -> tuple[Path, Path, Path]:
    return (output_path(settings, digest, out_dir, HTML_SUFFIX), output_path(settings, digest, out_dir, TEXT_SUFFIX),
            output_path(settings, digest, out_dir, EML_SUFFIX))


def write_edition(edition: RenderedEmail, out_dir: Path, settings: Settings) -> list[Path]:
    """Write ``.email.html``, ``.email.txt`` and the ``.eml`` addressed to ``email.to``."""
    html_path, text_path, eml_path = paths(edition.digest, out_dir, settings)
    msg = compose(edition, settings, to=list(settings.options(EmailOptions).to))
    shown = with_data_urls(edition.html, {p.cid: p for p in edition.parts})  # a browser shows data: images
    return [atomic_write(html_path, shown), atomic_write(text_path, edition.text),
            atomic_write(eml_path, message_bytes(msg))]
