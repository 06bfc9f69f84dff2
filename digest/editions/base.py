"""What an edition is: one class per format that declares itself, and writes one issue.

Shared code (the build, its records, the archive, theme scaffolding, delivery) reads these declarations and
never names a format. An edition's folder holds everything about it: its options model, its templates'
context, its covers, images, fonts, merging and MIME pieces.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from digest.config.settings import EditionOptions, Settings
from digest.errors import ConfigError
from digest.runtime.env import Environment

if TYPE_CHECKING:  # types only: `digest list` loads the editions' options, never Jinja or the model
    from digest.model import Digest
    from digest.theming.loader import Theme


@dataclass(frozen=True)
class Output:
    """One kind of file an edition writes for an issue."""

    suffix: str  # appended to the output name, e.g. ".epub", ".email.html"
    mime: str
    primary: bool = False  # the file a reader downloads (one per edition)


@dataclass(frozen=True)
class WriteContext:
    """Everything an edition needs besides the issue itself."""

    out_dir: Path
    theme: Theme
    settings: Settings
    env: Environment


class Edition:
    """An output format. Subclasses set the class attributes and implement :meth:`write`."""

    name: ClassVar[str]  # one name everywhere: --format, digest.toml's formats, records, the archive
    label: ClassVar[str]  # what the archive calls it ("EPUB")
    aliases: ClassVar[tuple[str, ...]] = ()  # other names --format accepts
    outputs: ClassVar[tuple[Output, ...]]
    options: ClassVar[type[EditionOptions] | None] = None  # its table in digest.toml ([name])
    shaped_by: ClassVar[tuple[str, ...]] = ()  # other editions whose options change this one's files
    parallel: ClassVar[bool] = True  # may be built in a worker process (``--jobs``)
    for_readers: ClassVar[bool] = False  # offered for download in the OPDS catalog
    order: ClassVar[int] = 50  # position in the archive's download lists
    preload: ClassVar[tuple[str, ...]] = ()  # modules a worker process should import before its first issue
    previewable: ClassVar[bool] = False  # one page a browser shows (:meth:`page`): what ``digest preview`` serves

    @property
    def theme_dir(self) -> str:
        """The theme folder of the edition's templates (``web/``, ``epub/``…); also ``edition`` in templates."""
        return self.name

    @property
    def primary(self) -> Output:
        return next((o for o in self.outputs if o.primary), self.outputs[0])

    def forks(self, settings: Settings) -> tuple[str, ...]:
        """What the worker processes that writing this edition with ``settings`` forks import before their
        first job (``()``: it forks none). A build that writes it in this process starts, before it collects
        the issue, the process those workers are forked from, importing these modules on another core
        (:func:`digest.runtime.zygote.start`)."""
        return ()

    def write(self, digest: Digest, ctx: WriteContext) -> list[Path]:
        """Write the issue's files (atomically) and return their paths."""
        raise NotImplementedError

    def page(self, digest: Digest, ctx: WriteContext) -> str:
        """The issue as one HTML page (only for a ``previewable`` edition)."""
        raise NotImplementedError

    def cover(self, files: list[Path]) -> tuple[bytes, str] | None:
        """The issue's cover image (bytes, ``.jpg``/``.png``) in the files this edition wrote, if it has one:
        the archive shows it, and e-readers' catalogs use it."""
        return None


def output_path(settings: Settings, digest: Digest, out_dir: Path, suffix: str) -> Path:
    """``OUT/YYYY/YYYY-MM-DD<suffix>`` by default (``output_name`` setting). Never outside ``out_dir``."""
    name = settings.output_name.format(year=f"{digest.start:%Y}", month=f"{digest.start:%m}", slug=digest.slug)
    path = (out_dir / (name + suffix)).resolve()
    if not path.is_relative_to(out_dir.resolve()):
        raise ConfigError(f"output_name {settings.output_name!r} leads outside the output folder")
    return path


def base_context(digest: Digest, settings: Settings, edition: str) -> dict[str, Any]:
    """What every template of every edition receives (documented in themes/README.md)."""
    return {
        "digest": digest,
        "sections": digest.sections,
        "edition": edition,
        "site": {
            "title": digest.site_title, "url": digest.site_url, "lang": digest.lang,
            "description": settings.description, "author": settings.author, "publisher": settings.publisher,
        },
    }
