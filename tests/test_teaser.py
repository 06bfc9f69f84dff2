"""The teaser filter decides from the start of a long body exactly what it decides from the whole body."""
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from digest.model import Attribution, Post
from digest.theming.teaser import _SOURCE_LINE, TEASER_SHARE, norm, teaser


def post(summary: str, text: str) -> Post:
    return Post(id="a-1", path=Path("_posts/x.md"), title="t", date=datetime(2022, 4, 19, tzinfo=UTC),
                categories=("c",), tags=(), body_html="<p>x</p>", body_text=text, summary=summary,
                attribution=Attribution(original_url=None), slug="x", content_hash="h")


def whole(p: Post) -> str:
    """The filter's rule on the whole body, normalised at once."""
    summary = norm(p.summary.removesuffix("…"))
    if not summary:
        return ""
    body = norm("".join(line for line in p.text.splitlines() if not _SOURCE_LINE.match(line.strip())))
    return "" if body.startswith(summary) and len(summary) >= TEASER_SHARE * len(body) else p.summary


# pieces where normalising in parts could differ: combining marks after a cut, Hangul jamo that compose,
# compatibility characters that expand or turn into ASCII, final sigma, full-width forms, CJK and ASCII
PIECES = st.sampled_from(["a", "Z", " ", "\n", "1", "e\u0301", "\u0301", "\u0327", "\u1100", "\u1161", "\u11a8",
                          "가", "ﬁ", "①", "㍿", "Ａ", "ＡＢ", "，", "。", "市场", "新闻", "Σ", "ς", "σ", "ß", "İ", "\u00a8",
                          "\u0345", "（文章来源：新华社）", "\nsource: x\n", "…", "_", "ǅ", "\u2126", "Å"])
SUMMARIES = st.lists(PIECES, max_size=30).map("".join)
BODIES = st.lists(PIECES, max_size=400).map("".join)


@hsettings(max_examples=600, deadline=None, derandomize=True)
@given(SUMMARIES, BODIES, st.integers(0, 3), st.integers(1, 30))
def test_teaser_is_the_rule_on_the_whole_body(summary, text, repeat, times):
    body = summary * repeat + text * times  # (the summary is often the body's first paragraph)
    p = post(summary, body)
    assert teaser(p) == whole(p)


def test_a_long_article_keeps_its_teaser_and_a_short_item_loses_it():
    lead = "央行宣布下调存款准备金率0.5个百分点。"
    long_item = post(lead, lead + "\n" + "释放长期资金约1万亿元，市场预期稳定。" * 200)
    assert teaser(long_item) == lead == whole(long_item)
    short_item = post(lead, lead + "\n（文章来源：新华社）")
    assert teaser(short_item) == "" == whole(short_item)
