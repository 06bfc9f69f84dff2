"""Bodies past the memory budget go to an unnamed temporary file and come back intact: in this process, in a
forked worker, and as plain strings wherever a record is pickled (caches, pool workers)."""
from __future__ import annotations

import os
import pickle
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.errors import OutputError
from digest.model import Attribution, Post
from digest.runtime import parallel
from digest.runtime.spill import SMALL, Spill, Stored, StoredValue

TEXTS = ["沪深两市成交额" * 200, "naïve café — " * 100 + "\U0001F600" * 50, "<p>a &amp; b</p>\n" * 80]


def test_small_and_budgeted_texts_stay_in_memory(tmp_path):
    spill = Spill(tmp_path, budget=1 << 20)
    for text in TEXTS:
        assert spill.keep(text) is text
    past_budget = Spill(tmp_path, budget=0)
    short, cjk = "x" * (SMALL - sys.getsizeof("")), "新" * ((SMALL - sys.getsizeof("新")) // 2)
    assert past_budget.keep(short) is short and past_budget.keep(cjk) is cjk  # cheaper kept than a handle
    assert isinstance(past_budget.keep(cjk + "闻" * 2), Stored)  # a Chinese summary-sized text is not


def test_texts_past_the_budget_come_back_intact_from_an_unnamed_file(tmp_path):
    spill = Spill(tmp_path, budget=0)
    kept = [spill.keep(t) for t in TEXTS]
    assert all(isinstance(k, Stored) for k in kept)
    assert [k.read() for k in kept if isinstance(k, Stored)] == TEXTS
    assert [k.read() for k in reversed(kept) if isinstance(k, Stored)] == TEXTS[::-1]  # any order, any number of times
    assert list(tmp_path.iterdir()) == []  # no name on disk: nothing is left behind, even after kill -9
    spill.done()


def test_a_stored_text_pickles_as_the_string_itself(tmp_path):
    spill = Spill(tmp_path, budget=0)
    stored = spill.keep(TEXTS[0])
    assert isinstance(stored, Stored)
    back = pickle.loads(pickle.dumps(stored))
    assert type(back) is str and back == TEXTS[0]


def _post(html: str | Stored, text: str | Stored) -> Post:
    return Post(id="a-1", path=Path("_posts/x.md"), title="t", date=datetime(2022, 4, 19, tzinfo=UTC),
                categories=("c",), tags=(), body_html=html, body_text=text, summary="s",
                attribution=Attribution(original_url="https://news.example/1"), slug="x", content_hash="h")


def test_a_post_with_stored_bodies_reads_and_pickles_them(tmp_path):
    spill = Spill(tmp_path, budget=0)
    post = _post(spill.keep(TEXTS[2]), spill.keep(TEXTS[0]))
    assert isinstance(post.body_html, Stored) and post.html == TEXTS[2] and post.text == TEXTS[0]
    copy = pickle.loads(pickle.dumps(post))
    assert copy == _post(TEXTS[2], TEXTS[0])  # the cache and pool workers get the texts, not this process's file
    assert isinstance(copy.body_html, str) and isinstance(copy.body_text, str)


def test_a_raw_post_keeps_its_front_matter_on_disk_and_gives_it_back_whole(tmp_path):
    """A raw post's front matter (its largest part once its body is on disk) goes to the spill too: the
    renderer, the cache and a pool worker all get the mapping itself."""
    from digest.sources.posts import SourcePost, parse_post

    post = parse_post(Path("_posts/2022-04-19-x.md"), ("---\ntitle: 央行 “降准”\ncategories: [Markets, 央行]\n"
                      "source_url: https://news.example/1\nimages: [a.png, b.png]\n---\n" + TEXTS[2]).encode(), _settings(tmp_path))
    spill = Spill(tmp_path, budget=0)
    kept = replace(post, front_matter=spill.keep_value(post.front), markdown=spill.keep(post.body))
    assert isinstance(kept.front_matter, StoredValue) and isinstance(kept.markdown, Stored)
    assert kept.front == post.front and kept.body == post.body and kept.front["images"] == ["a.png", "b.png"]
    copy = pickle.loads(pickle.dumps(kept))
    assert type(copy.front_matter) is dict and copy.front == post.front and copy.body == post.body
    assert isinstance(copy, SourcePost) and copy.meta == post.meta
    small = Spill(tmp_path, budget=1 << 20)
    assert small.keep_value(post.front) is post.front  # within the budget: kept as it is


def _settings(root: Path):
    from digest.config.settings import Settings

    return Settings(site_root=root)


def _read_all(items: list[Stored]) -> list[str]:
    return [i.read() for i in items]


def test_forked_workers_read_the_parent_spill(tmp_path):
    if not parallel.can_fork():
        pytest.skip("this platform does not fork")
    spill = Spill(tmp_path, budget=0)
    kept = [spill.keep(t * 3) for t in TEXTS]
    assert all(isinstance(k, Stored) for k in kept)
    got = parallel.fork_map(_read_all, [kept[:1], kept[1:]])  # the second share runs in a forked child
    assert [t for part in got for t in part] == [t * 3 for t in TEXTS]


def test_a_folder_that_cannot_hold_the_file_is_one_clear_error(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    spill = Spill(blocker / "sub", budget=0)
    with pytest.raises(OutputError) as e:
        spill.keep(TEXTS[0])
    assert str(blocker / "sub") in str(e.value)


def test_no_file_descriptor_is_left_open(tmp_path):
    import gc

    gc.collect()  # (files an earlier test left to the collector are closed now, not during the count below)
    before = len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").is_dir() else None
    spill = Spill(tmp_path, budget=0)
    stored = spill.keep(TEXTS[0])
    opened = len(os.listdir("/proc/self/fd")) if before is not None else None
    assert isinstance(stored, Stored) and (before is None or opened == before + 1)
    del stored, spill
    gc.collect()
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before
