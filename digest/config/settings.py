"""One settings model, layered: defaults ← Jekyll ``_config.yml`` ← ``digest.toml`` ← CLI flags given.

Validated in one pass by pydantic; every problem (an unknown key, a wrong type) is reported together,
each naming the file and the key.
"""
from __future__ import annotations

import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from digest.errors import ConfigError

CONFIG_NAME = "digest.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AttributionRules(_Strict):
    """How outlet, original URL and site chrome are found in post bodies (regular expressions)."""

    # Matched against the plain text of the body; group 1 is the outlet's name. First match wins.
    source_patterns: list[str] = [
        r"[（(]\s*(?:文章|新闻|信息)?来源\s*[：:]\s*([^）)]{1,40}?)\s*[）)]",
        r"^\s*(?:文章|新闻|信息)?来源\s*[：:]\s*(\S[^\n]{0,39}?)\s*$",
        r"^\s*(?:Source|SOURCE|source)\s*:\s*(\S[^\n]{0,59}?)\s*$",
    ]
    # A whole line holding only an autolink: the original article. ``<>`` means none.
    original_url_pattern: str = r"^[ \t]*<((?:https?:)?//[^>\s]*|)>[ \t]*$"
    # Remove that line from the body (the attribution block links to the original instead).
    strip_original_url_line: bool = True
    # Whole lines of site chrome, removed before rendering: links back to the site's own pages.
    chrome_patterns: list[str] = [
        r"^[ \t]*(?:\[(?:返回|回到|Back to|Home)[^\]\n]*\]\([^)\n]*\)[ \t]*[｜|]?[ \t]*)+$",
    ]
    # When the body names no outlet: the original URL's host, named by this table (a host or a parent
    # domain → a name), else the host itself.
    hosts: dict[str, str] = {}
    host_fallback: bool = True


class EpubSettings(_Strict):
    cover: bool = True
    embed_fonts: bool = False
    image_max_width: int = 1072
    image_quality: int = Field(default=80, ge=1, le=95)
    warn_size_mb: int = 50
    cover_image: str | None = None  # a JPEG/PNG (relative to the site root) used as the cover instead
    font: str | None = None  # a CJK font file for the cover and embed_fonts (default: found by fontconfig)
    section_doc_kb: int = Field(default=100, ge=0)  # a section this small is one document, else one per article


class PdfSettings(_Strict):
    page_size: Literal["A4", "Letter", "A5", "ereader"] = "A4"
    section_page_break: bool = True
    variant: str | None = None  # e.g. "pdf/a-2b", "pdf/ua-1"
    allow_missing_fonts: bool = False
    workers: int = 0  # 0 = one per core


class EmailSettings(_Strict):
    subject: str = "{site_title} {date}"
    from_addr: str | None = None
    to: list[str] = []
    kindle: list[str] = []
    reply_to: str | None = None
    unsubscribe: str | None = None  # an https URL or a mailto: address
    web_url: str | None = None  # where the web edition of an issue is published ({slug}, {year})
    max_html_bytes: int = 90_000
    top_n: int = 0  # 0 = as many as fit in the size budget
    attach: list[Literal["epub", "pdf"]] = []


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


class Settings(_Strict):
    site_root: Path
    title: str = "Digest"
    description: str = ""
    lang: str = "en"
    timezone: str = "UTC"
    url: str = ""
    baseurl: str = ""
    permalink: str = "date"
    author: str | None = None
    publisher: str | None = None
    post_dirs: list[str] = []  # extra post folders besides _posts/ and */_posts/ (e.g. old_post)
    theme: str = "default"
    template_overrides: str | None = None  # a folder whose templates override the theme's
    out: str | None = None  # output folder; relative to the site root (CLI --out: to the current folder)
    formats: list[str] = ["html"]
    output_name: str = "{year}/{slug}"
    article_order: Literal["asc", "desc"] = "asc"
    section_order: list[str] = []
    sections: dict[str, str] = {}
    summary_length: int = Field(default=120, ge=10)
    include_unpublished: bool = False
    include_future: bool = False
    strict: bool = False
    dedupe: bool = True
    dedupe_days: int = Field(default=0, ge=0)
    max_post_bytes: int = 10_000_000
    attribution: AttributionRules = AttributionRules()
    epub: EpubSettings = EpubSettings()
    pdf: PdfSettings = PdfSettings()
    email: EmailSettings = EmailSettings()
    smtp: SmtpSettings = SmtpSettings()
    network: NetworkSettings = NetworkSettings()
    archive: ArchiveSettings = ArchiveSettings()

    @field_validator("timezone")
    @classmethod
    def _tz_exists(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def site_url(self) -> str:
        return (self.url.rstrip("/") + "/" + self.baseurl.strip("/")).rstrip("/")


# Jekyll keys we take from _config.yml; the rest of a Jekyll config is not ours to judge.
_JEKYLL_KEYS = ("title", "description", "lang", "timezone", "url", "baseurl", "permalink", "author")


def _read_jekyll(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read Jekyll config: {str(e).splitlines()[0]}", path) from None
    if not isinstance(data, dict):
        raise ConfigError("Jekyll config is not a mapping", path)
    out: dict[str, Any] = {}
    for key in _JEKYLL_KEYS:
        value = data.get(key)
        if value is None or value == "":
            continue
        if key == "author" and isinstance(value, dict):
            value = value.get("name")
        out[key] = str(value)
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError("config file not found", path) from None
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"invalid TOML: {e}", path) from None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def load_settings(
    site_root: Path | str,
    config_file: Path | str | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Read the site's settings. ``overrides`` holds only the CLI flags the user gave."""
    root = Path(site_root)
    if not root.is_dir():
        raise ConfigError("site folder not found", root)
    data: dict[str, Any] = {}
    jekyll = root / "_config.yml"
    if jekyll.is_file():
        data.update(_read_jekyll(jekyll))
    cfg = Path(config_file) if config_file else root / CONFIG_NAME
    source = cfg
    if config_file or cfg.is_file():
        data = _merge(data, _read_toml(cfg))
    if overrides:
        data = _merge(data, {k: v for k, v in overrides.items() if v is not None})
        source = cfg if cfg.is_file() else root
    data["site_root"] = root
    try:
        return Settings.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            key = ".".join(str(x) for x in err["loc"])
            where = " (command line)" if _given_in(overrides or {}, err["loc"]) else ""
            if err["type"] == "extra_forbidden":
                problems.append(f"unknown key {key!r}{where}")
            else:
                problems.append(f"{key}{where}: {err['msg']}")
        raise ConfigError("; ".join(problems), source) from None


def _given_in(overrides: dict[str, Any], loc: tuple[Any, ...]) -> bool:
    node: Any = overrides
    for part in loc:
        if not isinstance(node, dict) or part not in node or node[part] is None:
            return False
        node = node[part]
    return True
