"""digest.jekyll's Markdown stage: kramdown's syntax as Jekyll (kramdown + kramdown-parser-gfm) renders it."""
from __future__ import annotations

import re
import time

import nh3
import pytest

from digest.jekyll.kramdown.markdown import Code, MarkdownError, MarkdownOptions, MarkdownRenderer, Math, fill
from digest.jekyll.kramdown.options import MarkdownConfigError

GFM = MarkdownRenderer()
KRAMDOWN = MarkdownRenderer(MarkdownOptions(input="kramdown"))


def html(text: str, renderer: MarkdownRenderer = GFM) -> str:
    return renderer.render(text).html


# -- attribute lists -------------------------------------------------------------------------------
def test_block_ial_after_a_block_with_class_id_and_pair() -> None:
    out = html('A paragraph.\n{: .c #intro k="v w"}\n\nNext.\n')
    assert '<p class="c" id="intro" k="v w">A paragraph.</p>' in out
    assert "<p>Next.</p>" in out and "{:" not in out


def test_block_ial_before_a_block_and_lost_before_a_blank_line() -> None:
    out = html("{:.success}\nSuccess!\n\n{:.lost}\n\nPlain.\n")
    assert '<p class="success">Success!</p>' in out
    assert "<p>Plain.</p>" in out and "lost" not in out


def test_ial_after_a_blockquote_belongs_to_the_quote() -> None:
    # cfap (Chirpy) writes prompts this way: the IAL line ends the quote and styles it
    out = html("> Watch out.\n{: .prompt-warning }\n")
    assert out.startswith('<blockquote class="prompt-warning">\n<p>Watch out.</p>')


def test_ial_after_a_list_and_a_fence() -> None:
    out = html("* one\n* two\n{: .plain}\n\n~~~\ndef what?\n~~~\n{: .language-ruby}\n")
    assert '<ul class="plain">' in out
    result = GFM.render("~~~\ndef what?\n  42\nend\n~~~\n{: .language-ruby}\n")
    assert result.codes == (Code("def what?\n  42\nend\n", "ruby", False),)


def test_span_ials_on_images_code_and_emphasis() -> None:
    out = html('![Image](https://x.test/i.jpg "T"){:width="128px" height="128px"} `ok`{:.success} '
               "**bold**{: .b}")
    assert '<img src="https://x.test/i.jpg" alt="Image" title="T" width="128px" height="128px" />' in out
    assert '<code class="success">ok</code>' in out
    assert '<strong class="b">bold</strong>' in out


def test_span_ial_after_text_stays_text_as_in_kramdown() -> None:
    assert "<p>word{:.x}</p>" in html("word{:.x}\n")


def test_ald_referenced_by_ial() -> None:
    out = html("{:note: .callout title=\"Note\"}\n\nRead this.\n{: note #n1}\n")
    assert '<p class="callout" title="Note" id="n1">Read this.</p>' in out
    assert "{:" not in out


# -- header ids and the table of contents ----------------------------------------------------------
def test_gfm_header_ids_keep_cjk_and_count_duplicates() -> None:
    out = html('# Pencil "nothing" bug\n\n## 中文 标题\n\n## Dup\n\n## Dup\n\n## Dup\n\n## Own {#mine}\n')
    for hid in ("pencil-nothing-bug", "中文-标题", "dup", "dup-1", "dup-2", "mine"):
        assert f'id="{hid}"' in out
    assert "{#mine}" not in out


def test_kramdown_header_ids_use_the_source_text() -> None:
    out = html("# 1. Hello *World*!\n\n# Hello World\n\n# 中文\n\n# 中文\n", KRAMDOWN)
    assert '<h1 id="hello-world">' in out
    assert '<h1 id="hello-world-1">' in out
    assert '<h1 id="section">' in out and '<h1 id="section-1">' in out


def test_auto_ids_off_and_prefix() -> None:
    assert "id=" not in html("# Title\n", MarkdownRenderer(MarkdownOptions(auto_ids=False)))
    assert 'id="p-title"' in html("# Title\n", MarkdownRenderer(MarkdownOptions(auto_id_prefix="p-")))


