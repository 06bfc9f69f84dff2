"""The settings model: what a site's ``_config.yml``, ``digest.toml`` and the flags given can say.

Every field says what it shapes — a post as read (``Shapes.SOURCE``), a post as rendered (``POST``), an
issue and its editions (``ISSUE``), or no output at all (``NOTHING``: where and how a build runs) — so that
each cache key takes exactly the settings that shape what it keeps (:func:`shaping`). Each edition
declares its own options model (a subclass of :class:`EditionOptions`, in its folder); their tables are
validated with the rest (:mod:`digest.config.load`) and kept in ``Settings.editions``.
"""
from __future__ import annotations

import re
from enum import IntEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, field_validator, model_validator

CONFIG_NAME = "digest.toml"


class Shapes(IntEnum):
    """What a setting shapes; each level includes the ones below it."""

    NOTHING = 0  # where and how a build runs: the output folder, the formats asked for, delivery
    SOURCE = 1  # reading a post: its date, its size limit
    POST = 2  # rendering a post: links, attribution, summary
    ISSUE = 3  # an issue and its editions: title, sections, order, theme


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AttributionRules(_Strict):
    """How outlet, original URL and site chrome are found in post bodies (regular expressions).

    Every rule left unset comes from the ``preset``: ``news`` (outlet lines, a bare original-URL line, site
    chrome footers: the rules of a site that mirrors news), ``blog`` (none of them: the author and the post's
    own URL), or ``auto`` (``news`` for an issue most of whose posts look like news, else ``blog``; see
    :mod:`digest.config.presets`). An empty list or an empty pattern turns a rule off.
    """

    preset: Literal["auto", "news", "blog"] = "auto"
    # Matched against the plain text of the body; group 1 is the outlet's name. First match wins.
    source_patterns: list[str] | None = None
    # A whole line holding only an autolink: the original article (group 1 its URL; ``<>`` means none).
    original_url_pattern: str | None = None
    # Remove that line from the body (the attribution block links to the original instead).
    strip_original_url_line: bool | None = None
    # Whole lines of site chrome, removed before rendering: links back to the site's own pages.
    chrome_patterns: list[str] | None = None
    # When the body names no outlet: the original URL's host, named by this table (a host or a parent
    # domain → a name), else (``host_fallback``) the host itself.
    hosts: dict[str, str] = {}
    host_fallback: bool | None = None

    @field_validator("source_patterns", "chrome_patterns")
    @classmethod
    def _patterns_compile(cls, v: list[str] | None) -> list[str] | None:
        for i, pattern in enumerate(v or ()):
            _compiles(pattern, f"item {i}: ")
        return v

    @field_validator("original_url_pattern")
    @classmethod
    def _pattern_compiles(cls, v: str | None) -> str | None:
        if v:
            _compiles(v)
        return v


def _compiles(pattern: str, where: str = "") -> None:
    try:
        re.compile(pattern, re.M)
    except re.error as e:
        raise ValueError(f"{where}invalid regular expression {pattern!r}: {e}") from None


class SmtpSettings(_Strict):
    host: str = "localhost"
    port: int = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    timeout: float = 30.0
    retries: int = 4
    backoff: float = 2.0


class NetworkSettings(_Strict):
    fetch_images: bool = False
    allow_private: bool = False
    timeout: float = 10.0
    max_bytes: int = 5_000_000


class ArchiveSettings(_Strict):
    """The archive written into the output folder: index.html, feed.atom and the OPDS catalog."""

    enabled: bool = True
    base_url: str = ""  # the folder's public URL; makes the Atom feed's links absolute (xml:base)
    feed_entries: int = Field(default=50, ge=1)  # issues in feed.atom
    opds_page_size: int = Field(default=100, ge=1)  # issues per OPDS acquisition page


OptionsT = TypeVar("OptionsT", bound="EditionOptions")


class EditionOptions(_Strict):
    """The options of one edition (``[epub]``, ``[pdf]``… in digest.toml); each edition declares its own."""

    TABLE: ClassVar[str] = ""


