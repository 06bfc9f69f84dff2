"""Finding a site's post files: ``_posts/``, ``*/_posts/``, extra folders; dates in file names.

Kept apart from reading posts because it runs over the whole site on every build: a year of posts is
100,000+ files, so it works on strings, lists names without stat calls, and memoises file-name dates.
"""
from __future__ import annotations

import logging
import os
import re
import stat
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from digest.config.settings import Settings
from digest.errors import Problem, Skipped, quoted_path
from digest.sources.frontmatter import MAX_YEAR, MIN_YEAR

log = logging.getLogger("digest.sources")

POST_EXTENSIONS = (".md", ".markdown", ".mkd", ".mkdn", ".mdown", ".html", ".htm")
NAME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+?)\.[A-Za-z]+$")
_SKIP_DIRS = {".git", "_site", "node_modules", ".venv", "vendor", ".jekyll-cache", ".sass-cache"}


def filename_date(name: str) -> date | None:
    """The ``YYYY-MM-DD-`` date of a post's file name; None when there is none, or it is not a real day in
    ``MIN_YEAR``–``MAX_YEAR`` (``0001-01-01-x.md`` is read as undated: its day ± 1 would overflow)."""
    m = NAME_RE.match(name)
    if not m or not MIN_YEAR <= int(m[1]) <= MAX_YEAR:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def list_post_files(settings: Settings) -> list[str]:
    """Every post file of the site as a relative posix path (in no particular order).

    ``_posts/`` and ``*/_posts/`` at any depth, plus ``post_dirs``. Strings, not Paths, and no stat:
    a year of posts is 100,000+ files and this runs on every build.
    """
    root = settings.site_root.resolve()
    dirs = _post_folders(root, settings)
    found = _files_under(root, dirs)
    return list(dict.fromkeys(found)) if len(dirs) > 1 else found  # unsorted: callers sort what they keep


def post_folders(settings: Settings) -> list[Path]:
    """The site's post folders (absolute): ``_posts`` anywhere, and ``post_dirs`` (no warnings: the listing
    gives them)."""
    return _post_folders(settings.site_root.resolve(), settings, warn=False)


def _post_folders(root: Path, settings: Settings, warn: bool = True) -> list[Path]:
    """``_posts`` folders anywhere in the site (not in the output folder or tool folders), and ``post_dirs``.

    The walk never follows a link to a folder (``os.walk``'s default); a ``_posts`` that is a link counts only
    when it leads to a folder inside the site."""
    out_dir = (root / settings.out).resolve() if settings.out else None
    dirs: list[Path] = []
    for here, subdirs, _files in os.walk(root):
        keep = []
        for d in sorted(subdirs):
            full = Path(here) / d
            if d == "_posts":
                if _inside(full, root, "posts folder", warn):
                    dirs.append(full)
            elif d not in _SKIP_DIRS and not d.startswith(".") and full.resolve() != out_dir:
                keep.append(d)
        subdirs[:] = keep
    for extra in settings.post_dirs:
        p = root / extra
        if p.resolve().is_dir() and _inside(p, root, "post_dirs folder", warn):
            dirs.append(p.resolve())
    return dirs


def _inside(path: Path, root: Path, what: str, warn: bool = True) -> bool:
    """Whether ``path`` (symlinks followed) stays in the site; a warning names it when it does not."""
    real = path.resolve()
    if real == root or real.is_relative_to(root):
        return True
    if warn:
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        log.warning("%s: %s leads outside the site (to %s); not read", quoted_path(shown), what, quoted_path(real))
    return False


def _files_under(root: Path, dirs: list[Path]) -> list[str]:
    """Post files under ``dirs``: names only (no stat; a year of posts is 100,000+ entries). A link to a folder
    is followed only when it leads inside the site to a folder not listed yet (so ``a -> .`` and a link to
    ``/`` end, and no post is found twice)."""
    found: list[str] = []
    stack = [d.relative_to(root).as_posix() for d in dirs]
    seen = {str(d.resolve()) for d in dirs}
    while stack:
        rel = stack.pop()
        prefix = "" if rel == "." else rel + "/"
        try:
            with os.scandir(os.path.join(root, rel)) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name[0] == ".":
                continue
            if name.endswith(POST_EXTENSIONS):
                found.append(prefix + name)  # a folder named like a post fails its stat later, and is reported then
            elif _is_folder(entry, root, seen):
                stack.append(prefix + name)
    return found


def _is_folder(entry: os.DirEntry[str], root: Path, seen: set[str]) -> bool:
    """A folder to list: a real one, or a link to a folder inside the site not listed yet."""
    try:
        if not entry.is_symlink():
            return entry.is_dir(follow_symlinks=False)
        if not entry.is_dir():  # follows the link: a folder at the end of it?
            return False
    except OSError:
        return False
    real = os.path.realpath(entry.path)
    if real in seen:
        return False  # a loop (a -> .) or a folder already listed
    if not _inside(Path(entry.path), root, "link"):
        return False
    seen.add(real)
    return True


