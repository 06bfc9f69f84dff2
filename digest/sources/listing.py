"""A tree's post files for a full check (``digest list``): names listed again only when a folder changed, and
every file checked each time.

A full check must never show a stale day, and at 100,000+ posts what it costs is touching every file. Two
facts split that work:

* a name added to a folder, removed or renamed (a new post dropped in, one deleted, a file saved by a tool
  that writes a new file and renames it over the old one) changes the folder's change time (``ctime``: set by
  the kernel, never set back by ``os.utime`` or ``touch``, unlike the modification time that ``rsync -t``
  or ``tar`` restore). While every folder of a tree keeps the ctime it had at the last full check, its names
  are those that check recorded, and listing and sorting 100,000 names is skipped. A folder changed within
  :data:`SETTLE_NS` of being listed is not trusted (a name added in the same tick of the file system's clock,
  after the listing, would leave its time as it was: git's "racily clean" entries): it is listed again;
* a file written in place changes only its own times and size, never its folder's: so every file is still
  checked, one ``lstat`` each. Nothing cheaper tells that on Linux: ``os.scandir`` caches a name's type, not
  its times or size (``DirEntry.stat`` is the same ``lstat``), and git's status does this ``lstat`` per file
  too. A file whose ctime is not the recorded one is read again even when its modification time and size are
  the recorded ones (an edit of the same length, its time then set back with ``os.utime``).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import time
from array import array
from dataclasses import dataclass
from pathlib import Path

from digest.errors import Problem
from digest.sources.discover import Layout, Tree, list_tree, stat_one
from digest.sources.index import Entry

SETTLE_NS = 2_000_000_000  # a folder changed this recently is listed again next time (clock ticks, skew)
# POSIX: ``st_ctime`` is when the inode last changed. On Windows it is when the file was made: a folder's
# never changes as names are added to it, so there every full check lists every folder
CTIME_IS_CHANGE = os.name == "posix"
SEP = "\0"  # between names in a stored listing: the one character a file name cannot hold
Folders = list[tuple[str, int]]  # (folder, ctime_ns) of one tree


@dataclass(frozen=True)
class Listing:
    """A tree's post files (sorted, relative to the root, joined by :data:`SEP`) and its folders' times."""

    joined: str
    folders: Folders  # (folder, mtime_ns), read before it was listed: the tree's state for one-day builds
    changed: Folders  # (folder, ctime_ns), read after: what the next full check compares
    settled: bool  # no folder changed within SETTLE_NS of the listing: the names may be reused while so
    relisted: bool  # listed now (not taken from the record)

    @property
    def files(self) -> list[str]:
        return self.joined.split(SEP) if self.joined else []


def tree_listing(layout: Layout, tree: Tree, record: Listed | None) -> Listing:
    """The recorded names when every folder is as it was (its ctime, which ``os.utime`` cannot set back);
    else the tree listed now."""
    if CTIME_IS_CHANGE and record is not None and record.settled and _same_folders(layout.root, record.changed):
        return Listing(record.joined, record.folders, record.changed, True, False)
    now = time.time_ns()
    files, folders = list_tree(layout, tree)
    changed = []
    for folder, _ in folders:
        try:
            changed.append((folder, os.stat(layout.root / folder).st_ctime_ns))
        except OSError:
            changed.append((folder, -1))
    settled = all(0 <= c < now - SETTLE_NS for _, c in changed)
    return Listing(SEP.join(sorted(files)), folders, changed, settled, True)


def _same_folders(root: Path, folders: Folders) -> bool:
    """Every recorded folder still has its recorded change time (a folder gone: not the same)."""
    try:
        return bool(folders) and all(os.stat(root / f).st_ctime_ns == c for f, c in folders)
    except OSError:
        return False


@dataclass(frozen=True)
class Stats:
    """Each listed file's modification time, size and change time (0s for a problem), and its problems."""

    mtimes: array[int]
    sizes: array[int]
    ctimes: array[int]
    problems: dict[int, Problem]  # index in the listing → why the file cannot be read

    def fingerprint(self, joined: str) -> str:
        """One digest of the names, the times and sizes, and the problems."""
        digest = hashlib.sha1(joined.encode("utf-8", "surrogatepass"))
        for values in (self.mtimes, self.sizes, self.ctimes):
            digest.update(values.tobytes())
        digest.update(json.dumps([[i, p.message] for i, p in sorted(self.problems.items())]).encode())
        return digest.hexdigest()

    def entries(self, files: list[str]) -> list[Entry]:
        return [(f, self.mtimes[i], self.sizes[i]) for i, f in enumerate(files) if i not in self.problems]


