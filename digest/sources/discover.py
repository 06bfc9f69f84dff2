"""Finding a site's post files the way Jekyll does: where they are, which are read, which are posts.

Jekyll reads ``<source>/<collections_dir>/**/_posts/**`` (and ``_drafts`` with ``--drafts``), skipping
names that start with ``.``, ``_``, ``#`` or ``~`` or end with ``~``, and paths ``exclude`` names (glob or
prefix, relative to the source) unless ``include`` names them; in ``_posts`` only ``YYYY-MM-DD-name.ext``
files are posts (digest reads an undated one too, and says Jekyll would not publish it). digest adds
``post_dirs`` (extra folders of posts, any name) and never reads its own output folder. A *tree* is one
such folder with its sub-folders: the index watches each tree's folders.

This runs over the whole site, so it works on strings and lists names without stat calls.
"""
from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path, PurePosixPath

from digest.config.settings import Settings
from digest.errors import ConfigError, Problem, Skipped, quoted_path
from digest.sources.frontmatter import MAX_YEAR, MIN_YEAR

log = logging.getLogger("digest.sources")

POST_EXTENSIONS = (".md", ".markdown", ".mkd", ".mkdn", ".mkdown", ".mdown", ".html", ".htm")
# Jekyll's Document::DATE_FILENAME_MATCHER, on a file name: 2-4 digit year, 1-2 digit month and day
NAME_RE = re.compile(r"^(\d{2,4})-(\d{1,2})-(\d{1,2})-([^/]*?)\.[^./]+$")
# Jekyll's Configuration::DEFAULT_EXCLUDES
DEFAULT_EXCLUDES = (".sass-cache", ".jekyll-cache", ".ruby-lsp", "gemfiles", "Gemfile", "Gemfile.lock",
                    "node_modules", "vendor/bundle/", "vendor/cache/", "vendor/gems/", "vendor/ruby/")
_SPECIAL = (".", "_", "#", "~")


def filename_date(name: str) -> date | None:
    """The date of a ``YYYY-MM-DD-slug.ext`` name (Jekyll's rule; a 2-digit year as Ruby reads it); None when
    there is none, or it is not a real day in ``MIN_YEAR``–``MAX_YEAR`` (``0001-01-01-x.md`` is read as
    undated: its day ± 1 would overflow)."""
    m = NAME_RE.match(name)
    if not m:
        return None
    day = ymd(m[1], m[2], m[3])
    return day if day is not None and MIN_YEAR <= day.year <= MAX_YEAR else None


@lru_cache(maxsize=8192)
def ymd(y: str, m: str, d: str) -> date | None:
    year = int(y)
    if len(y) == 2:
        year += 2000 if year < 69 else 1900
    try:
        return date(year, int(m), int(d))
    except ValueError:
        return None


def name_slug(name: str) -> str | None:
    """The slug of a dated post name (``2022-01-05-hello.md`` → ``hello``), else None."""
    m = NAME_RE.match(name)
    return m[4] if m else None


@dataclass(frozen=True)
class Tree:
    """One folder of posts: ``_posts`` (dated names only), ``_drafts``, or a ``post_dirs`` folder."""

    path: str  # relative to the site root, posix
    kind: str  # "posts" | "drafts" | "extra"


@dataclass(frozen=True)
class Layout:
    """Where a site's posts are, and the rules that say which files are read."""

    root: Path  # the site root, resolved
    source: str  # the Jekyll source, relative to the root ("" for the root itself)
    base: str  # where posts are looked for: the source's ``collections_dir``
    exclude: tuple[str, ...]
    include: tuple[str, ...]
    drafts: bool
    post_dirs: tuple[str, ...]
    out_dir: str | None  # digest's output folder, relative to the root, when inside it

    def in_source(self, rel: str) -> str:
        """A path relative to the root, as a path relative to the source (what ``exclude`` names)."""
        return rel[len(self.source) + 1:] if self.source and rel.startswith(self.source + "/") else rel

    def kept(self, rel: str, name: str) -> bool:
        """Jekyll's EntryFilter: ``rel`` (to the root) and its ``name`` read, or not."""
        src = self.in_source(rel)
        included = _matches(self.include, src) or _matches(self.include, name)
        if not included and _matches(self.exclude, src):
            return False
        if rel == self.out_dir:
            return False
        return included or not (name.startswith(_SPECIAL) or name.endswith("~"))


