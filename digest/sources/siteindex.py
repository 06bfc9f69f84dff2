"""The site's index of every post file by its real date — the one Jekyll gives it (front matter first).

A post's file name may say another day than its front matter (``2014-01-29-x.md`` dated 2015-01-29), so a
build for a day cannot pick files by name: it asks this index, which knows every file's date. Kept in the
cache, it stays cheap at 100,000+ posts:

* each *tree* of posts (a ``_posts`` folder and its sub-folders) is recorded with its folders' modification
  times and the rules that chose its files. While those are unchanged, no file was added, removed or
  renamed there — nor saved by a tool that replaces the file (git, rsync, ``sed -i``, most editors) — and
  the tree is not listed again: a one-day build then asks the cache for the files of its days and checks
  only those (by size and modification time), re-reading the head of any that changed;
* a tree whose folders changed is listed again and every file in it checked; new or changed files have
  their heads read (on the free cores when many), vanished ones are dropped;
* ``full`` (``digest list``, ``digest check``) checks every file of every tree, which also finds a post
  edited in place, without a rename, to another day than both its file name and its indexed day. It
  records what it found: a fingerprint of the tree's files (names, sizes, times) and the tree's counts.
  The next full check that finds the same fingerprint — no row of the index written since (a write forgets
  every record) — takes the counts without loading the index's rows.

A cold first run reads every post's head once. Without a cache (``--no-cache``) every head is read, each
time: the price of never losing a post.
"""
from __future__ import annotations

import hashlib
import json
import os
from array import array
from collections.abc import Iterable
from datetime import date
from functools import partial
from pathlib import Path

from digest.config.settings import Settings
from digest.errors import Problem, Skipped
from digest.runtime import parallel
from digest.runtime.cache import HeadRow, Store
from digest.runtime.env import Environment
from digest.sources.discover import Layout, Tree, find_trees, layout_of, list_tree, stat_entries
from digest.sources.index import Entry, head_prefix, make_row, read_rows

Folders = list[tuple[str, int]]  # (folder, mtime_ns) of one tree, read before it was listed
Counts = list[tuple[int, str | None, str | None, int, int]]  # (day, categories, tags, published, posts)
Counted = tuple[Counts, list[tuple[str, str]]]  # a tree's counts, and (path, reason) of its unreadable files


