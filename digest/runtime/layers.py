"""The package's layers, lowest first. A module may import only from its own layer or a lower one.

``tests/test_architecture.py`` walks every import of the package and fails on an upward import or a
cycle, so this table is also what the code-fingerprint of :mod:`digest.runtime.keys` can rely on: what a
stage computes depends only on the code of its own layer and the layers below.
"""
from __future__ import annotations

LAYERS: tuple[tuple[str, ...], ...] = (
    ("digest", "digest.errors", "digest.runtime", "digest.jekyll"),  # no digest imports but these
    ("digest.config", "digest.model"),  # the settings model; the frozen Digest
    ("digest.sources",),  # finding and reading posts, the index
    ("digest.render",),  # Markdown, sanitising, links, attribution: one post → one Post
    ("digest.assemble", "digest.theming"),  # posts → one Digest; theme lookup and templates
    ("digest.editions",),  # one folder per format: web, epub, pdf, email
    ("digest.archive",),  # the output folder's records, index, feeds, OPDS
    ("digest.build",),  # the incremental build: dates, jobs, records
    ("digest.delivery", "digest.serving"),  # SMTP; the HTTP servers
    ("digest.cli", "digest.__main__"),  # the command line
)


def layer_of(module: str) -> int:
    """The layer of a module of the package (the longest matching prefix wins)."""
    best, depth = -1, -1
    for i, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and name.count(".") > depth:
                best, depth = i, name.count(".")
    if best < 0:
        raise ValueError(f"{module} is in no layer of digest.runtime.layers.LAYERS")
    return best


def packages_up_to(layer: int) -> tuple[str, ...]:
    """The packages and modules of ``layer`` and every layer below it."""
    return tuple(name for names in LAYERS[: layer + 1] for name in names)