def _relevant(patterns: tuple[str, ...], folder: str) -> tuple[str, ...]:
    """The patterns that may match a file of ``folder`` (relative to the source): most cannot, and a folder
    of posts may hold 100,000 files."""
    return tuple(p for p in patterns if p and (any(c in p for c in "*?[") or p.startswith(folder + "/")
                                               or folder.startswith(p)))


def _matches(patterns: tuple[str, ...], path: str) -> bool:
    """Jekyll's glob_include?: a glob (``*`` crosses ``/``), a prefix, or a folder named with a slash."""
    return any(fnmatchcase(path, p) or path.startswith(p) or p == path + "/" for p in patterns if p)


def base_of(settings: Settings) -> str:
    """Where posts are looked for, relative to the site root: the source's ``collections_dir``."""
    parts = [PurePosixPath(x.strip("/")).as_posix() for x in (settings.source, settings.collections_dir)]
    return "/".join(x for x in parts if x and x != ".")


def layout_of(settings: Settings) -> Layout:
    """The site's layout; a ``source`` that does not exist is an error naming the key."""
    root = settings.site_root.resolve()
    source = PurePosixPath(settings.source.strip("/")).as_posix() if settings.source.strip("/. ") else ""
    if source and not (root / source).is_dir():
        raise ConfigError(f"source: folder {settings.source!r} not found (Jekyll reads posts from it; set "
                          f"source in digest.toml to where the posts are)", root / settings.jekyll_config)
    base = base_of(settings)
    out_dir = None
    if settings.out:
        out = (root / settings.out).resolve()
        out_dir = out.relative_to(root).as_posix() if out.is_relative_to(root) else None
    exclude = tuple(dict.fromkeys([*settings.exclude, *DEFAULT_EXCLUDES]))
    return Layout(root, source, base, exclude, tuple(settings.include), settings.include_drafts,
                  tuple(settings.post_dirs), out_dir)


