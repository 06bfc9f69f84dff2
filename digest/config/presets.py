"""Attribution presets: the rule sets ``[attribution] preset`` names, and how ``auto`` chooses between them.

``news`` is the rule set of a site that mirrors news articles (the first user's): the outlet named in a
``（文章来源：上海证券报）``/``来源：…``/``Source: …`` line, the original article in a bare ``<https://…>`` line
(removed from the body: the attribution block links to it), and site chrome (``[返回首页](…)`` footers)
removed. ``blog`` has none of them: a blog post is credited to its author and linked to its own URL, and
nothing is taken out of its body.

``auto`` looks at the site's newest posts (:data:`SAMPLE` of them, by date): a post *looks like news* when,
once the chrome lines are gone, its last non-empty line is its only bare-autolink line and it has no headings
(a "References" section is a blog's), or it has a Chinese outlet line (``（文章来源：…）``, ``来源：…``). When
more than half of them look like news, the site uses ``news``, else ``blog``. A reference list (several bare
links, or text after them) does not look like news. The choice is the site's, not an issue's, so every issue
of a site is attributed the same way.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from digest.config.settings import AttributionRules

NEWS_SOURCE_PATTERNS = (
    r"[（(]\s*(?:文章|新闻|信息)?来源\s*[：:]\s*([^）)]{1,40}?)\s*[）)]",
    r"^\s*(?:文章|新闻|信息)?来源\s*[：:]\s*(\S[^\n]{0,39}?)\s*$",
    r"^\s*(?:Source|SOURCE|source)\s*:\s*(\S[^\n]{0,59}?)\s*$",
)
NEWS_URL_LINE = r"^[ \t]*<((?:https?:)?//[^>\s]*|)>[ \t]*$"
NEWS_CHROME = (r"^[ \t]*(?:\[(?:返回|回到|Back to|Home)[^\]\n]*\]\([^)\n]*\)[ \t]*[｜|]?[ \t]*)+$",)

PRESETS: dict[str, dict[str, object]] = {
    "news": {"source_patterns": list(NEWS_SOURCE_PATTERNS), "original_url_pattern": NEWS_URL_LINE,
             "strip_original_url_line": True, "chrome_patterns": list(NEWS_CHROME), "host_fallback": True},
    "blog": {"source_patterns": [], "original_url_pattern": "", "strip_original_url_line": False,
             "chrome_patterns": [], "host_fallback": False},
}
SAMPLE = 20  # the newest posts ``auto`` looks at
_RULE_KEYS = ("source_patterns", "original_url_pattern", "strip_original_url_line", "chrome_patterns",
              "host_fallback")
_CJK_OUTLET = re.compile("|".join(NEWS_SOURCE_PATTERNS[:2]), re.M)
_URL_LINE = re.compile(NEWS_URL_LINE, re.M)
_CHROME = re.compile(NEWS_CHROME[0], re.M)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s|<h[1-6][\s>]|^[^\n]+\n(?:=+|-+)[ \t]*$", re.M | re.I)


def resolve(rules: AttributionRules, preset: str) -> AttributionRules:
    """``rules`` with every unset rule taken from ``preset`` (``news`` or ``blog``); the preset recorded."""
    base = PRESETS[preset]
    update = {k: base[k] for k in _RULE_KEYS if getattr(rules, k) is None}
    return rules.model_copy(update={**update, "preset": preset})


def looks_like_news(body: str) -> bool:
    """One post's body: a lone bare-autolink line last (after chrome lines) in a body without headings, or a
    Chinese outlet line."""
    if _CJK_OUTLET.search(body):
        return True
    body = _CHROME.sub("", body)
    found = list(_URL_LINE.finditer(body))
    return len(found) == 1 and not body[found[0].end():].strip() and not _HEADING.search(body)


def choose(rules: AttributionRules, bodies: Iterable[str]) -> AttributionRules:
    """The rules: the configured preset, or for ``auto`` the one the sampled posts' bodies call for."""
    if rules.preset != "auto":
        return resolve(rules, rules.preset)
    votes = [looks_like_news(b) for b in bodies]
    return resolve(rules, "news" if votes and sum(votes) * 2 > len(votes) else "blog")
