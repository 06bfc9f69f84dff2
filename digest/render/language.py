"""A post's language: its own ``lang``, else the site's, else found from the characters of its text.

What matters most for a reader is the writing system, which decides the glyphs: Japanese set in Chinese
fonts (or the reverse) looks wrong, so kana (Japanese), hangul (Korean) and Han characters alone (Chinese;
traditional when its characters say so) are told apart by counting them. Latin-script text is ``en`` when
common English words make up a share of it, else ``und`` (undetermined: the site's ``lang`` says which).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from digest.sources.frontmatter import clean_line

_SAMPLE = 4000  # characters looked at: enough to tell, bounded work on a long post
_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")
# characters written only in one of the two forms of Chinese (the most frequent of each)
_TRADITIONAL = frozenset("這們說國會來個時為與對於經過還後們開關問題們學們發實現東門長車書見話讓當種點體")
_SIMPLIFIED = frozenset("这们说国会来个时为与对于经过还后开关问题学发实现东门长车书见话让当种点体")
_ENGLISH = frozenset(["the", "and", "of", "to", "in", "is", "that", "for", "it", "with", "as", "was", "on", "are",
                      "be", "this", "by", "or", "from"])
_WORD = re.compile(r"[A-Za-z]+")


def normal_tag(value: Any) -> str | None:
    """A front-matter or config ``lang`` as a language tag (``zh_CN`` → ``zh-CN``), or None if it is not one."""
    if not isinstance(value, str):
        return None
    text = clean_line(value).strip()
    return text.replace("_", "-") if _TAG.match(text) else None


def _script(ch: str) -> str | None:
    o = ord(ch)
    if 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9F:
        return "kana"
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
        return "hangul"
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FFFF:
        return "han"
    if (ch.isascii() and ch.isalpha()) or 0x00C0 <= o <= 0x024F:
        return "latin"
    return None


def detect(text: str) -> str:
    """The language of ``text`` from its characters: ``ja``, ``ko``, ``zh`` / ``zh-Hant``, ``en`` or ``und``."""
    sample = text[:_SAMPLE]
    counts = Counter(s for ch in sample if (s := _script(ch)))
    cjk = counts["kana"] + counts["hangul"] + counts["han"]
    if cjk and cjk * 4 >= counts["latin"]:  # a CJK text with Latin names in it is still a CJK text
        if counts["kana"] * 10 >= cjk:  # Japanese mixes kana into Han; a few kana in Chinese text do not count
            return "ja"
        if counts["hangul"] * 2 >= cjk:
            return "ko"
        if counts["han"]:
            trad = sum(ch in _TRADITIONAL for ch in sample)
            simp = sum(ch in _SIMPLIFIED for ch in sample)
            return "zh-Hant" if trad > simp else "zh"
    if counts["latin"]:
        words = [w.lower() for w in _WORD.findall(sample)]
        if words and sum(w in _ENGLISH for w in words) * 20 >= len(words):
            return "en"
    return "und"


def post_lang(front: Mapping[str, Any], site_lang: str, title: str, text: str) -> str:
    """The post's own ``lang``, else the site's, else the language of its title and text."""
    own = normal_tag(front.get("lang"))
    if own:
        return own
    if site_lang:
        return site_lang
    return detect(f"{title}\n{text}")


def majority(langs: Iterable[str], site_lang: str = "") -> str:
    """An issue's language: the site's, else the one most of its posts are in (``und`` aside), else ``en``."""
    if site_lang:
        return site_lang
    counts = Counter(lang for lang in langs if lang and lang != "und")
    if not counts:
        return "en"
    return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
