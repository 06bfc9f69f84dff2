"""digest.jekyll.kramdown.highlight: Rouge-style language names, plain fallbacks, AA-contrast stylesheet."""
from __future__ import annotations

import re

import pytest

from digest.jekyll.kramdown.highlight import contrast, highlight, lexer_for, stylesheet


@pytest.mark.parametrize(("written", "lexer"), [
    ("objc", "Objective-C"), (" objc", "Objective-C"), ("c#", "C#"), ("shell", "Bash"), ("zsh", "Bash"),
    ("terminal", "Bash Session"), ("liquid", "liquid"), ("yaml", "YAML"), ("js", "JavaScript"), ("sh", "Bash"),
    ("nginx", "Nginx configuration file"), ("scss", "SCSS"), ("tex", "TeX"), ("C", "C"), ("yml", "YAML"),
])
def test_languages_resolve_as_rouge_users_expect(written: str, lexer: str) -> None:
    found = lexer_for(written)
    assert found is not None and found.name == lexer


@pytest.mark.parametrize("lang", [None, "", "none", "mermaid", "chart", "text", "no-such-language"])
def test_plain_languages_give_escaped_code(lang: str | None) -> None:
    out = highlight('graph TD; A-->B <b>&</b>\n', lang)
    assert "<span" not in out and "A--&gt;B &lt;b&gt;&amp;&lt;/b&gt;" in out
    assert out.startswith('<pre class="highlight"><code') and out.endswith("</code></pre>")


def test_highlighted_code_uses_short_classes_and_keeps_text() -> None:
    code = 'int main(void) {\n  return "x<y";\n}\n'
    out = highlight(code, "objc")
    assert '<span class="kt">int</span>' in out and 'class="language-objc"' in out
    assert re.sub(r"<[^>]+>", "", out).replace("&lt;", "<").replace("&quot;", '"') == code.rstrip("\n")


def test_line_numbers() -> None:
    out = highlight("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n", "python", linenos=True)
    assert out.count('<span class="ln">') == 10 and '<span class="ln"> 1 </span>' in out


def _colours(css: str) -> list[str]:
    return re.findall(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", css)


def test_stylesheet_meets_aa_contrast_in_light_and_dark() -> None:
    css = stylesheet("default", "monokai", "#ffffff", "#171514")
    light, _, rest = css.partition("@media (prefers-color-scheme: dark)")
    dark = rest.split("@media print")[0]
    assert len(_colours(light)) > 20 and len(_colours(dark)) > 20
    assert all(contrast(c, "#ffffff") >= 4.5 for c in _colours(light))
    assert all(contrast(c, "#171514") >= 4.5 for c in _colours(dark))
    assert ".highlight .k {" in light and ".highlight .k {" in dark
    assert "white-space: pre-wrap" in css.split("@media print")[1]


def test_low_contrast_styles_are_corrected() -> None:
    # "friendly_grayscale" and "native" have colours under 4.5:1 on these backgrounds as shipped
    css = stylesheet("friendly_grayscale", "native")
    light, _, dark = css.partition("@media (prefers-color-scheme: dark)")
    assert all(contrast(c, "#ffffff") >= 4.5 for c in _colours(light))
    assert all(contrast(c, "#171514") >= 4.5 for c in _colours(dark.split("@media print")[0]))
    with pytest.raises(ValueError, match="no-such-style"):
        stylesheet("no-such-style")
