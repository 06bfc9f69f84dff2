"""Themes: template lookup (overrides → theme → parents → default), labels, filters, error mapping."""
from __future__ import annotations

import copy
import hashlib
import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2

from digest.config.settings import Settings
from digest.errors import ThemeError
from digest.theming import css
from digest.theming.teaser import teaser

_PKG = Path(__file__).resolve().parent.parent


def themes_root() -> Path:
    """Built-in themes: inside the wheel (``digest/themes``) or, in a checkout, ``./themes``."""
    for p in (_PKG / "themes", _PKG.parent / "themes"):
        if (p / "default" / "theme.toml").is_file():
            return p
    raise ThemeError("built-in themes not found (broken installation)")


def builtin_themes() -> list[str]:
    return sorted(p.name for p in themes_root().iterdir() if (p / "theme.toml").is_file())


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ThemeError(f"invalid TOML: {e}", path) from None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def resolve_theme_dir(name: str, site_root: Path | None = None) -> Path:
    candidate = Path(name)
    if site_root is not None and not candidate.is_absolute():
        local = site_root / candidate
        if (local / "theme.toml").is_file() or ("/" in name and local.is_dir()):
            return local
    if (candidate / "theme.toml").is_file() or ("/" in name and candidate.is_dir()):
        return candidate
    builtin = themes_root() / name
    if (builtin / "theme.toml").is_file():
        return builtin
    raise ThemeError(f"theme {name!r} not found (built-in themes: {', '.join(builtin_themes())})")


class Label(str):
    """A label; ``.format(n=1)`` gives its singular form when the language has one (``[en.one]``)."""

    one: str | None

    def __new__(cls, text: str, one: str | None = None) -> Label:
        made = super().__new__(cls, text)
        made.one = one
        return made

    def format(self, *args: object, **kwargs: object) -> str:
        if self.one is not None and kwargs.get("n") == 1:
            return self.one.format(*args, **kwargs)
        return super().format(*args, **kwargs)


def labels_for(tables: dict[str, Any], lang: str) -> dict[str, str]:
    """The labels of a language (``zh-Hant`` → ``zh``), English for any word it lacks; plural-aware."""
    out: dict[str, str] = {}
    for key in ("en", language_key(lang)):
        table = tables.get(key, {})
        one = table.get("one", {}) if isinstance(table.get("one"), dict) else {}
        for k, v in table.items():
            if isinstance(v, str):
                out[k] = Label(v, one.get(k) if isinstance(one.get(k), str) else None)
    return out