def stat_entries(root: Path, paths: Iterable[str]) -> tuple[list[tuple[str, int, int]], list[Problem]]:
    """(path, mtime_ns, size) for each relative path; files that vanished, cannot be read, or are links leading
    outside the site → Problem."""
    out: list[tuple[str, int, int]] = []
    problems: list[Problem] = []
    base = str(root.resolve()) + os.sep
    for p in paths:
        try:
            st = stat_inside(base, p)
        except OSError as e:
            problems.append(Skipped(Path(p), f"cannot read: {e.strerror or e}"))
            continue
        except Outside as e:
            problems.append(Skipped(Path(p), str(e)))
            continue
        if not stat.S_ISREG(st.st_mode):
            problems.append(Skipped(Path(p), "not a regular file"))
            continue
        out.append((p, st.st_mtime_ns, st.st_size))
    return out, problems


class Outside(Exception):
    """A post file that is a link leading outside the site (its message is the one-line reason)."""


def stat_inside(base: str, rel: str) -> os.stat_result:
    """``os.stat`` of ``base + rel`` (``base``: the site's real path and a separator), refusing a link that leads
    outside the site. One ``lstat`` for an ordinary file; links are resolved."""
    st = os.lstat(base + rel)
    if not stat.S_ISLNK(st.st_mode):
        return st
    real = os.path.realpath(base + rel)
    if not (real + os.sep).startswith(base):
        raise Outside("a link to a file outside the site; not read")
    return os.stat(real)


def find_post_files(settings: Settings) -> list[Path]:
    """Every post file of the site, relative to the root, sorted."""
    return [Path(p) for p in sorted(list_post_files(settings))]


@lru_cache(maxsize=8192)
def _head_date(head: str) -> date | None:
    return filename_date(head + "x.md")


def day_of_name(path: str) -> date | None:
    """The ``YYYY-MM-DD-`` date of a relative path's file name (fast: memoised on the 11-character head)."""
    name = path.rsplit("/", 1)[-1]
    if len(name) < 12 or name[10] != "-" or name.rfind(".") <= 11:
        return None  # as filename_date: a slug and an extension must follow the date
    return _head_date(name[:11])


def name_filter(lo: date, hi: date) -> Callable[[str], bool]:
    """A fast test of a relative path: is its file-name date in [lo, hi], or has it no date at all?"""

    def wanted(path: str) -> bool:
        d = day_of_name(path)
        return d is None or lo <= d <= hi

    return wanted


def folder_categories(rel: Path) -> tuple[str, ...]:
    """Jekyll: the folders above ``_posts`` are categories (``news/_posts/x.md`` → ``news``)."""
    parts = rel.parts
    if "_posts" in parts:
        return tuple(p for p in parts[: parts.index("_posts")])
    return ()


def _head_day(path: str) -> date | None:
    name = path[path.rfind("/") + 1 :]
    return day_of_name(name[:11] + "x.md") if len(name) >= 11 else None


class PostFiles:
    """A site's post files grouped by file-name date, for many range look-ups (a long back-fill)."""

    def __init__(self, files: Iterable[str]):
        """``files``: relative posix paths (``collect.list_post_files``); a year is 100,000+ of them."""
        self.by_day: dict[date | None, list[str]] = defaultdict(list)
        by_head: dict[str, list[str]] = defaultdict(list)
        for f in files:  # group by the name's first 11 characters, then date each group once
            by_head[f[f.rfind("/") + 1 :][:11]].append(f)
        for fs in by_head.values():
            # (a name with a date but no slug, "2022-04-19-.md", is a candidate of that day; the
            # collector reads it as undated)
            self.by_day[day_of_name(fs[0]) or _head_day(fs[0])] += fs

    def names_between(self, lo: date, hi: date) -> list[str]:
        """Relative paths dated in [lo, hi], and those with no date in their name, sorted."""
        out = list(self.by_day.get(None, ()))
        if (hi - lo).days < len(self.by_day):
            for i in range((hi - lo).days + 1):
                out += self.by_day.get(lo + timedelta(days=i), ())
        else:
            out += [f for d, fs in self.by_day.items() if d is not None and lo <= d <= hi for f in fs]
        return sorted(out)

    def between(self, lo: date, hi: date) -> list[Path]:
        return [Path(f) for f in self.names_between(lo, hi)]


def candidate_files(settings: Settings, start: date, end: date, *, files: PostFiles | None = None) -> list[Path]:
    """The post files the collector may read for [start, end] (by file-name date, ±1 day)."""
    files = PostFiles(list_post_files(settings)) if files is None else files
    return files.between(start - timedelta(days=1), end + timedelta(days=1))
