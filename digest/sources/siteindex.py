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
  records what it found: the tree's names, a fingerprint of its files (names, sizes, times) and its counts.
  The next full check takes the names while the tree's folders are unchanged (:mod:`digest.sources.listing`)
  and, finding the same fingerprint — no row of the index written since (a write forgets every record) —
  the counts, without loading the index's rows.

A cold first run reads every post's head once. Without a cache (``--no-cache``) every head is read, each
time: the price of never losing a post.
"""
from __future__ import annotations

import hashlib
import json
import os
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
from digest.sources.listing import (
    LISTED,
    Checked,
    Listing,
    Stats,
    listed_now,
    load_checked,
    load_listed,
    stat_files,
    tree_listing,
)

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
        """Every file of every tree checked. A tree whose files (names, times, sizes) are those its last full
        check recorded, the index not written since, is taken as it is, with the counts recorded then (its
        names, too, while its folders are unchanged: :mod:`digest.sources.listing`); in the others every file
        changed is read again (loading the index's rows once, when needed)."""
        known: dict[str, tuple[int, int]] | None = None
        listings: dict[str, Listing] = {}
        stats: dict[str, Stats] = {}
        for tree in self.trees:
            record = load_checked(cache.checked(self.prefix, tree.path), rules)
            listed = load_listed(cache.tree(self.prefix, tree.path + LISTED), rules)
            listing = listings[tree.path] = tree_listing(self.layout, tree, listed)
            if listing.relisted:
                cache.put_tree(self.prefix, tree.path, json.dumps([rules, listing.folders]))
            got = stats[tree.path] = stat_files(self.layout.root, listing.files)
            self.problems += got.problems.values()
            if record is not None and got.fingerprint(listing.joined) == record.fingerprint:
                self._counted[tree.path] = (record.counts, record.errors)
                if listing.relisted:  # the same files, a folder changed (a file added and removed)
                    cache.put_tree(self.prefix, tree.path + LISTED, listed_now(rules, listing, got).dump())
                continue
            if known is None:
                known = cache.head_stats_all(self.prefix)
            self._update(cache, known, listing.files, got, listed.ctime_of() if listed else {})
            cache.put_tree(self.prefix, tree.path + LISTED, listed_now(rules, listing, got).dump())
        if known is not None:
            self._recount(cache, known, rules, listings, stats)

    def _update(self, cache: Store, known: dict[str, tuple[int, int]], files: list[str], got: Stats,
                ctimes: dict[str, int]) -> None:
        """Read the files new or changed since the index's rows were made — a file whose change time is not
        the one recorded too, even if its modification time and size are (set back after an edit)."""
        todo = []
        mtimes, sizes, now = got.mtimes, got.sizes, got.ctimes
        for i, path in enumerate(files):  # a plain loop: this runs over every file of the site
            if i in got.problems:
                continue
            was = known.get(path)
            if was is None or was[0] != mtimes[i] or was[1] != sizes[i] or ctimes.get(path, now[i]) != now[i]:
                todo.append((path, mtimes[i], sizes[i]))
        self._store(cache, todo, None)
        for row in unreadable(got.problems.values()):
            cache.put_head(self.prefix, row)

    def _recount(self, cache: Store, known: dict[str, tuple[int, int]], rules: str, listings: dict[str, Listing],
                 stats: dict[str, Stats]) -> None:
        """Drop the rows of files gone, write what is pending, and record every tree anew with its counts."""
        listed = {f for listing in listings.values() for f in listing.files}
        # rows of files gone (or of a tree not read now, kept for when it is read again)
        cache.drop_heads(p for p in known.keys() - listed if self.ours(p))
        cache.commit()  # (writing rows forgets every tree's record: all are recorded again, counted anew)
        for tree in self.trees:
            counted = self._counted.get(tree.path) or (cache.head_counts(self.prefix, tree.path),
                                                       cache.head_errors(self.prefix, tree.path))
            self._counted[tree.path] = counted
            self._record(cache, tree.path, rules, listings[tree.path], stats[tree.path])

    def _record(self, cache: Store, path: str, rules: str, listing: Listing, got: Stats) -> None:
        counts, errors = self._counted[path]
        cache.put_checked(self.prefix, path, Checked(rules, got.fingerprint(listing.joined), counts, errors).dump())

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
        found = [self._counted.get(tree.path) for tree in self.trees]
        if None in found:  # (a full check counted every tree: the cache is not opened again)
            with Store(self.env.cache_dir, self.settings.site_root) as cache:
                found = [got or (cache.head_counts(self.prefix, tree.path), cache.head_errors(self.prefix, tree.path))
                           for tree, got in zip(self.trees, found, strict=True)]
        for got in found:
            assert got is not None
            out += got[0]
            problems += [Skipped(Path(path), error) for path, error in got[1]]
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
