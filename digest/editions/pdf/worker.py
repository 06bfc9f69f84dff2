"""What a layout worker imports before its first job, imported once in the process the workers are forked
from (:func:`digest.runtime.zygote.start`: a fork server imports its preload by name, so importing this
module is what does it). WeasyPrint is imported by its libraries' sonames (:mod:`.weasy`); should that fail
here, each job imports it again and fails as it would have, its error reaching the build."""
from __future__ import annotations

import contextlib

from digest.runtime import parallel, zygote

zygote.preloading()

from digest.editions.pdf import layout  # noqa: E402  (after: the server dies with the build even meanwhile)
from digest.editions.pdf.weasy import import_weasyprint  # noqa: E402

__all__ = ["layout", "parallel"]  # (imported for the jobs: a worker unpickles its function from them)

with contextlib.suppress(Exception):
    import_weasyprint()
    from digest.editions.pdf import fetcher  # noqa: F401  (what a job imports first thing)