def find_trees(layout: Layout) -> list[Tree]:
    """Every folder of posts: ``_posts`` (and ``_drafts``) under the posts base at any depth, ``post_dirs``."""
    trees: list[Tree] = []
    start = layout.base
    stack = [start]
    seen = {str(layout.root)}
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(layout.root / rel) if rel else os.scandir(layout.root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        prefix = rel + "/" if rel else ""
        for e in entries:
            if not _is_folder(e, layout.root, seen, "posts folder" if e.name == "_posts" else "link"):
                continue
            path = prefix + e.name
            if e.name == "_posts" or (e.name == "_drafts" and layout.drafts):
                trees.append(Tree(path, e.name[1:]))
            elif layout.kept(path, e.name):
                stack.append(path)
    for extra in layout.post_dirs:
        p = (layout.root / extra).resolve()
        if p.is_dir() and _inside(layout.root / extra, layout.root, "post_dirs folder", shown=extra) \
                and p != layout.root:
            trees.append(Tree(p.relative_to(layout.root).as_posix(), "extra"))
    return sorted(set(trees), key=lambda t: t.path)


def list_tree(layout: Layout, tree: Tree) -> tuple[list[str], list[tuple[str, int]]]:
    """(post files, (folder, mtime_ns) of each folder) of one tree, relative to the root; names only, no stat
    of files. A folder's time is read before it is listed: a file added meanwhile changes it again.

    Jekyll filters what it finds under ``_posts`` by the path inside it and by the file's name."""
    files: list[str] = []
    folders: list[tuple[str, int]] = []
    stack = [tree.path]
    seen = {os.path.realpath(layout.root / tree.path)}
    while stack:
        rel = stack.pop()
        try:
            folders.append((rel, os.stat(layout.root / rel).st_mtime_ns))
            names = os.listdir(layout.root / rel)  # names only: a year of posts is 100,000+ entries
        except OSError:
            continue
        top = rel == tree.path
        # (Jekyll takes only dated names in _posts; an undated one is read too, and noted: never lost)
        posts = [n for n in names if n.endswith(POST_EXTENSIONS) and n[0] not in "._#~"]
        files += _kept_files(layout, rel, posts)
        if len(posts) < len(names):  # something else is there: a folder to go into?
            # (inside a tree Jekyll filters files one by one: an excluded folder may hold an included file)
            stack += [f"{rel}/{n}" for n in names if (not top or n[0] not in "._#~")
                      and not n.endswith(POST_EXTENSIONS) and _folder_at(layout.root, f"{rel}/{n}", seen)]
    return files, folders


def _kept_files(layout: Layout, rel: str, names: list[str]) -> list[str]:
    """``rel/name`` for the names ``exclude`` (unless ``include``) and the output folder let through."""
    if layout.out_dir is not None and (rel + "/").startswith(layout.out_dir + "/"):
        return []
    if not _relevant(layout.exclude, layout.in_source(rel)):
        return [f"{rel}/{n}" for n in names]
    return [f"{rel}/{n}" for n in names if layout.kept(f"{rel}/{n}", n)]


def list_post_files(settings: Settings) -> list[str]:
    """Every post file of the site as a relative posix path (in no particular order)."""
    layout = layout_of(settings)
    out: list[str] = []
    for tree in find_trees(layout):
        out += list_tree(layout, tree)[0]
    return list(dict.fromkeys(out))


def find_post_files(settings: Settings) -> list[Path]:
    """Every post file of the site, relative to the root, sorted."""
    return [Path(p) for p in sorted(list_post_files(settings))]


def _folder_at(root: Path, rel: str, seen: set[str]) -> bool:
    """Whether ``root/rel`` is a folder to list (see :func:`_is_folder`)."""
    try:
        st = os.lstat(root / rel)
    except OSError:
        return False
    if not stat.S_ISLNK(st.st_mode):
        return stat.S_ISDIR(st.st_mode)
    return os.path.isdir(root / rel) and _link_inside(root / rel, root, seen)


def _is_folder(entry: os.DirEntry[str], root: Path, seen: set[str], what: str = "link") -> bool:
    """A folder to list: a real one, or a link to a folder inside the site not listed yet (so ``a -> .`` and a
    link to ``/`` end, and no post is found twice)."""
    try:
        if not entry.is_symlink():
            return entry.is_dir(follow_symlinks=False)
        if not entry.is_dir():  # follows the link: a folder at the end of it?
            return False
    except OSError:
        return False
    return _link_inside(Path(entry.path), root, seen, what)


def _link_inside(path: Path, root: Path, seen: set[str], what: str = "link") -> bool:
    real = os.path.realpath(path)
    if real in seen or any(s.startswith(real + os.sep) for s in seen):
        return False  # a loop (a -> ., c -> ..: back above where the listing is) or a folder already listed
    if not _inside(path, root, what):
        return False
    seen.add(real)
    return True


def stat_entries(root: Path, paths: Iterable[str]) -> tuple[list[tuple[str, int, int]], list[Problem]]:
    """(path, mtime_ns, size) for each relative path; files that vanished, cannot be read, or are links leading
    outside the site → Problem."""
    out: list[tuple[str, int, int]] = []
    problems: list[Problem] = []
    base = str(root.resolve()) + os.sep
    lstat, regular = os.lstat, stat.S_ISREG
    for p in paths:  # a plain loop, the common case first: this runs over every file of the site
        try:
            st = lstat(base + p)
            if regular(st.st_mode):
                out.append((p, st.st_mtime_ns, st.st_size))
                continue
        except OSError:
            pass
        got = stat_one(base, p)  # a link, not a file, gone: the whole rule
        if isinstance(got, tuple):
            out.append(got)
        else:
            problems.append(got)
    return out, problems


def stat_one(base: str, rel: str) -> tuple[str, int, int] | Problem:
    """(path, mtime_ns, size) of one file (``base``: the site's real path and a separator), or why not."""
    try:
        st = stat_inside(base, rel)
    except OSError as e:
        return Skipped(Path(rel), f"cannot read: {e.strerror or e}")
    except Outside as e:
        return Skipped(Path(rel), str(e))
    if not stat.S_ISREG(st.st_mode):
        return Skipped(Path(rel), "not a regular file")
    return rel, st.st_mtime_ns, st.st_size


def tree_of(rel: str, base: str) -> tuple[tuple[str, ...], str | None]:
    """(folders between the posts base and ``_posts``/``_drafts`` — Jekyll's categories —, the kind)."""
    parts = rel.split("/")
    base_parts = base.split("/") if base else []
    for i, part in enumerate(parts[:-1]):
        if part in ("_posts", "_drafts"):
            above = parts[len(base_parts):i] if parts[:len(base_parts)] == base_parts else parts[:i]
            return tuple(above), part[1:]
    return (), None


def _inside(path: Path, root: Path, what: str, shown: str | None = None) -> bool:
    """Whether ``path`` (symlinks followed) stays in the site; a warning names it when it does not."""
    real = path.resolve()
    if real == root or real.is_relative_to(root):
        return True
    shown = shown or (path.relative_to(root) if path.is_relative_to(root) else path).as_posix()
    log.warning("%s: %s leads outside the site (to %s); not read", quoted_path(shown), what, quoted_path(real))
    return False


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