class SiteIndex:
    """Every post file of a site with its real day; :meth:`between` gives the files of some days."""

    def __init__(self, settings: Settings, env: Environment, *, full: bool = False):
        """Bring the index up to date (see the module's docstring; ``full``: check every file)."""
        self.settings = settings
        self.env = env
        self.layout: Layout = layout_of(settings)
        self.trees: list[Tree] = find_trees(self.layout)
        self.problems: list[Problem] = []  # files listed but gone or not regular files
        self._memory: dict[str, HeadRow] | None = None  # the whole index, when there is no cache
        self._roots = tuple(t.path + "/" for t in self.trees)
        self._counted: dict[str, Counted] = {}  # a tree's counts, when a full check has them
        with Store(env.cache_dir, settings.site_root) as cache:
            self.prefix = head_prefix(settings) if cache.enabled else ""
            if not cache.enabled:
                self._memory = self._read_all()
                return
            rules = self._rules()
            if full:
                self._check_all(cache, rules)
                return
            for tree in self.trees:
                state = cache.tree(self.prefix, tree.path)
                if state is None or not _unchanged(self.layout.root, state, rules):
                    self._relist(cache, tree, rules)

    def _rules(self) -> str:
        """What chose the files of a tree, besides its folders: the layout's rules."""
        lay = self.layout
        return hashlib.sha1(json.dumps([lay.exclude, lay.include, lay.out_dir]).encode()).hexdigest()[:16]

    def _read_all(self) -> dict[str, HeadRow]:
        listed = [f for tree in self.trees for f in list_tree(self.layout, tree)[0]]
        entries, self.problems = stat_entries(self.layout.root, sorted(set(listed)))
        return {row[0]: row for row in [*self._read(entries), *unreadable(self.problems)]}

    def _read(self, entries: list[Entry]) -> list[HeadRow]:
        return parallel.share_out(partial(read_rows, str(self.layout.root), self.settings), entries,
                                  parallel.HEAD, preload=("digest.sources.index",))

    def _relist(self, cache: Store, tree: Tree, rules: str) -> None:
        """List a tree again and check each of its files; read what is new or changed, drop what is gone."""
        files, folders = list_tree(self.layout, tree)
        known = cache.head_stats(self.prefix, tree.path)
        entries, problems = stat_entries(self.layout.root, files)
        self.problems += problems
        self._store(cache, [e for e in entries if known.get(e[0]) != (e[1], e[2])], None)
        for row in unreadable(problems):
            cache.put_head(self.prefix, row)
        listed = {e[0] for e in entries} | {p.path.as_posix() for p in problems}
        cache.drop_heads(p for p in known if p not in listed)
        cache.put_tree(self.prefix, tree.path, json.dumps([rules, folders]))

    def _check_all(self, cache: Store, rules: str) -> None:
        """Every tree listed and every file checked. A tree whose files (names, sizes, times) are those its last
        full check recorded, the index not written since, is taken as it is, with the counts recorded then;
        the others are checked against every row of the index (loaded once, when needed)."""
        known: dict[str, tuple[int, int]] | None = None
        listed: set[str] = set()
        prints: dict[str, str] = {}
        for tree in self.trees:
            files, folders = list_tree(self.layout, tree)
            files.sort()
            entries, problems = stat_entries(self.layout.root, files)
            self.problems += problems
            listed.update(files)
            prints[tree.path] = fingerprint(entries, problems)
            cache.put_tree(self.prefix, tree.path, json.dumps([rules, folders]))
            record = _record(cache.checked(self.prefix, tree.path), rules, prints[tree.path])
            if record is not None:
                self._counted[tree.path] = record
                continue
            if known is None:
                known = cache.head_stats_all(self.prefix)
            todo = []
            for e in entries:  # a plain loop: this runs over every file of the site
                was = known.get(e[0])
                if was is None or was[0] != e[1] or was[1] != e[2]:
                    todo.append(e)
            self._store(cache, todo, None)
            for row in unreadable(problems):
                cache.put_head(self.prefix, row)
        if known is None:
            return
        # rows of files gone (or of a tree not read now, kept for when it is read again)
        cache.drop_heads(p for p in known.keys() - listed if self.ours(p))
        cache.commit()  # (writing rows forgets every tree's record: all are recorded again, counted anew)
        for tree in self.trees:
            counted = self._counted.get(tree.path) or (cache.head_counts(self.prefix, tree.path),
                                                       cache.head_errors(self.prefix, tree.path))
            self._counted[tree.path] = counted
            cache.put_checked(self.prefix, tree.path, json.dumps([rules, prints[tree.path], *counted]))

    def _store(self, cache: Store, todo: list[Entry], rows: dict[str, HeadRow] | None) -> None:
        for row in self._read(sorted(todo)):
            cache.put_head(self.prefix, row)
            if rows is not None:
                rows[row[0]] = row

    def ours(self, path: str) -> bool:
        """The file belongs to a tree read now (not a ``_drafts`` tree turned off since, say)."""
        return path.startswith(self._roots)

    def counts(self) -> tuple[list[tuple[int, str | None, str | None, int, int]], list[Problem]]:
        """(day, categories, tags, published, posts) of the readable files, and the unreadable ones' problems."""
        if self._memory is not None:
            counted: dict[tuple[int, str | None, str | None, int], int] = {}
            bad: list[Problem] = []
            for r in self._memory.values():
                if r[8] is not None:
                    bad.append(Skipped(Path(r[0]), r[8]))
                elif r[3] is not None:
                    key = (r[3], r[5], r[6], int(r[7] or 0))
                    counted[key] = counted.get(key, 0) + 1
            return [(*k, n) for k, n in counted.items()], bad
        out: list[tuple[int, str | None, str | None, int, int]] = []
        problems: list[Problem] = []
        with Store(self.env.cache_dir, self.settings.site_root) as cache:
            for tree in self.trees:
                counts, errors = self._counted.get(tree.path) or (cache.head_counts(self.prefix, tree.path),
                                                                  cache.head_errors(self.prefix, tree.path))
                out += counts
                problems += [Skipped(Path(path), error) for path, error in errors]
        return out, problems

    def rows(self) -> list[HeadRow]:
        """Every row of the index (``digest list``)."""
        if self._memory is not None:
            return list(self._memory.values())
        with Store(self.env.cache_dir, self.settings.site_root) as cache:
            return [r for r in cache.heads(self.prefix).values() if self.ours(r[0])]

    def between(self, lo: date, hi: date) -> tuple[list[Entry], list[Problem]]:
        """The files whose day is in [lo, hi], each checked against the disk (a changed one is read again),
        and the problems of unreadable files whose file-name date is in [lo, hi] (or that have none)."""
        a, b = lo.toordinal(), hi.toordinal()
        if self._memory is not None:
            rows = [r for r in self._memory.values() if _near(r, a, b)]
            return _select(rows, a, b)
        with Store(self.env.cache_dir, self.settings.site_root) as cache:
            got = cache.heads_dated(self.prefix, a, b, a - 1, b + 1)
            rows = self._checked(cache, [r for r in got.values() if self.ours(r[0])])
        return _select(rows, a, b)

    def _checked(self, cache: Store, rows: list[HeadRow]) -> list[HeadRow]:
        """The rows, those of files changed on disk read again (and stored); those of vanished files dropped."""
        entries, bad = stat_entries(self.layout.root, sorted(r[0] for r in rows))
        by_path = {r[0]: r for r in rows}
        changed = [e for e in entries if (by_path[e[0]][1], by_path[e[0]][2]) != (e[1], e[2])]
        fresh = {row[0]: row for row in self._read(changed)}
        gone = [p for p in bad if not (p.path.name and os.path.lexists(self.layout.root / p.path))]
        fresh.update((row[0], row) for row in unreadable([p for p in bad if p not in gone]))
        for row in fresh.values():
            cache.put_head(self.prefix, row)
        present = {e[0] for e in entries} | {p.path.as_posix() for p in bad if p not in gone}
        cache.drop_heads(p for p in by_path if p not in present)
        return [fresh.get(p, by_path[p]) for p in sorted(present)]

    def first_day(self) -> date | None:
        """The earliest day of any post (where a catch-up starts when nothing was built yet)."""
        days = [r[3] for r in self.rows() if r[3] is not None]
        return date.fromordinal(min(days)) if days else None

    def last_day(self) -> date | None:
        """The newest day of any post (what a preview shows first)."""
        days = [r[3] for r in self.rows() if r[3] is not None]
        return date.fromordinal(max(days)) if days else None


