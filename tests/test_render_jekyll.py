"""Jekyll's Liquid and kramdown through a real build (``digest build``, web edition): what each feature shows,
and each bad input reported on one line naming the file and its line, with nothing of the post lost."""
from __future__ import annotations

import re

from typer.testing import CliRunner

from digest.cli.app import app

GOOD = """{% assign who = "digest" %}{% capture greeting %}Hello {{ who }}{% endcapture %}
## Intro {#intro}

{{ greeting }} from {{ site.title }}; see [below](#maths) and {{ "/x.png" | relative_url }}.

Footnote here[^1]. A Video:

<iframe src="https://www.youtube.com/embed/abc123" title="Launch talk"></iframe>

{% highlight python linenos %}
def f(x):
    return x + 1
{% endhighlight %}

## Maths

$$a^2 + b^2 = c^2$$

Term
: Definition

[^1]: The note.
"""


def _build(site, *args: str) -> tuple[int, str, str]:
    out = site / "out"
    result = CliRunner().invoke(app, ["build", str(site), "--date", "2022-04-19", "--format", "web",
                                      "--out", str(out), "--no-cache", *args])
    page = (out / "2022" / "2022-04-19.html").read_text(encoding="utf-8") if out.exists() else ""
    return result.exit_code, result.output, page


def test_liquid_kramdown_maths_code_and_embeds_through_a_build(make_post) -> None:
    site = make_post("2022-04-19-good.md", "title: Good\ndate: 2022-04-19 10:00", GOOD)
    code, output, page = _build(site)
    assert code == 0, output
    assert "Hello digest from 测试站" in page
    # (inner ids are the article's id, a dot, the id: "x" with "y" never meets the post "x-y")
    assert 'id="a-good.intro"' in page and 'href="#a-good.maths"' in page and 'id="a-good.maths"' in page
    assert '<annotation encoding="application/x-tex">a^2 + b^2 = c^2</annotation>' in page
    assert '<pre class="highlight"><code class="language-python">' in page and '<span class="ln">' in page
    assert '<span class="k">def</span>' in page
    assert "https://www.youtube.com/watch?v=abc123" in page and "Launch talk" in page
    assert "<dt>Term</dt>" in page and "<dd>Definition</dd>" in page
    assert 'href="#a-good.fn_1"' in page and 'id="a-good.fn_1"' in page
    assert not re.search(r"\{%|\{\{|\{:", re.sub(r"<pre.*?</pre>", "", page, flags=re.S))


BAD = {
    "unknown": ("Before.\n\n{% notice %}kept{% endnotice %}\n\nAfter.\n", r"unknown-2022.*:\d+: .*notice", "kept"),
    "syntax": ("Text one.\n\n{% if x %}\nopen\n", r"syntax.*:\d+: Liquid not run", "Text one."),
    "outside": ("Inc.\n\n{% include ../../etc/passwd %}\n\nStill here.\n", r"outside.*:\d+: .*include", "Still here."),
    "loop": ("Loop.\n\n{% for i in (1..100000000) %}{{ i }}{% endfor %}\n\nEnd.\n", r"loop.*:\d+: Liquid stopped",
             "End."),
    "tex": ("Formula:\n\n$$\\frac{1}{$$\n\nAfter it.\n", r"tex.*:\d+: formula not converted", "After it."),
}


def test_each_bad_input_is_one_line_with_file_and_line_and_nothing_lost(make_post) -> None:
    for name, (body, _, _) in BAD.items():
        site = make_post(f"2022-04-19-{name}-2022.md" if name == "unknown" else f"2022-04-19-{name}.md",
                         f"title: {name}\ndate: 2022-04-19 10:00", body)
    code, output, page = _build(site)
    assert code == 0, output
    assert "Traceback" not in output
    for name, (_, line, kept) in BAD.items():
        found = [o for o in output.splitlines() if re.search(line, o)]
        assert len(found) >= 1, (name, output)
        assert kept in page, name
    assert page.count('class="article"') == len(BAD)
    assert "\\frac{1}{" in page  # the TeX shown as TeX
