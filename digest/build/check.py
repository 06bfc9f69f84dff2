"""``digest check``: every post read and rendered (no cache) and the theme loaded; every problem, one line each."""
from __future__ import annotations

from dataclasses import dataclass

from digest.assemble.assemble import unique_ids
from digest.config.settings import Settings
from digest.errors import Notice, PostError, Problem, Skipped
from digest.render.post import ContentRenderer
from digest.runtime.cache import Store
from digest.sources.collect import read_posts
from digest.sources.discover import find_post_files
from digest.theming.loader import load_theme


@dataclass(frozen=True)
class CheckReport:
    checked: int
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.skipped)


def check_site(settings: Settings) -> CheckReport:
    load_theme(settings)
    files = find_post_files(settings)
    got = read_posts(settings, files, Store(None, settings.site_root))
    renderer = ContentRenderer(settings)
    problems = list(got.problems)
    for src, pid in zip(got.posts, unique_ids(got.posts), strict=True):
        try:
            post = renderer.render(src, pid)
        except PostError as e:
            problems.append(Skipped(src.path, e.message))
            continue
        if not post.text.strip():
            problems.append(Notice(src.path, "empty body"))
    problems.sort(key=lambda p: (p.path.as_posix(), p.message))
    return CheckReport(checked=len(files), problems=tuple(problems))