def unreadable(problems: Iterable[Problem]) -> list[HeadRow]:
    """Index rows for files listed but not readable (a link out of the site, not a regular file): kept, so a
    build of their file-name day says why they are left out, every time."""
    return [make_row((p.path.as_posix(), 0, 0), p.message) for p in problems]


def _unchanged(root: Path, state: str, rules: str) -> bool:
    """The tree's folders still have the modification times it was listed with, under the same rules."""
    try:
        was_rules, folders = json.loads(state)
        return bool(was_rules == rules and folders and all(os.stat(root / f).st_mtime_ns == m for f, m in folders))
    except (OSError, ValueError, TypeError):
        return False


def fingerprint(entries: list[Entry], problems: list[Problem]) -> str:
    """The names, times and sizes of a tree's files (and the reasons some cannot be read), as one digest."""
    digest = hashlib.sha1("\0".join([e[0] for e in entries]).encode("utf-8", "surrogatepass"))
    digest.update(array("q", [e[1] for e in entries]).tobytes())
    digest.update(array("q", [e[2] for e in entries]).tobytes())
    digest.update(json.dumps([[p.path.as_posix(), p.message] for p in problems]).encode())
    return digest.hexdigest()


def _record(record: str | None, rules: str, fingerprint: str) -> Counted | None:
    """The counts a full check recorded, when it was made under ``rules`` of files with this fingerprint."""
    try:
        was_rules, was_print, counts, errors = json.loads(record or "null") or (None, None, None, None)
    except (ValueError, TypeError):
        return None
    if was_rules != rules or was_print != fingerprint or not isinstance(counts, list) or not isinstance(errors, list):
        return None
    return [tuple(c) for c in counts], [tuple(e) for e in errors]


def _near(row: HeadRow, a: int, b: int) -> bool:
    day, name = row[3], row[9]
    return (day is not None and a <= day <= b) or (name is not None and (name == -1 or a - 1 <= name <= b + 1))


def _select(rows: Iterable[HeadRow], a: int, b: int) -> tuple[list[Entry], list[Problem]]:
    """Readable files dated in [a, b]; the problems of unreadable ones whose file-name day is in it (or none)."""
    entries: list[Entry] = []
    problems: list[Problem] = []
    for r in sorted(rows):
        if r[8] is None:
            if r[3] is not None and a <= r[3] <= b:
                entries.append((r[0], r[1], r[2]))
        elif r[9] is not None and (r[9] == -1 or a <= r[9] <= b):
            problems.append(Skipped(Path(r[0]), r[8]))
    return entries, problems


def dated_between(index: SiteIndex, lo: date, hi: date) -> list[str]:
    """The paths a build of [lo, hi] reads: files dated in it and unreadable ones reported with it."""
    entries, problems = index.between(lo, hi)
    return sorted({e[0] for e in entries} | {p.path.as_posix() for p in problems})


def newest_paths(index: SiteIndex, n: int) -> list[str]:
    """The ``n`` newest readable posts by date (newest first; ties by path)."""
    if index._memory is not None:
        rows = [r for r in index._memory.values() if r[8] is None and r[4] is not None]
    else:
        with Store(index.env.cache_dir, index.settings.site_root) as cache:
            rows = [r for r in cache.newest_heads(index.prefix, n * 4) if index.ours(r[0])]
    rows.sort(key=lambda r: (-(r[4] or 0.0), r[0]))
    return [r[0] for r in rows[:n]]