def test_toc_replaces_the_marked_list_and_skips_no_toc() -> None:
    text = "* toc\n{:toc}\n\n# One\n\n## Two *b*[^1]\n\n### Three\n{:.no_toc}\n\n#### Four\n\n[^1]: n\n"
    out = MarkdownRenderer(MarkdownOptions(toc_levels=(1, 2, 3))).render(text).html
    toc = out[: out.index("<h1")]
    assert '<ul id="markdown-toc">' in toc and ">toc<" not in toc
    assert '<a href="#one" id="markdown-toc-one">One</a>' in toc
    assert '<a href="#two-b" id="markdown-toc-two-b">Two <em>b</em></a>' in toc
    assert "three" not in toc and "four" not in toc and "fnref" not in toc
    assert re.search(r"One</a>\s*<ul>\s*<li>", toc)  # nested by level


# -- footnotes, definition lists, abbreviations ----------------------------------------------------
def test_footnotes_have_kramdown_ids_numbers_and_backlinks() -> None:
    out = html("A[^note] and B[^2] and A again[^note].\n\n[^note]: First.\n[^2]: Second.\n[^unused]: Never.\n")
    assert '<sup id="fnref:note"><a href="#fn:note" class="footnote" rel="footnote" role="doc-noteref">1</a>' in out
    assert '<sup id="fnref:note:1">' in out and '<a href="#fn:2"' in out
    assert '<li id="fn:note"><p>First.\u00a0<a href="#fnref:note" class="reversefootnote"' in out
    assert '<a href="#fnref:note:1" class="reversefootnote" role="doc-backlink">↩<sup>2</sup></a>' in out
    assert "Never" not in out


def test_footnote_number_start_and_backlink_text_from_config() -> None:
    options = MarkdownOptions.from_config({"kramdown": {"footnote_nr": 5, "footnote_backlink": "&#8617;&#xfe0e;"}})
    out = MarkdownRenderer(options).render("X[^a]\n\n[^a]: y\n").html
    assert '<ol start="5">' in out and ">5</a></sup>" in out and "↩\ufe0e</a>" in out


def test_definition_list() -> None:
    out = html("kramdown\n: A Markdown superset\n: Written in Ruby\n")
    assert "<dl>\n<dt>kramdown</dt>\n<dd>A Markdown superset</dd>\n<dd>Written in Ruby</dd>\n</dl>" in out


def test_abbreviations_are_marked_in_text_but_not_in_code() -> None:
    out = html("The CMS and HTML5 and `CMS`.\n\n*[CMS]: Content Management System\n*[HTML]: Hyper Text\n")
    assert '<abbr title="Content Management System">CMS</abbr> and HTML5' in out
    assert "<code>CMS</code>" in out and "*[" not in out


# -- HTML blocks ------------------------------------------------------------------------------------
def test_markdown_1_parses_the_content_of_an_html_block() -> None:
    out = html('<div class="x" markdown="1">\n**bold** and [a](https://x.test)\n</div>\n\nAfter.\n')
    assert out.startswith('<div class="x">')
    assert "<p><strong>bold</strong> and <a href=\"https://x.test\">a</a></p>" in out
    assert "markdown=" not in out and "<p>After.</p>" in out


def test_markdown_span_and_block_and_unquoted() -> None:
    out = html('<p markdown="span">*a*</p>\n')
    assert "<p><em>a</em></p>" in out
    out = html("<blockquote class=q markdown=1>\n18F: “*quoted*”\n</blockquote>\n")
    assert "<p>18F: “<em>quoted</em>”</p>" in out and "markdown" not in out
    out = html('<section markdown="block">\n# Inside\n</section>\n')
    assert '<h1 id="inside">Inside</h1>' in out


def test_raw_html_block_keeps_markdown_syntax_and_blank_lines() -> None:
    out = html("<div>\n**not bold**\n\n    not code\n</div>\n\n**bold**\n")
    assert "**not bold**" in out and "<pre" not in out and "    not code" in out
    assert "<p><strong>bold</strong></p>" in out


def test_markdown_1_nested_inside_a_raw_block() -> None:
    # text-theme's grid: raw outer divs, inner cells asking for Markdown
    text = ('<div class="grid">\n<div class="cell" markdown="1">\n![I](https://x.test/i.jpg){:.rounded}\n</div>\n'
            '</div>\n\nafter *x*\n')
    out = html(text)
    assert '<img src="https://x.test/i.jpg" alt="I" class="rounded" />' in out
    assert "{:" not in out and "<p>after <em>x</em></p>" in out


def test_unclosed_html_block_is_reported() -> None:
    result = GFM.render("<div>\nrest\n")
    assert any("<div> has no end tag" in p for p in result.problems)