@dataclass
class Theme:
    name: str
    dirs: list[Path]  # lookup order: overrides first, built-in default last
    options: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    named: dict[str, Path] = field(default_factory=dict)  # "NAME:path" reaches one theme's own file
    bytecode_dir: Path | None = None  # compiled templates kept here between runs (None: not kept)
    all_labels: dict[str, Any] = field(default_factory=dict)  # every language's labels.toml tables
    lang: str = ""  # the language of ``labels``
    env: jinja2.Environment = field(init=False, repr=False)

    def for_lang(self, lang: str) -> Theme:
        """This theme speaking ``lang`` (an issue's language): the same templates, that language's labels."""
        if not lang or not self.all_labels or language_key(lang) == language_key(self.lang or "en"):
            return self
        other = copy.copy(self)  # (the Jinja environment is shared: its filters read the labels of each render)
        other.labels, other.lang = labels_for(self.all_labels, lang), lang
        return other

    def __post_init__(self) -> None:
        named = {**self.named, "default": themes_root() / "default"}
        prefixed = jinja2.PrefixLoader({k: jinja2.FileSystemLoader(str(d)) for k, d in named.items()}, delimiter=":")
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader([*(jinja2.FileSystemLoader(str(d)) for d in self.dirs), prefixed]),
            autoescape=lambda name: name is None or not name.endswith((".txt.j2", ".css")),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # one build renders each template many times; files do not change meanwhile
            bytecode_cache=_bytecode_cache(self.bytecode_dir),
            finalize=_finalize,
        )
        self.env.filters.update(hhmm=_hhmm, isodate=_isodate, longdate=_long_date, headlines=headlines, stamp=_stamp,
                                css=css.css_filter, teaser=teaser)

    def long_date(self, value: date | datetime) -> str:
        """A date written the way the site's language writes it (label ``date_format``)."""
        return _written(self.labels, value, "date_format")

    @cached_property
    def folders(self) -> frozenset[str]:
        """The theme chain's template folders (one per edition, plus ``partials``, ``archive``…)."""
        return frozenset(p.name for d in self.dirs if d.is_dir() for p in d.iterdir() if p.is_dir())

    def options_for(self, edition: str | None) -> dict[str, Any]:
        """The options one edition sees: ``[options]`` with its ``[options.<edition>]`` table on top (an
        ``[options.<name>]`` table named like one of the theme's folders belongs to that edition only)."""
        opts = {k: v for k, v in self.options.items() if not (isinstance(v, dict) and k in self.folders)}
        sub = self.options.get(edition) if edition else None
        if isinstance(sub, dict):
            opts.update(sub)
        return opts

    def source_file(self, template: str) -> Path | None:
        for d in self.dirs:
            if (d / template).is_file():
                return d / template
        return None

    def has(self, template: str) -> bool:
        return self.source_file(template) is not None

    def read_text(self, name: str) -> str:
        path = self.source_file(name)
        if path is None:
            raise ThemeError(f"theme {self.name!r} has no file {name!r}")
        return path.read_text(encoding="utf-8")

    def render(self, template: str, **context: Any) -> str:
        with self._errors(template):
            theme = self.options_for(context.get("edition"))
            if template.endswith(".css"):
                theme = css.trusted(theme, "theme")
            return self.env.get_template(template).render(labels=self.labels, theme=theme, **context)

    def stream(self, template: str, **context: Any) -> Iterator[str]:
        """The template's output in pieces, as it is made: a month's issue is never one string."""
        with self._errors(template):
            theme = self.options_for(context.get("edition"))
            if template.endswith(".css"):
                theme = css.trusted(theme, "theme")
            yield from self.env.get_template(template).generate(labels=self.labels, theme=theme, **context)

    @contextmanager
    def _errors(self, template: str) -> Iterator[None]:
        """Template errors as one-line :class:`ThemeError` s naming the template file and line."""
        try:
            yield
        except jinja2.TemplateSyntaxError as e:
            raise ThemeError(f"template syntax error at line {e.lineno}: {e.message}", e.filename or template) from None
        except jinja2.TemplateNotFound as e:
            file, line = _template_location(e, template, self)
            if e.name == template or line == "?":
                raise ThemeError(f"template {e.name!r} not found in theme {self.name!r}") from None
            raise ThemeError(f"line {line}: template {e.name!r} not found in theme {self.name!r}", file) from None
        except jinja2.UndefinedError as e:
            file, line = _template_location(e, template, self)
            raise ThemeError(f"undefined variable at line {line}: {e.message}", file) from None
        except (TypeError, ValueError, AttributeError, KeyError) as e:
            file, line = _template_location(e, template, self)
            raise ThemeError(f"template error at line {line}: {e}", file) from None


def _template_location(exc: BaseException, fallback: str, theme: Theme) -> tuple[str, int | str]:
    """Walk the traceback to the innermost frame that belongs to a template."""
    tb = exc.__traceback__
    found: tuple[str, int | str] = (str(theme.source_file(fallback) or fallback), "?")
    roots = tuple(os.path.join(os.path.abspath(d), "") for d in [*theme.dirs, *theme.named.values()])
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if (filename.endswith((".j2", ".html", ".xhtml", ".txt", ".css")) or "/themes/" in filename
                or os.path.abspath(filename).startswith(roots)):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


@jinja2.pass_context
def _finalize(context: jinja2.runtime.Context, value: Any) -> Any:
    """Every ``{{ … }}`` of a ``.css`` template is escaped for CSS (:mod:`.css`), whoever wrote the template."""
    name = context.name or ""
    return css.finalize(value) if name.endswith(".css") else value


def headlines(digest: Any, n: int = 6) -> list[Any]:
    """The ``headlines`` filter: the issue's top ``n`` articles (``Digest.top_headlines``)."""
    return list(digest.top_headlines(n))


