"""Fonts for the PDF: a CJK font must be installed when the issue has CJK text; missing glyphs are reported."""
from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterable

from digest.editions.pdf.options import PdfOptions
from digest.errors import MissingDependency
from digest.model import Digest

log = logging.getLogger("digest.pdf")
INSTALL_HINT = ("install a CJK font, e.g. `sudo apt-get install fonts-noto-cjk` (Debian/Ubuntu), "
                "`sudo dnf install google-noto-sans-cjk-fonts google-noto-serif-cjk-fonts` (Fedora) "
                "or `brew install --cask font-noto-sans-cjk font-noto-serif-cjk` (macOS)")


def _has_cjk(digest: Digest) -> bool:
    if digest.lang.lower().startswith(("zh", "ja", "ko")):
        return True
    return any(any("\u3000" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" for ch in p.title + p.text[:200])
               for p in digest.posts)


def cjk_fonts() -> list[str]:
    """Families fontconfig knows for Chinese text (empty if none, or if fontconfig's fc-list is missing)."""
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        out = subprocess.run([exe, ":lang=zh", "family"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({line.split(",")[0].strip() for line in out.splitlines() if line.strip()})


def check_fonts(digest: Digest, options: PdfOptions, known: list[str] | None = None) -> list[str] | None:
    """Stop (or warn) when the issue has CJK text and no CJK font is installed. Returns the CJK families
    found (``None`` when not asked), which a second check of the same build passes as ``known``: fontconfig
    is asked once."""
    if not _has_cjk(digest) or known is not None:  # (known: checked, and said, already)
        return known
    families = cjk_fonts()
    if families:
        return families
    if options.allow_missing_fonts:
        log.warning("no CJK font installed: Chinese text in the PDF will show as boxes; %s",
                    INSTALL_HINT)
        return families
    raise MissingDependency(f"the PDF edition needs a CJK font and fontconfig finds none; {INSTALL_HINT} "
                            "(or build anyway with --allow-missing-fonts)")


def report_missing(digest: Digest, codepoints: Iterable[int], limit: int = 5) -> None:
    """One warning per character drawn as a box (naming a post that has it), at most ``limit`` of them."""
    missing = sorted(set(codepoints))
    for cp in missing[:limit]:
        ch = chr(cp)
        where = next((str(p.path) for p in digest.posts if ch in p.title or ch in p.text), digest.title)
        log.warning("%s: character U+%04X (%s) has no glyph in the installed fonts; "
                    "the PDF shows a box for it", where, cp, ch)
    if len(missing) > limit:
        log.warning("%d more characters have no glyph in the installed fonts", len(missing) - limit)


def report_refused(lines: Iterable[str], limit: int = 5) -> None:
    """One warning per URL the PDF's fetcher refused (see :mod:`.fetcher`), at most ``limit`` of them."""
    unique = list(dict.fromkeys(lines))
    for line in unique[:limit]:
        log.warning("PDF: %s", line)
    if len(unique) > limit:
        log.warning("PDF: %d more URLs not read", len(unique) - limit)
