"""Importing WeasyPrint without its library search's subprocesses.

WeasyPrint loads Pango, HarfBuzz and fontconfig through cffi, trying several names for each library,
Windows' and macOS' names first. For every name that does not load as given, cffi asks
``ctypes.util.find_library``, which on Linux runs ``ldconfig -p`` and, where installed, ``gcc`` and ``ld``:
about 17 subprocesses, 0.2 s of wall time (0.14 s of CPU) before the first layout can start — in the rebuild
after one new article, on the path that decides how long it takes. On Linux every library is also tried by
its soname (``libpango-1.0.so.0``), which the dynamic loader finds by itself; so there the search is
skipped while WeasyPrint is imported, and the same libraries are loaded. Should that import fail (a system
where only the search finds them), WeasyPrint is imported again the usual way.
"""
from __future__ import annotations

import contextlib
import ctypes.util
import io
import sys
from collections.abc import Iterator

# what the process the layout workers are forked from imports ahead (:mod:`.worker`; see runtime.zygote)
WORKER_PRELOAD = ("digest.editions.pdf.worker",)


def _not_searched(name: str) -> None:
    return None


@contextlib.contextmanager
def _no_library_search() -> Iterator[None]:
    """``ctypes.util.find_library`` finds nothing for the block (cffi then tries the next name)."""
    real = ctypes.util.find_library
    ctypes.util.find_library = _not_searched
    try:
        yield
    finally:
        ctypes.util.find_library = real


def _forget_weasyprint() -> None:
    for name in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
        del sys.modules[name]


def import_weasyprint() -> None:
    """Import WeasyPrint (once per process), by the libraries' sonames first on Linux."""
    if "weasyprint" in sys.modules:
        return
    if sys.platform.startswith("linux"):
        try:
            # (WeasyPrint prints a note before it fails to load a library: the retry below prints it if real)
            with _no_library_search(), contextlib.redirect_stdout(io.StringIO()):
                import weasyprint
            return
        except (OSError, ImportError):
            _forget_weasyprint()
    import weasyprint  # noqa: F401
