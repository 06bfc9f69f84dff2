"""Sites whose posts carry the attack corpus in every front-matter key digest reads, and in the body.

Two builds cover the post fields. In the first, post ``2022-01-05-zq0123.md`` holds vector a123 as its title,
body, categories, tags, author, outlet, original URL, summary and three keys digest does not know (they reach the
templates as ``post.extra``); its article id stays ``a-zq0123``. In the second, the same post holds it as its
slug, permalink, date, layout, category and tag (strings), and again as outlet, original URL and summary through
the other spellings of those keys; its title is the marker ``zq0123``. Keys that are spellings of one field
(``source``/``outlet``; ``source_url``/``original_url``/``original``/``canonical_url``/``link``;
``excerpt``/``description``/``summary``: digest reads the first one present) take turns from post to post, so
each vector goes through two spellings of each.

A build that shows survivors is followed by one build per field with only the failing vectors, so each survivor
is reported with the field it came through.
"""
from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Any

from attack_config import Finding
from attack_harness import DAY, EpubQueue, Hit, Vector, front_matter

OUTLET_KEYS = ("source", "outlet")
URL_KEYS = ("source_url", "original_url", "original", "canonical_url", "link")
SUMMARY_KEYS = ("excerpt", "description", "summary")
OUTLET = "source/outlet"
ORIGINAL = "source_url/original_url/original/canonical_url/link"
SUMMARY = "excerpt/description/summary"
EXTRA = "unknown keys (subtitle, image, lang)"

FIRST = ("title", "body", "categories", "tags", "author", OUTLET, ORIGINAL, SUMMARY, EXTRA)
SECOND = ("slug", "permalink", "date", "layout", "category", "tag", OUTLET, ORIGINAL, SUMMARY)
FIELDS = tuple(dict.fromkeys(FIRST + SECOND))


def field_values(field: str, v: str, i: int, turn: int) -> dict[str, Any]:
    """The front matter that puts ``v`` in ``field`` (post ``i``; ``turn`` picks the other spellings)."""
    if field in ("categories", "tags"):
        return {field: [v]}
    if field == OUTLET:
        return {OUTLET_KEYS[(i + turn) % 2]: v}
    if field == ORIGINAL:
        return {URL_KEYS[(i + 2 * turn) % 5]: v}
    if field == SUMMARY:
        return {SUMMARY_KEYS[(i + turn) % 3]: v}
    if field == EXTRA:
        return {"subtitle": v, "image": v, "lang": v}
    if field == "body":
        return {}
    return {field: v}


def write_site(root: Path, vectors: list[Vector], fields: tuple[str, ...], turn: int = 0) -> Path:
    """One post per vector, the vector in each of ``fields``; everything else plain and marked."""
    posts = root / "_posts"
    posts.mkdir(parents=True)
    (root / "_config.yml").write_text("title: Attack corpus\nlang: en\ntimezone: Asia/Shanghai\n"
                                      "url: https://example.org\n", encoding="utf-8")
    # Every vector must stay an article (no merging of look-alike titles). The PDF is laid out as one document
    # (no page break per section): hundreds of pages shorter, and the path that keeps everything WeasyPrint
    # writes (the chunked path drops attachments when it joins; the config builds take both paths).
    # The email holds every article, whole (bodies) or as its summary (the second build's summary keys): its
    # size budget would otherwise leave most posts out of it. With a sender, its From header is checked too.
    content = "summary" if turn else "full"
    (root / "digest.toml").write_text(
        f"dedupe = false\n\n[pdf]\nsection_page_break = false\n\n[email]\nfrom_addr = \"digest@example.org\"\n"
        f"max_html_bytes = 100000000\ncontent = \"{content}\"\n", encoding="utf-8")
    for i, vec in enumerate(vectors):
        mark = vec.mark()
        front: dict[str, Any] = {"title": mark, "date": f"{DAY} {8 + i // 60:02d}:{i % 60:02d}:00 +0800",
                                 "categories": ["news"]}
        if "category" in fields:
            del front["categories"]
        for field in fields:
            front.update(field_values(field, vec.vector, i, turn))
        body = vec.vector if "body" in fields else "Plain text."
        text = (f"---\n{front_matter(front)}---\n\nVector {mark}.\n\n{body}\n\n"
                f"Text after [{mark}](https://example.org/ok/{mark}).\n")
        (posts / f"{DAY}-{mark}.md").write_text(text, encoding="utf-8")
    return root


def _marked(hits: list[Hit], by_num: dict[int, Vector]) -> set[int]:
    from attack_harness import MARK

    nums = set()
    for h in hits:
        for mark in h.marks:
            m = MARK.fullmatch(mark)
            if m and int(m.group(1)) in by_num:
                nums.add(int(m.group(1)))
    return nums


def _finding(hit: Hit, field: str, by_num: dict[int, Vector], candidates: list[Vector]) -> Finding:
    from attack_config import Finding
    from attack_harness import MARK, matches

    for mark in reversed(hit.marks):
        m = MARK.fullmatch(mark)
        if m and int(m.group(1)) in by_num:
            return Finding(by_num[int(m.group(1))].id, field, hit.fmt, hit.what)
    ids = [v.id for v in candidates if matches(v.vector, hit.what)] or ["?"]
    return Finding("|".join(ids[:6]) + ("|…" if len(ids) > 6 else ""), field, hit.fmt, hit.what)