class Settings(_Strict):
    site_root: Annotated[Path, Shapes.NOTHING]
    jekyll_config: Annotated[str, Shapes.NOTHING] = "_config.yml"  # the Jekyll config, relative to the site root
    title: Annotated[str, Shapes.ISSUE] = ""  # empty: _config.yml's ``title``, else its ``name``, else the folder's
    description: Annotated[str, Shapes.ISSUE] = ""
    lang: Annotated[str, Shapes.POST] = ""  # empty: each post's own ``lang``, else found from its text
    timezone: Annotated[str, Shapes.SOURCE] = "UTC"
    url: Annotated[str, Shapes.POST] = ""
    baseurl: Annotated[str, Shapes.POST] = ""
    permalink: Annotated[str, Shapes.POST] = "date"
    author: Annotated[str | None, Shapes.POST] = None
    publisher: Annotated[str | None, Shapes.ISSUE] = None
    post_dirs: Annotated[list[str], Shapes.SOURCE] = []  # extra post folders besides _posts/ and */_posts/
    source: Annotated[str, Shapes.SOURCE] = ""  # Jekyll's source folder, relative to the site root
    collections_dir: Annotated[str, Shapes.SOURCE] = ""  # Jekyll's: posts are read under it only
    exclude: Annotated[list[str], Shapes.ISSUE] = []  # Jekyll's: paths (globs) under the source not read
    include: Annotated[list[str], Shapes.ISSUE] = []  # Jekyll's: paths read although excluded or special
    defaults: Annotated[list[dict[str, Any]], Shapes.SOURCE] = []  # Jekyll's front-matter defaults
    theme: Annotated[str, Shapes.ISSUE] = "default"
    template_overrides: Annotated[str | None, Shapes.ISSUE] = None  # a folder whose templates override the theme's
    out: Annotated[str | None, Shapes.NOTHING] = None  # output folder, relative to the site root
    formats: Annotated[list[str], Shapes.NOTHING] = ["web"]
    output_name: Annotated[str, Shapes.ISSUE] = "{year}/{slug}"
    article_order: Annotated[Literal["asc", "desc"], Shapes.ISSUE] = "asc"
    section_order: Annotated[list[str], Shapes.ISSUE] = []
    sections: Annotated[dict[str, str], Shapes.ISSUE] = {}
    summary_length: Annotated[int, Shapes.POST, Field(ge=10)] = 120
    include_unpublished: Annotated[bool, Shapes.ISSUE] = False
    include_future: Annotated[bool, Shapes.ISSUE] = False
    include_drafts: Annotated[bool, Shapes.ISSUE] = False  # posts in _drafts/ (Jekyll's --drafts)
    strict: Annotated[bool, Shapes.ISSUE] = False
    dedupe: Annotated[bool, Shapes.ISSUE] = True
    dedupe_days: Annotated[int, Shapes.ISSUE, Field(ge=0)] = 0
    max_post_bytes: Annotated[int, Shapes.SOURCE] = 10_000_000
    attribution: Annotated[AttributionRules, Shapes.POST] = AttributionRules()
    smtp: Annotated[SmtpSettings, Shapes.NOTHING] = SmtpSettings()
    network: Annotated[NetworkSettings, Shapes.POST] = NetworkSettings()
    archive: Annotated[ArchiveSettings, Shapes.NOTHING] = ArchiveSettings()
    # each edition's options, by edition name ([epub], [pdf]…); the edition keys take their own
    editions: Annotated[dict[str, SerializeAsAny[EditionOptions]], Shapes.NOTHING] = {}

    @field_validator("timezone")
    @classmethod
    def _tz_exists(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @model_validator(mode="before")
    @classmethod
    def _title_fallback(cls, data: Any) -> Any:
        """No title anywhere: the site folder's name (what a reader of the site would call it)."""
        if isinstance(data, dict) and not str(data.get("title") or "").strip() and data.get("site_root"):
            data = {**data, "title": Path(data["site_root"]).resolve().name or "Digest"}
        return data

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def site_url(self) -> str:
        return (self.url.rstrip("/") + "/" + self.baseurl.strip("/")).rstrip("/")

    def options(self, model: type[OptionsT]) -> OptionsT:
        """One edition's options: as configured, else its defaults."""
        got = self.editions.get(model.TABLE)
        return got if isinstance(got, model) else model()


def shaping(settings: Settings, level: Shapes) -> dict[str, Any]:
    """The settings that shape what is made at ``level`` (their JSON values), for cache keys."""
    keep = {name for name, field in Settings.model_fields.items() if Shapes.NOTHING < shapes(name) <= level}
    return settings.model_dump(mode="json", include=keep)


def shapes(field: str) -> Shapes:
    """What one field of :class:`Settings` shapes (every field says; a test keeps it so)."""
    return next(m for m in Settings.model_fields[field].metadata if isinstance(m, Shapes))


def edition_shaping(settings: Settings, names: tuple[str, ...]) -> dict[str, Any]:
    """The options of the named editions (an edition's own, and those of the editions it embeds)."""
    return {name: opts.model_dump(mode="json") for name, opts in sorted(settings.editions.items()) if name in names}
