"""``digest check``: every post read and rendered (no cache) and the theme loaded; every problem, one line each."""
from __future__ import annotations

from dataclasses import dataclass

from digest.assemble.assemble import unique_ids
from digest.config.settings import Settings
from digest.errors import Notice, PostError, Problem, Skipped
from digest.render.post import ContentRenderer
from digest.runtime.cache import Store
from digest.runtime.env import Environment
from digest.sources.collect import read_posts
from digest.sources.discover import filename_date, find_post_files
from digest.sources.posts import SourcePost
from digest.sources.sample import settled
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
    renderer = ContentRenderer(settled(settings, Environment(None)))
    problems = list(got.problems) + date_notes(got.posts)
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


def date_notes(posts: list[SourcePost]) -> list[Problem]:
    """A post whose front-matter day is not its file name's: worth a note (Jekyll, and digest, go by the
    front matter; a reader going by the file name would look for it on the wrong day)."""
    out: list[Problem] = []
    for src in posts:
        named = filename_date(src.path.name)
        if named is not None and named != src.date.date():
            out.append(Notice(src.path, f"dated {src.date:%Y-%m-%d} in the front matter but {named} in the file "
                                        f"name: it is in the issue of {src.date:%Y-%m-%d} (the front matter wins, "
                                        "as in Jekyll)"))
    return out
