"""Every post of four real Jekyll sites (tests/sites/jekyll, copied from shared/corpus/jekyll)
through the kramdown stage: no kramdown syntax left as text, maths and fenced languages captured,
in-page links landing on ids of the same post. Liquid is not processed here: ``{% raw %}`` keeps its
content, other tags are dropped (``post_url``/``link`` become a URL of another page)."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import frontmatter
import pytest
import yaml

from digest.jekyll.kramdown.markdown import MarkdownOptions, MarkdownRenderer

CORPUS = Path(__file__).parent / "sites" / "jekyll"
SITES = {"text-theme": "text-theme/docs/_config.yml", "made-mistakes": "made-mistakes/_config.yml",
         "18f": "18f/_config.yml", "cfap": "cfap/_config.yml"}
_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.DOTALL)
_COMMENT = re.compile(r"\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}", re.DOTALL)
_OTHER_PAGE = re.compile(r"\{%-?\s*(?:post_url|link)\s[^%]*%\}")
_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.DOTALL)
_FENCE = re.compile(r"( {0,3})(`{3,}|~{3,})[ \t]*([^\s`]*)")


def strip_liquid(text: str) -> str:
    raws: list[str] = []

    def keep(m: re.Match[str]) -> str:
        raws.append(m[1])
        return f"\x00{len(raws) - 1}\x00"
    text = _COMMENT.sub("", _RAW.sub(keep, text))
    text = _TAG.sub("", _OTHER_PAGE.sub("https://other.test/page/", text))
    return re.sub("\x00(\\d+)\x00", lambda m: raws[int(m[1])], text)


def fenced_languages(body: str) -> Counter[str]:
    """Languages of fences that start a block (indent ≤ 3, not inside another fence)."""
    found: Counter[str] = Counter()
    fence = ""
    for line in body.splitlines():
        m = _FENCE.match(line)
        if fence:
            if m and m[2].startswith(fence) and not m[3]:
                fence = ""
        elif m:
            fence = m[2]
            if re.fullmatch(r"[\w#+.-]+", m[3]):
                found[m[3].split("?")[0]] += 1
    return found


def posts() -> list[tuple[str, Path]]:
    return [(site, path) for site in SITES for path in sorted((CORPUS / site).rglob("_posts/**/*.md"))]


RENDERERS = {site: MarkdownRenderer(MarkdownOptions.from_config(yaml.safe_load((CORPUS / cfg).read_text())))
             for site, cfg in SITES.items()}


def test_corpus_is_complete() -> None:
    assert Counter(site for site, _ in posts()) == {"text-theme": 24, "made-mistakes": 31, "18f": 29, "cfap": 40}


@pytest.mark.parametrize(("site", "path"), posts(), ids=[f"{s}/{p.name}" for s, p in posts()])
def test_post(site: str, path: Path) -> None:
    body = strip_liquid(frontmatter.load(path).content)
    result = RENDERERS[site].render(body)
    text_only = re.sub(r"<code[^>]*>.*?</code>", "", result.html, flags=re.DOTALL)
    text_only = re.sub(r"<[^>]+>", "", text_only)
    assert not re.findall(r"\{:[^}\n]*\}|\{::[^}\n]*\}|\{:/\}", text_only)
    assert "$$" not in text_only
    for math in result.maths:
        assert f"{math.tex}$$" in body.replace(" $$", "$$").replace("\n$$", "$$")
    captured = Counter(code.lang for code in result.codes if code.lang)
    assert not fenced_languages(body) - captured
    ids = set(re.findall(r'\bid="([^"]+)"', result.html))
    for fragment in re.findall(r'<a [^>]*href="#([^"]+)"', result.html):
        assert fragment in ids, fragment


def test_corpus_maths_and_languages() -> None:
    """The features the corpus README lists arrive: 16 ``$$`` of text-theme, cfap's display block."""
    maths = RENDERERS["text-theme"].render(strip_liquid(frontmatter.load(
        CORPUS / "text-theme/docs/_posts/2017-07-07-mathjax.md").content)).maths
    assert [m.display for m in maths] == [False, False, True, True]
    assert maths[3].tex == r"x_2 = {-b - \sqrt{b^2-4ac} \over 2a} \notag"
    cfap = RENDERERS["cfap"].render(frontmatter.load(CORPUS / "cfap/_posts/2024-01-15-Cholesterol.md").content)
    assert [m.display for m in cfap.maths] == [True]
    langs = Counter(c.lang for s, p in posts() if s == "cfap"
                    for c in RENDERERS[s].render(strip_liquid(frontmatter.load(p).content)).codes)
    assert langs["objc"] >= 87 and langs["c#"] == 9 and langs["zsh"] == 12
