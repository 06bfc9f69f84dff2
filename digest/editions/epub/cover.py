"""The EPUB cover: a theme's or the site's own image, or one drawn with Pillow and a CJK font.

The drawn cover shows the date first — large, white on a band whose colour changes with the weekday, so
that it reads at 100 pixels wide in a library grid and neighbouring issues look different — then the site
title, the number of articles and the day's top headlines (the first articles of each section, in turn).
A theme may ship ``epub/cover.jpg`` / ``epub/cover.png`` (used as is) or ``epub/cover-background.jpg`` /
``.png`` (the text is drawn over it); colours come from the theme options ``paper``, ``ink``, ``muted`` and ``accent``.
"""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest.editions.base import WriteContext
from digest.editions.epub.fonts import FontFile, find_cjk_font
from digest.editions.epub.options import EpubOptions
from digest.errors import ConfigError, MissingDependency
from digest.model import Digest
from digest.runtime import keys, parallel
from digest.runtime.cache import Store

if TYPE_CHECKING:
    from PIL import ImageFont

WIDTH, HEIGHT = 1600, 2560  # Kindle's recommended cover size (1:1.6)
MARGIN = 120
HEADLINES = 6
COLOURS = {"paper": "#ffffff", "ink": "#1d1b1a", "muted": "#6b6460", "accent": "#b3261e"}  # theme options
# The date's band, one colour per weekday (white text on each passes WCAG AA): neighbouring issues differ at a glance
BANDS = ("#1f4e79", "#8c2a1e", "#2d6a3e", "#6a3d7c", "#8a5200", "#0e6466", "#9b1c4a")
BAND_HEIGHT = 1080
_TOKENS = re.compile(r"[A-Za-z0-9][A-Za-z0-9.,:%'’\-/]*|\s+|.", re.S)
_NO_LINE_START = set("，。、；：？！）】」』”’》〉…%,.;:?!)]")


def _given(ctx: WriteContext) -> tuple[bytes, str] | None:
    """The cover image the settings or the theme supply (used as is), if any."""
    theme, settings = ctx.theme, ctx.settings
    chosen = settings.options(EpubOptions).cover_image
    if chosen:
        path = (settings.site_root / chosen).resolve()
        if not path.is_file():
            raise ConfigError("epub.cover_image: file not found", path)
        return _as_is(path)
    for name in ("epub/cover.jpg", "epub/cover.png"):
        found = theme.source_file(name)
        if found:
            return _as_is(found)
    return None


def _as_is(path: Path) -> tuple[bytes, str]:
    from PIL import Image

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


def _colour(value: str, default: str) -> tuple[int, int, int]:
    from PIL import ImageColor

    try:
        return ImageColor.getrgb(value)[:3]
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
        lines = [*lines[:max_lines - 1], last.rstrip() + "…"]
    return lines


