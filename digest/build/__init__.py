"""The incremental build: which days, one issue at a time or on worker processes, records, the archive."""
from digest.build.dates import DateRequest, periods, resolve
from digest.build.issue import make_digest, write_issue
from digest.build.run import BuildOptions, BuildResult, build

__all__ = ["BuildOptions", "BuildResult", "DateRequest", "build", "make_digest", "periods", "resolve", "write_issue"]