# -- extensions ---------------------------------------------------------------------------------------
def test_nomarkdown_comment_and_options_extensions() -> None:
    out = html("{::nomarkdown}\n<b>*raw*</b>\n{:/}\n\n{::comment}\nsecret\n{:/comment}\n\n{::options auto_ids=\"false\" /}\n"
               "\nA {::nomarkdown}<i>*x*</i>{:/} and {::comment}hidden{:/}.\n")
    assert "<b>*raw*</b>" in out and "secret" not in out and "hidden" not in out
    assert "<i>*x*</i>" in out and "{:" not in out and "options" not in out


# -- tables ---------------------------------------------------------------------------------------------
def test_table_with_header_bodies_and_footer() -> None:
    text = ("|-----+-----|\n| H1 | H2 |\n|-----|:---:|\n| a | **b** |\n|-----+-----|\n| c | d |\n|=====|\n"
            "| F | G |\n|-----+-----|\n")
    out = html(text)
    assert out.count("<tbody>") == 2 and "<thead>" in out and "<tfoot>" in out
    assert '<th style="text-align: center">H2</th>' in out and "<td style=\"text-align: center\"><strong>b</strong></td>" in out
    assert "<tfoot>\n<tr>\n<td>F</td>" in out


def test_headerless_table_and_pipes_in_code() -> None:
    out = html("| a | `x|y` |\n| c \\| d | e |\n")
    assert "<thead>" not in out and "<code>x|y</code>" in out and "<td>c | d</td>" in out


def test_ial_line_is_not_a_table_row() -> None:
    out = html("| a | b |\n|---|---|\n| 1 | 2 |\n{: .wide}\n")
    assert '<table class="wide">' in out and "{:" not in out


# -- code ----------------------------------------------------------------------------------------------
def test_fences_give_language_and_placeholders() -> None:
    result = GFM.render("``` objc\nint x;\n```\n\n~~~ruby\nputs 1\n~~~\n\n```c#\nvar a;\n```\n\n    indented\n")
    assert [c.lang for c in result.codes] == ["objc", "ruby", "c#", None]
    assert result.codes[0].text == "int x;\n"
    assert "int x" not in result.html and result.html.count("<div>\ue000c") == 4


def test_line_numbers_from_rouge_options() -> None:
    options = MarkdownOptions.from_config({"kramdown": {"syntax_highlighter_opts": {"block": {"line_numbers": True}}}})
    assert MarkdownRenderer(options).render("```py\nx\n```\n").codes[0].linenos


# -- maths ---------------------------------------------------------------------------------------------
TEX = r"a \\ b \{c\} x_1 * y_2 < z & w"


def test_math_tex_reaches_the_result_byte_exact() -> None:
    result = GFM.render(f"Inline $${TEX}$$ here.\n\n$$\n{TEX}\n$$\n")
    assert result.maths == (Math(TEX, False), Math(TEX, True))
    assert "\\\\" not in result.html and "<em>" not in result.html


def test_math_block_needs_block_boundaries_like_kramdown() -> None:
    result = GFM.render("This is a para.\n$$ \\text{LaTeX} $$\n\n$$5+5$$ inline math\n\n{:.cls}\n$$5+5$$\n")
    assert [m.display for m in result.maths] == [False, False, True]
    assert '<div class="cls">\ue000m2\ue001</div>' in result.html


def test_math_delimiters_from_config() -> None:
    text = "A \\(x^2\\) and \\[y\\] and $z$.\n"
    assert GFM.render(text).maths == ()
    options = MarkdownOptions.from_config({"math_delimiters": ["$$", "\\(", "\\[", "$"]})
    assert MarkdownRenderer(options).render(text).maths == (Math("x^2", False), Math("y", True), Math("z", False))
    assert MarkdownRenderer(MarkdownOptions(math=False)).render("$$x$$\n").maths == ()


def test_fill_after_sanitising_and_own_private_use_characters_neutralised() -> None:
    result = GFM.render("Own \ue000m0\ue001 char; $$x$$\n\n```js\nlet a\n```\n")
    clean = nh3.clean(result.html)
    assert clean.count("\ue000") == 2
    done = fill(clean, ["<math>X</math>"], ['<pre class="highlight">A</pre>'])
    assert "<math>X</math>" in done and '<pre class="highlight">A</pre>' in done
    assert "\ufffdm0\ufffd" in done
    with pytest.raises(ValueError):
        fill(clean, [], [])