def _truetype(path: Path, size: int, index: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

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


def cover_inputs(digest: Digest, ctx: WriteContext) -> dict[str, Any]:
    """Everything the drawn cover shows and is drawn with; the cover is a function of this alone."""
    theme, settings = ctx.theme, ctx.settings
    opts = theme.options_for("epub")
    configured = settings.options(EpubOptions).font
    fonts = {name: find_cjk_font(kind, bold, configured) for name, kind, bold in
             (("serif_bold", "serif", True), ("serif", "serif", False), ("sans", "sans", False),
              ("sans_bold", "sans", True))}
    date = theme.long_date(digest.start)
    if digest.end != digest.start:
        date += " – " + theme.long_date(digest.end)
    labels = theme.labels
    big, small = date_lines(digest, labels)
    counts = labels["article_count"].format(n=digest.count)
    if len(digest.sections) > 1:
        counts += " · " + labels["section_count"].format(n=len(digest.sections))
    background = theme.source_file("epub/cover-background.jpg") or theme.source_file("epub/cover-background.png")
    return {
        "colours": {key: str(opts.get(key, default)) for key, default in COLOURS.items()},
        "fonts": fonts, "background": background, "date": date, "title": digest.site_title, "counts": counts,
        "big": big, "small": small, "band": BANDS[digest.start.weekday()],
        "top": labels["top_headlines"], "headlines": [p.title for p in digest.top_headlines(HEADLINES)],
        "foot": digest.site_url.split("://", 1)[-1] if digest.site_url else (settings.publisher or ""),
    }


def date_lines(digest: Digest, labels: dict[str, str]) -> tuple[str, str]:
    """The cover's dominant line (the day: "12月8日", "Dec 8"; a week: "W49"; a month: "12月") and the line
    under it (year and weekday)."""
    start, end = digest.start, digest.end
    month = labels["month_names"].split(",")[start.month - 1].strip()
    day = labels["cover_day"].format(m=start.month, d=start.day, month=month)
    if digest.period == "week":
        return f"W{start.isocalendar()[1]:02d}", f"{start.isocalendar()[0]}"
    if digest.period == "month":
        return labels["cover_month"].format(m=start.month, month=month), f"{start.year}"
    if start != end:
        end_day = labels["cover_day"].format(m=end.month, d=end.day,
                                             month=labels["month_names"].split(",")[end.month - 1].strip())
        return f"{day}–{end_day}", f"{start.year}"
    weekday = labels["weekday_names"].split(",")[start.weekday()].strip()
    return day, labels["cover_year"].format(y=start.year, weekday=weekday)


def cache_key(inputs: dict[str, Any]) -> str:
    """The drawn cover's key: what it shows, the font and background files (their identities), the code."""
    files = [f.path for f in inputs["fonts"].values()] + ([inputs["background"]] if inputs["background"] else [])
    stats = [f"{f}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files]
    shown = repr(sorted((k, v) for k, v in inputs.items() if k not in ("fonts", "background")))
    return keys.key("cover", inputs=[shown, *stats], code=keys.code_fingerprint("digest.editions.epub.cover"))


class PendingCover:
    """A cover being made; :meth:`result` waits for it: (image bytes, ``jpg`` or ``png``)."""

    def __init__(self, ready: tuple[bytes, str] | None = None, *, inputs: dict[str, Any] | None = None,
                 key: str = "", ctx: WriteContext | None = None, fork: bool = False):
        self._ready, self._inputs, self._key, self._ctx = ready, inputs, key, ctx
        self._drawing = parallel.alongside(_draw, inputs) if inputs is not None and ready is None and fork else None

    def result(self) -> tuple[bytes, str]:
        if self._ready is None:
            assert self._inputs is not None and self._ctx is not None
            data = None
            if self._drawing is not None:
                try:
                    data = self._drawing.result()
                except Exception:
                    data = None
            if not data:  # drawn here, in this process
                data = _draw(self._inputs)
            with Store(self._ctx.env.cache_dir, self._ctx.settings.site_root) as cache:
                cache.put_blob(self._key, data)
            self._ready = (data, "jpg")
        return self._ready

    def cancel(self) -> None:
        """Stop a drawing still running (the book failed); idempotent."""
        if self._drawing is not None:
            self._drawing.cancel()


def start_cover(digest: Digest, ctx: WriteContext) -> PendingCover:
    """Begin making the issue's cover: a given image or a cached drawing at once; else it is drawn in a
    forked process (when that is safe) while the caller goes on."""
    given = _given(ctx)
    return PendingCover(given) if given else _drawn(digest, ctx, fork=True)


def draw_cover(digest: Digest, ctx: WriteContext) -> bytes:
    """The drawn cover (JPEG), reused from the cache when the same inputs drew it before."""
    return _drawn(digest, ctx, fork=False).result()[0]


def _drawn(digest: Digest, ctx: WriteContext, *, fork: bool) -> PendingCover:
    inputs = cover_inputs(digest, ctx)
    key = cache_key(inputs)
    with Store(ctx.env.cache_dir, ctx.settings.site_root) as cache:
        data = cache.blob(key)
    if data is not None:
        return PendingCover((data, "jpg"))
    return PendingCover(inputs=inputs, key=key, ctx=ctx, fork=fork)


def _draw(inputs: dict[str, Any]) -> bytes:
    """The cover, drawn to stay legible as a 100-pixel-wide thumbnail in a library grid: the date dominates,
    white on a band whose colour changes with the weekday; title, counts and headlines follow."""
    from PIL import Image, ImageDraw, ImageOps

    c = {key: _colour(value, COLOURS[key]) for key, value in inputs["colours"].items()}
    if inputs["background"]:
        with Image.open(inputs["background"]) as bg:
            im = ImageOps.fit(bg.convert("RGB"), (WIDTH, HEIGHT), Image.Resampling.LANCZOS)
    else:
        im = Image.new("RGB", (WIDTH, HEIGHT), c["paper"])
    d = ImageDraw.Draw(im)
    _draw_band(d, inputs)
    y = BAND_HEIGHT + 90
    d.text((WIDTH / 2, y), inputs["counts"], font=_face(inputs, "sans", 72), fill=c["muted"], anchor="mt")
    y += 170
    _draw_headlines(d, inputs, c, y)
    if inputs["foot"]:
        d.text((WIDTH / 2, HEIGHT - 110), inputs["foot"], font=_face(inputs, "sans", 52), fill=c["muted"], anchor="mb")
    d.rectangle((0, HEIGHT - 36, WIDTH, HEIGHT), fill=_colour(inputs["band"], BANDS[0]))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def _face(inputs: dict[str, Any], name: str, size: int) -> ImageFont.FreeTypeFont:
    face: FontFile = inputs["fonts"][name]
    return _truetype(face.path, size, face.index)


def _draw_band(d: Any, inputs: dict[str, Any]) -> None:
    """The site's title, the day in the largest type that fits, the year and weekday: white on the band."""
    white = (255, 255, 255)
    inner = WIDTH - 2 * MARGIN
    d.rectangle((0, 0, WIDTH, BAND_HEIGHT), fill=_colour(inputs["band"], BANDS[0]))
    bold = inputs["fonts"]["serif_bold"]
    title_font = _fit(inputs["title"], bold.path, bold.index, 150, inner, smallest=80)
    d.text((WIDTH / 2, 110), _wrap(inputs["title"], title_font, inner, 1)[0], font=title_font, fill=white, anchor="mt")
    sans_bold = inputs["fonts"]["sans_bold"]
    big = _fit(inputs["big"], sans_bold.path, sans_bold.index, 440, inner, smallest=200)
    d.text((WIDTH / 2, 600), inputs["big"], font=big, fill=white, anchor="mm")
    d.text((WIDTH / 2, 930), inputs["small"], font=_face(inputs, "sans", 120), fill=white, anchor="mm")


def _draw_headlines(d: Any, inputs: dict[str, Any], c: dict[str, tuple[int, int, int]], y: int) -> None:
    inner = WIDTH - 2 * MARGIN
    d.text((MARGIN, y), inputs["top"], font=_face(inputs, "sans_bold", 76), fill=c["accent"])
    y += 130
    head_font = _face(inputs, "serif", 62)
    line_h = 86
    for headline in inputs["headlines"]:
        lines = _wrap(headline, head_font, inner - 50, 2)
        if y + len(lines) * line_h > HEIGHT - 220:
            break
        d.rectangle((MARGIN, y + 22, MARGIN + 16, y + 38), fill=c["accent"])
        for line in lines:
            d.text((MARGIN + 50, y), line, font=head_font, fill=c["ink"])
            y += line_h
        y += 40