def stat_files(root: Path, files: list[str]) -> Stats:
    """Every file checked: one ``lstat`` for a regular file; a link, a folder or a file gone goes through the
    whole rule of :func:`~digest.sources.discover.stat_one`."""
    base = str(root.resolve()) + os.sep
    mtimes, sizes, ctimes = array("q"), array("q"), array("q")
    add_m, add_s, add_c = mtimes.append, sizes.append, ctimes.append
    problems: dict[int, Problem] = {}
    lstat, regular = os.lstat, stat.S_ISREG
    for i, p in enumerate(files):  # a plain loop, the common case first: this runs over every file of the site
        try:
            st = lstat(base + p)
            if regular(st.st_mode):
                add_m(st.st_mtime_ns)
                add_s(st.st_size)
                add_c(st.st_ctime_ns)
                continue
        except OSError:
            pass
        got = stat_one(base, p)
        if isinstance(got, tuple):
            add_m(got[1])
            add_s(got[2])
            add_c(_ctime(base + p))
        else:
            problems[i] = got
            add_m(0)
            add_s(0)
            add_c(0)
    return Stats(mtimes, sizes, ctimes, problems)


def _ctime(path: str) -> int:
    try:
        return os.stat(path).st_ctime_ns
    except OSError:
        return 0


LISTED = "//listing"  # a tree's listing is kept under its path and this (never a tree's path, nor forgotten)


@dataclass(frozen=True)
class Listed:
    """A tree as its last full check listed and checked it: its folders' times, its names, each file's change
    time then. Kept when the index is written (it says when each file was last checked against its row: a
    build that reads a file again only makes it read once more here)."""

    rules: str
    folders: Folders
    changed: Folders
    joined: str
    ctimes: bytes
    settled: bool

    def dump(self) -> str:
        return json.dumps([self.rules, self.folders, self.changed, self.joined,
                           base64.b64encode(self.ctimes).decode("ascii"), self.settled])

    def ctime_of(self) -> dict[str, int]:
        """path → its change time when last checked (a file whose ctime changed is read again, whatever its
        modification time and size say)."""
        ctimes = array("q")
        ctimes.frombytes(self.ctimes)
        files = self.joined.split(SEP) if self.joined else []
        return dict(zip(files, ctimes, strict=False))


def listed_now(rules: str, listing: Listing, stats: Stats) -> Listed:
    return Listed(rules, listing.folders, listing.changed, listing.joined, stats.ctimes.tobytes(), listing.settled)


def load_listed(text: str | None, rules: str) -> Listed | None:
    """A tree's :class:`Listed` under ``rules``; None when there is none (or it cannot be read)."""
    try:
        got = json.loads(text or "null")
        if not isinstance(got, list) or len(got) != 6 or got[0] != rules:
            return None
        rules_, folders, changed, joined, ctimes, settled = got
        return Listed(rules_, [(str(f), int(m)) for f, m in folders], [(str(f), int(c)) for f, c in changed],
                      str(joined), base64.b64decode(ctimes), bool(settled))
    except (ValueError, TypeError):
        return None


@dataclass(frozen=True)
class Checked:
    """What a full check found in a tree: the digest of its files' stats and the counts the index gave (valid
    while no row of the index is written: a write forgets it)."""

    rules: str
    fingerprint: str
    counts: list[tuple[int, str | None, str | None, int, int]]
    errors: list[tuple[str, str]]

    def dump(self) -> str:
        return json.dumps([self.rules, self.fingerprint, self.counts, self.errors])


def load_checked(text: str | None, rules: str) -> Checked | None:
    """A tree's :class:`Checked` under ``rules``; None when there is none (or it cannot be read)."""
    try:
        got = json.loads(text or "null")
        if not isinstance(got, list) or len(got) != 4 or got[0] != rules:
            return None
        rules_, print_, counts, errors = got
        return Checked(rules_, str(print_), [tuple(c) for c in counts], [tuple(e) for e in errors])
    except (ValueError, TypeError):
        return None
