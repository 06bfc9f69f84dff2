"""The EPUB cover: a theme's or the site's own image, or one drawn with Pillow and a CJK font.

The drawn cover shows the site title, the date, the number of articles and the day's top headlines
(the first articles of each section, in turn). A theme may ship ``epub/cover.jpg`` / ``epub/cover.png``
(used as is) or ``epub/cover-background.jpg`` / ``.png`` (the text is drawn over it); colours come
from the theme options ``paper``, ``ink``, ``muted`` and ``accent``.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw, ImageFont, ImageOps

from .epub_fonts import find_cjk_font
from .errors import ConfigError, MissingDependency
from .model import Digest
from .settings import Settings
from .themes import Theme

WIDTH, HEIGHT = 1600, 2560  # Kindle's recommended cover size (1:1.6)
MARGIN = 120
HEADLINES = 6
_TOKENS = re.compile(r"[A-Za-z0-9][A-Za-z0-9.,:%'’\-/]*|\s+|.", re.S)
_NO_LINE_START = set("，。、；：？！）】」』”’》〉…%,.;:?!)]")


def cover_image(digest: Digest, *, theme: Theme, settings: Settings) -> tuple[bytes, str]:
    """(image bytes, ``jpg`` or ``png``) for the issue's cover."""
    if settings.epub.cover_image:
        path = (settings.site_root / settings.epub.cover_image).resolve()
        if not path.is_file():
            raise ConfigError("epub.cover_image: file not found", path)
        return _as_is(path)
    for name in ("epub/cover.jpg", "epub/cover.png"):
        found = theme.source_file(name)
        if found:
            return _as_is(found)
    return draw_cover(digest, theme=theme, settings=settings), "jpg"


def _as_is(path: Path) -> tuple[bytes, str]:
    data = path.read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt = im.format
    except OSError:
        raise ConfigError("cover image is not a readable image", path) from None
    if fmt == "JPEG":
        return data, "jpg"
    if fmt == "PNG":
        return data, "png"
    raise ConfigError(f"cover image must be JPEG or PNG, not {fmt}", path)


def _colour(options: dict, key: str, default: str) -> tuple[int, int, int]:
    try:
        return ImageColor.getrgb(str(options.get(key, default)))[:3]
    except ValueError:
        return ImageColor.getrgb(default)[:3]


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int, max_lines: int) -> list[str]:
    """Greedy line filling that keeps Latin words whole and closing punctuation off line starts."""
    lines: list[str] = []
    cur = ""
    for tok in _TOKENS.findall(" ".join(text.split())):
        if font.getlength(cur + tok) <= width or tok in _NO_LINE_START or not cur.strip():
            if not cur and tok.isspace():
                continue
            if font.getlength(cur + tok) > width and not cur.strip():  # a single over-long token
                for ch in tok:
                    if font.getlength(cur + ch) > width and cur:
                        lines.append(cur)
                        cur = ""
                    cur += ch
                continue
            cur += tok
            continue
        lines.append(cur.rstrip())
        cur = "" if tok.isspace() else tok
    if cur.strip():
        lines.append(cur.rstrip())
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and font.getlength(last + "…") > width:
            last = last[:-1]
        lines = lines[: max_lines - 1] + [last.rstrip() + "…"]
    return lines


def _truetype(path: Path, size: int, index: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(str(path), size, index=index)
    except OSError as e:
        raise MissingDependency(f"cannot read font: {e}", path) from None


def _fit(text: str, path: Path, index: int, start: int, width: int, smallest: int = 110) -> ImageFont.FreeTypeFont:
    """The largest size (down to ``smallest``) at which ``text`` fits on one line."""
    size = start
    while True:
        font = _truetype(path, size, index)
        if font.getlength(text) <= width or size <= smallest:
            return font
        size -= 10


def draw_cover(digest: Digest, *, theme: Theme, settings: Settings) -> bytes:
    opts = theme.options_for("epub")
    paper, ink = _colour(opts, "paper", "#ffffff"), _colour(opts, "ink", "#1d1b1a")
    muted, accent = _colour(opts, "muted", "#6b6460"), _colour(opts, "accent", "#b3261e")
    configured = settings.epub.font
    serif_bold = find_cjk_font("serif", True, configured)
    serif = find_cjk_font("serif", False, configured)
    sans = find_cjk_font("sans", False, configured)
    sans_bold = find_cjk_font("sans", True, configured)

    def font(f, size: int) -> ImageFont.FreeTypeFont:
        return _truetype(f.path, size, f.index)

    background = theme.source_file("epub/cover-background.jpg") or theme.source_file("epub/cover-background.png")
    if background:
        with Image.open(background) as bg:
            im = ImageOps.fit(bg.convert("RGB"), (WIDTH, HEIGHT), Image.Resampling.LANCZOS)
    else:
        im = Image.new("RGB", (WIDTH, HEIGHT), paper)
    d = ImageDraw.Draw(im)
    inner = WIDTH - 2 * MARGIN
    d.rectangle((0, 0, WIDTH, 36), fill=accent)
    d.rectangle((0, HEIGHT - 36, WIDTH, HEIGHT), fill=accent)

    y = 200
    date = theme.long_date(digest.start)
    if digest.end != digest.start:
        date += " – " + theme.long_date(digest.end)
    d.text((WIDTH / 2, y), date, font=font(sans, 68), fill=muted, anchor="mt")
    y += 120
    title_font = _fit(digest.site_title, serif_bold.path, serif_bold.index, 220, inner)
    for line in _wrap(digest.site_title, title_font, inner, 2):  # a long title takes two lines
        d.text((WIDTH / 2, y), line, font=title_font, fill=ink, anchor="mt")
        y += round(title_font.size * 1.15)
    y += 50
    d.line((MARGIN, y, WIDTH - MARGIN, y), fill=ink, width=6)
    d.line((MARGIN, y + 16, WIDTH - MARGIN, y + 16), fill=ink, width=2)
    y += 60
    labels = theme.labels
    counts = labels["article_count"].format(n=digest.count)
    if len(digest.sections) > 1:
        counts += " · " + labels["section_count"].format(n=len(digest.sections))
    d.text((WIDTH / 2, y), counts, font=font(sans, 64), fill=muted, anchor="mt")
    y += 170

    d.text((MARGIN, y), labels["top_headlines"], font=font(sans_bold, 76), fill=accent)
    y += 130
    head_font = font(serif, 62)
    line_h = 86
    for post in digest.top_headlines(HEADLINES):
        lines = _wrap(post.title, head_font, inner - 50, 2)
        if y + len(lines) * line_h > HEIGHT - 260:
            break
        d.rectangle((MARGIN, y + 22, MARGIN + 16, y + 38), fill=accent)
        for line in lines:
            d.text((MARGIN + 50, y), line, font=head_font, fill=ink)
            y += line_h
        y += 40
    foot = digest.site_url.split("://", 1)[-1] if digest.site_url else (settings.publisher or "")
    if foot:
        d.text((WIDTH / 2, HEIGHT - 130), foot, font=font(sans, 52), fill=muted, anchor="mb")
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()