class PostRun:
    """The two post builds; when either shows anything, one build per field pins each finding to its field."""

    BISECT_BUDGET = 12  # extra builds for finding the post that breaks a field's build

    def __init__(self, vectors: list[Vector], tmp: Path, epub_pool: EpubQueue):
        self.vectors, self.tmp, self.epub_pool = vectors, tmp, epub_pool
        self.by_num = {v.num: v for v in vectors}
        self.findings: list[Finding] = []
        self.builds = 0
        self.bisect_left = self.BISECT_BUDGET

    def build(self, name: str, vectors: list[Vector], fields: tuple[str, ...],
              turn: int) -> tuple[list[str], list[Hit], tuple[Future[list[str]], Path] | None, bool]:
        """(process problems, hits, EPUBCheck future) of one build of these posts."""
        from attack_harness import (
            archive_args,
            build_args,
            process_problems,
            run_cli,
            scan_outputs,
        )

        self.builds += 1
        root = self.tmp / name
        site = write_site(root / "site", vectors, fields, turn)
        out, cache = root / "out", root / "cache"
        run = run_cli(build_args(site, out), cache)
        problems = process_problems(run, expect_articles=self.expected(site, cache, fields, run, len(vectors)))
        if run.code != 0:
            problems = problems or [f"exit {run.code}: {run.stderr.strip()[:160]!r}"]
            return problems, [], None, True
        archive = run_cli(archive_args(site, out), cache)
        problems += [f"digest archive: {p}" for p in process_problems(archive)]
        if archive.code:
            problems.append(f"digest archive: exit {archive.code}: {archive.stderr.strip()[:120]!r}")
        books = list(out.rglob("*.epub"))
        check = (self.epub_pool.submit(books[0]), books[0]) if books else None
        return problems, scan_outputs(out), check, False

    @staticmethod
    def expected(site: Path, cache: Path, fields: tuple[str, ...], run: Any, count: int) -> int:
        """Articles the issue must hold: every post, but for those a date vector puts on another day (dateutil
        reads ``&#x2000;javascript:…`` as the year 2000, as Jekyll's ``Time.parse`` would): those must still be
        posts of the site, which ``digest list`` counts over every day."""
        import re

        from attack_harness import run_cli

        here = re.search(r"(\d+) articles?", run.stdout)
        if "date" not in fields or run.code != 0 or not here or int(here.group(1)) == count:
            return count
        listing = run_cli(["list", str(site)], cache)
        total = re.search(r"(\d+) posts? on", listing.stdout)
        return int(here.group(1)) if total and int(total.group(1)) == count else count

    def run(self) -> list[Finding]:
        from concurrent.futures import ThreadPoolExecutor

        from attack_config import Finding, epub_line_marks
        from attack_harness import Hit, matches

        parts = (("first", FIRST, 0), ("second", SECOND, 1))
        with ThreadPoolExecutor(len(parts)) as pool:  # the two builds at once: one core each
            built = list(pool.map(lambda part: self.build(part[0], self.vectors, part[1], part[2]), parts))
        for (name, fields, turn), (problems, hits, check, _) in zip(parts, built, strict=True):
            notes = [Hit("epubcheck", check[1].name, line, epub_line_marks(check[1], line))
                     for line in check[0].result()] if check else []
            if not problems and not hits and not notes:
                continue
            placed = _marked(hits + notes, self.by_num)
            for h in hits + notes:  # no marker reaches it: the vectors whose text it shows
                if not _marked([h], self.by_num):
                    shown = {v.num for v in self.vectors if matches(v.vector, h.what)}
                    placed |= shown or {v.num for v in self.vectors}
            suspects = [v for v in self.vectors if v.num in placed] if not problems else self.vectors
            before = len(self.findings)
            for field in fields:
                self.isolate(f"{name}-{field.split('/')[0].split(' ')[0]}", suspects, field, turn)
            # What no one-field build shows again needs several posts or fields together (two categories
            # that differ in case, a link to an id another post removed): reported from the whole build.
            explained = {(f.vectors, f.fmt) for f in self.findings[before:]}
            together = "+".join(f.split("/")[0].split(" ")[0] for f in fields)
            for p in problems:
                self.findings.append(Finding("all", together, "process", p))
            for h in hits + notes:
                f = _finding(h, together, self.by_num, self.vectors)
                if (f.vectors, f.fmt) not in explained:
                    self.findings.append(f)
        return self.findings

    def isolate(self, name: str, vectors: list[Vector], field: str, turn: int) -> None:
        """One build with only ``field`` attacked by ``vectors``; a broken build is halved (within budget)."""
        from attack_config import Finding, epub_line_marks
        from attack_harness import Hit, matches

        problems, hits, check, crashed = self.build(name, vectors, (field,), turn)
        if problems:
            if crashed and len(vectors) > 1 and self.bisect_left > 0:
                self.bisect_left -= 1
                half = len(vectors) // 2
                self.isolate(name + "a", vectors[:half], field, turn)
                self.isolate(name + "b", vectors[half:], field, turn)
                return
            for p in problems:
                shown = [v for v in vectors if matches(v.vector, p)] or vectors
                ids = "|".join(v.id for v in shown[:6]) + ("|…" if len(shown) > 6 else "")
                self.findings.append(Finding(ids, field, "process", p))
        for hit in hits:
            self.findings.append(_finding(hit, field, self.by_num, vectors))
        if check:
            for line in check[0].result():
                hit = Hit("epubcheck", check[1].name, line, epub_line_marks(check[1], line))
                self.findings.append(_finding(hit, field, self.by_num, vectors))
