"""What a build takes from its environment, read once at the edge and then passed down explicitly.

Nothing below the command line reads ``os.environ`` for these: a worker process gets the same values as
its parent because they travel with the job, and a test sets them by making an :class:`Environment`.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """``$DIGEST_CACHE_DIR``, else ``$XDG_CACHE_HOME/digest``, else ``~/.cache/digest``."""
    if environ.get("DIGEST_CACHE_DIR"):
        return Path(environ["DIGEST_CACHE_DIR"])
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "digest"


@dataclass(frozen=True)
class Environment:
    """The cache folder (``None``: no cache, ``--no-cache``), ``SOURCE_DATE_EPOCH`` (reproducible dates), the
    SMTP password."""

    cache_dir: Path | None
    source_date_epoch: int | None = None
    smtp_password: str | None = field(default=None, repr=False)  # DIGEST_SMTP_PASSWORD: never printed

    @classmethod
    def from_os(cls, *, cache: bool = True, environ: Mapping[str, str] | None = None) -> Environment:
        env = os.environ if environ is None else environ
        epoch = (env.get("SOURCE_DATE_EPOCH") or "").strip()
        return cls(default_cache_dir(env) if cache else None, int(epoch) if epoch.isdigit() else None,
                   env.get("DIGEST_SMTP_PASSWORD") or None)

    @property
    def caching(self) -> bool:
        return self.cache_dir is not None

    def without_cache(self) -> Environment:
        return replace(self, cache_dir=None)