def _bytecode_cache(folder: Path | None) -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs (keyed by the template's source checksum, so always fresh)."""
    if folder is None:
        return None
    try:
        # compiled code depends on the filters too (how each is called), not only on a template's source:
        # kept per version of this module
        d = folder / "jinja" / hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
        d.mkdir(parents=True, exist_ok=True)
        return jinja2.FileSystemBytecodeCache(str(d))
    except OSError:
        return None


def _hhmm(value: datetime) -> str:
    return f"{value:%H:%M}"


def _written(labels: dict[str, str], value: date | datetime, key: str) -> str:
    fmt = labels.get(key) or labels.get("date_format") or "{y}-{m:02d}-{d:02d}"
    return str(fmt.format(y=value.year, m=value.month, d=value.day))


@jinja2.pass_context
def _long_date(ctx: Any, value: date | datetime) -> str:
    return _written(ctx.get("labels") or {}, value, "date_format")


@jinja2.pass_context
def _stamp(ctx: Any, post: Any, iso: bool = False) -> str:
    """When a post was published, as an issue shows it: its time in a one-day issue, its (short) date and
    time in a longer one; a date-only post gets no invented "00:00". ``iso``: for ``<time datetime>``."""
    when: datetime = post.date
    timed = bool(getattr(post, "timed", True))
    if iso:
        return when.isoformat() if timed else when.date().isoformat()
    digest = ctx.get("digest")
    one_day = digest is None or digest.start == digest.end
    day = "" if one_day else _written(ctx.get("labels") or {}, when, "short_date_format")
    clock = f"{when:%H:%M}" if timed else ""
    return " ".join(x for x in (day, clock) if x)


def _isodate(value: date | datetime) -> str:
    return value.isoformat()


def language_key(lang: str) -> str:
    return (lang or "en").split("-")[0].split("_")[0].lower()


def load_theme(settings: Settings, name: str | None = None, *, cache_dir: Path | None = None) -> Theme:
    """The theme chain for ``settings.theme`` (or ``name``) plus the user's override folder; compiled
    templates are kept in ``cache_dir`` when one is given."""
    first = resolve_theme_dir(name or settings.theme, settings.site_root)
    chain: list[Path] = []
    meta_chain: list[dict[str, Any]] = []
    current: Path | None = first
    default = themes_root() / "default"
    while current is not None:
        if current.resolve() in [c.resolve() for c in chain]:
            raise ThemeError("themes extend each other in a loop", current / "theme.toml")
        meta = _read_toml(current / "theme.toml")
        chain.append(current)
        meta_chain.append(meta)
        parent = meta.get("extends")
        if parent:
            try:
                current = resolve_theme_dir(str(parent), current.parent)
            except ThemeError as e:
                raise ThemeError(f"extends: {e.message}", current / "theme.toml") from None
        elif current.resolve() != default.resolve():
            current = default
        else:
            current = None
    options: dict[str, Any] = {}
    labels_all: dict[str, Any] = {}
    for d, meta in zip(reversed(chain), reversed(meta_chain), strict=True):
        options = _merge(options, meta.get("options", {}))
        labels_all = _merge(labels_all, _read_toml(d / "labels.toml"))
    labels = labels_for(labels_all, settings.lang)
    dirs = list(chain)
    if settings.template_overrides:
        over = settings.site_root / settings.template_overrides
        if not over.is_dir():
            raise ThemeError("template override folder not found", over)
        dirs.insert(0, over)
    named: dict[str, Path] = {}
    for d, meta in zip(reversed(chain), reversed(meta_chain), strict=True):
        named[d.name] = named[str(meta.get("name", d.name))] = d
    return Theme(name=str(meta_chain[0].get("name", first.name)), dirs=dirs, options=options, labels=labels,
                 named=named, bytecode_dir=cache_dir, all_labels=labels_all, lang=settings.lang)


def fingerprint(theme: Theme, skip: frozenset[str] = frozenset({"archive"})) -> str:
    """Every file of the theme chain (override folder first) by relative path and bytes, except the top
    folders in ``skip`` (the archive's templates do not change issues)."""
    h = hashlib.sha256()
    for i, d in enumerate(theme.dirs):
        for here, subdirs, files in os.walk(d):
            rel_here = Path(here).relative_to(d)
            subdirs[:] = sorted(s for s in subdirs if not s.startswith(".") and s != "__pycache__"
                                and not (rel_here == Path(".") and s in skip))
            for name in sorted(files):
                if name.startswith("."):
                    continue
                h.update(f"{i}:{(rel_here / name).as_posix()}\0".encode())
                h.update(hashlib.sha256(Path(here, name).read_bytes()).hexdigest().encode())
    return h.hexdigest()