# -- typography -----------------------------------------------------------------------------------------
def test_smart_quotes_and_symbols_in_text_not_in_code() -> None:
    out = html("\"Hello\" -- it's 'quoted' --- and... the '80s <<x>> `\"--\"`\n")
    assert "“Hello” – it’s ‘quoted’ — and… the ’80s «x» <code>&quot;--&quot;</code>" in out


def test_smart_quote_configuration_and_no_auto_typographic() -> None:
    options = MarkdownOptions.from_config({"kramdown": {"smart_quotes": "apos,apos,quot,quot",
                                                       "gfm_quirks": "paragraph_end,no_auto_typographic"}})
    assert "<p>&quot;a&quot; -- b</p>" in MarkdownRenderer(options).render('"a" -- b\n').html


def test_hard_wrap_off_strikethrough_tasks_and_autolinks() -> None:
    out = html("a\nb\n\n~~gone~~ ~one~\n\n- [ ] todo\n- [x] done\n\n<https://x.test> and https://bare.test\n")
    assert "<p>a\nb</p>" in out and "<s>gone</s> ~one~" in out
    assert '<li class="task-list-item">☐ todo</li>' in out and '<li class="task-list-item">☑ done</li>' in out
    assert '<a href="https://x.test">https://x.test</a> and https://bare.test' in out
    linked = MarkdownRenderer(MarkdownOptions(autolink_bare_urls=True)).render("see https://bare.test\n").html
    assert '<a href="https://bare.test">' in linked
    assert "<br" in MarkdownRenderer(MarkdownOptions(hard_wrap=True)).render("a\nb\n").html


def test_more_marker_is_a_comment_between_paragraphs() -> None:
    out = html("Intro.\n\n<!--more-->\n\nRest *here*.\n")
    assert "<p>Intro.</p>\n<!--more-->\n<p>Rest <em>here</em>.</p>" in out


# -- options ---------------------------------------------------------------------------------------------
def test_options_from_a_jekyll_config() -> None:
    options = MarkdownOptions.from_config({"markdown": "kramdown", "kramdown": {
        "input": "GFM", "toc_levels": "1..3", "auto_ids": True, "hard_wrap": False,
        "smart_quotes": "lsquo,rsquo,ldquo,rdquo", "entity_output": "as_char"}})
    assert options.toc_levels == (1, 2, 3) and options.input == "GFM"
    assert MarkdownOptions.from_config({"kramdown": {"input": "kramdown", "toc_levels": [2, 3]}}).toc_levels == (2, 3)


@pytest.mark.parametrize(("config", "key"), [
    ({"kramdown": {"input": "html"}}, "kramdown.input"),
    ({"kramdown": {"toc_levels": "0..9"}}, "kramdown.toc_levels"),
    ({"kramdown": {"auto_ids": "maybe"}}, "kramdown.auto_ids"),
    ({"kramdown": {"smart_quotes": "lsquo,rsquo"}}, "kramdown.smart_quotes"),
    ({"kramdown": {"footnote_nr": "x"}}, "kramdown.footnote_nr"),
    ({"kramdown": "yes"}, "kramdown"),
    ({"markdown": "redcarpet"}, "markdown"),
    ({"math_delimiters": ["$$", "@@"]}, "math_delimiters"),
])
def test_bad_config_values_name_their_key(config: dict[str, object], key: str) -> None:
    with pytest.raises(MarkdownConfigError, match=re.escape(key)):
        MarkdownOptions.from_config(config)


# -- work limits -----------------------------------------------------------------------------------------
PATHOLOGICAL = [
    "|" * 200_000,
    "| a " * 40_000 + "\n",
    "[" * 50_000 + "x" + "]" * 50_000,
    "*a " * 60_000,
    "> " * 5_000 + "x",
    "<div>\n" * 20_000,
    '<div markdown="1">\n' * 3_000,
    "$$a\n" * 20_000,
    "{::comment}\n" * 5_000,
    "{:.a}\n" * 50_000,
    "\"'" * 50_000,
    "- " * 10_000 + "x",
    "*[A]: b\n" * 2_000 + "A " * 20_000,
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_pathological_inputs_stay_bounded(text: str) -> None:
    start = time.perf_counter()
    try:
        GFM.render(text)
    except MarkdownError as e:
        assert "\n" not in str(e)
    assert time.perf_counter() - start < 10
