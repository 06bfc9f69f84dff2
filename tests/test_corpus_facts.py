"""The Jekyll corpus oracle: expected.json is what scripts/corpus_facts.py derives, and its rules match Jekyll's docs."""
from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "sites" / "jekyll"
sys.path.insert(0, str(ROOT / "scripts"))

import corpus_facts
import jekyll_rules as jr


def test_expected_json_is_regenerated_from_the_files(tmp_path: Path) -> None:
    stored = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
    out = tmp_path / "expected.json"
    corpus_facts.main([str(CORPUS), "--as-of", stored["as_of"], "--out", str(out)])
    assert out.read_text(encoding="utf-8") == (CORPUS / "expected.json").read_text(encoding="utf-8")


@pytest.mark.parametrize(("style", "cats", "url"), [
    # The examples of https://jekyllrb.com/docs/permalinks/ for _posts/2009-04-29-slap-chop.md.
    ("date", [], "/2009/04/29/slap-chop.html"),
    ("pretty", [], "/2009/04/29/slap-chop/"),
    ("ordinal", [], "/2009/119/slap-chop.html"),
    ("none", [], "/slap-chop.html"),
    ("date", ["Jekyll", "Update"], "/jekyll/update/2009/04/29/slap-chop.html"),
    ("/:categories/:title/", [], "/slap-chop/"),
])
def test_permalink_styles_follow_the_documented_examples(style: str, cats: list[str], url: str) -> None:
    when = datetime(2009, 4, 29, tzinfo=UTC)
    values = jr.placeholders(when, "slap-chop", cats, ".md", "2009-04-29-slap-chop.md")
    assert jr.render_permalink(jr.posts_template({"permalink": style}), values) == url


def test_titles_keep_case_and_unicode_but_not_spaces() -> None:
    assert jr.slugify("NSOperation & NSOperationQueue", "pretty", cased=True) == "NSOperation-&-NSOperationQueue"
    assert jr.escape_path(jr.slugify("坐标 系", "pretty", cased=True)) == "%E5%9D%90%E6%A0%87-%E7%B3%BB"


def test_hand_checked_facts() -> None:
    sites = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))["sites"]
    posts = {p["path"]: p for s in sites.values() for p in s["posts"]}
    assert sites["18f"]["posts_published"] == sites["18f"]["posts_stored"] - 1
    assert posts["_posts/2022-08-10-18f-tech-sandwich.md"]["url"] == "/2022/09/06/18f-tech-sandwich/"
    assert posts["docs/_posts/2016-06-06-lists.md"]["url"] == "/post/2016/06/06/lists.html"
    assert posts["_posts/2018-03-18-NSOperation & NSOperationQueue.md"]["url"] == "/posts/NSOperation-&-NSOperationQueue/"
    assert posts["src/_posts/notes/2016-10-24-using-ssi.md"]["url"] == "/notes/using-ssi/"
