"""Jekyll's Liquid (digest.jekyll): each tag and filter, each kind of bad input, the work limits.

The site is tests/data/liquid/site (config, _includes, _data, a post and a collection file);
every expected output is written out in full.
"""
from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from digest.jekyll.liquid.engine import Limits, LiquidRenderer, LiquidResult
from digest.jekyll.liquid.site import JekyllSite, link_resolver, load_site_data, post_resolver

FIXTURE = Path(__file__).parent / "data" / "liquid" / "site"
POST = "_posts/2019-01-01-first.md"
PAGE = {"title": "Page Title", "date": datetime(2008, 11, 7, 13, 7, 54), "url": "/2008/11/07/x.html",
        "tags": ["a", "b"], "inc": "card.html"}
NOT_RUN = "Liquid not run (text kept, markup removed): "
STOPPED = "Liquid stopped (text kept, markup removed): "


def make_renderer(root: Path = FIXTURE, *, with_time: bool = True, **options: object) -> LiquidRenderer:
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    urls = {POST: "/2019/01/01/first.html"}
    site = JekyllSite.from_config(
        root, config, resolve_post=post_resolver(urls),
        resolve_link=link_resolver({**urls, "_work/theme.md": "/work/theme/"}),
        data=load_site_data(root, config).data,
        time=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC) if with_time else None)
    return LiquidRenderer(site, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def liquid() -> LiquidRenderer:
    return make_renderer()


def render(renderer: LiquidRenderer, text: str, **options: object) -> LiquidResult:
    page = options.pop("page", PAGE)
    path = options.pop("path", POST)
    return renderer.render(text, page=page, path=path, **options)  # type: ignore[arg-type]


def ok(renderer: LiquidRenderer, text: str) -> str:
    result = render(renderer, text)
    assert result.problems == (), result.problems
    assert result.ran
    return result.text


def messages(result: LiquidResult) -> list[str]:
    return [str(problem) for problem in result.problems]


# --- the fast path and the basics -----------------------------------------------------------

def test_a_post_without_liquid_is_returned_as_it_is(liquid: LiquidRenderer) -> None:
    text = "# Title\n\nNo markup here: { % and } } are not Liquid.\n"
    result = render(liquid, text)
    assert result.text is text and result.problems == () and result.ran


def test_site_and_page_variables(liquid: LiquidRenderer) -> None:
    text = ("{{ site.title }}|{{ site.author.name }}|{{ site.url }}{{ site.baseurl }}|{{ site.data.authors.ada.name }}|"
            "{{ site.data.nav.main[1].title }}|{{ site.data.table[1].name }}-{{ site.data.tabs[0].count }}|"
            "{{ site.data._private }}|{{ page.title }}|{{ page.url }}|{{ page.tags | join: '+' }}|"
            "{{ site.time | date: '%Y-%m-%d' }}|{{ page.missing }}|{{ jekyll.environment }}")
    assert ok(liquid, text) == ("Fixture Blog|Ada|https://example.org/blog|Ada Lovelace|About|beta-3||Page Title|"
                                "/2008/11/07/x.html|a+b|2024-05-06||production")


def test_control_flow(liquid: LiquidRenderer) -> None:
    text = ("{% assign n = 3 %}{% capture c %}n={{ n | plus: 1 }}{% endcapture %}{{ c }}|"
            "{% if n > 5 %}big{% elsif n == 3 %}three{% else %}other{% endif %}|"
            "{% unless n == 3 %}no{% else %}yes{% endunless %}|"
            "{% case page.title %}{% when 'x' %}x{% when 'Page Title' %}title{% else %}?{% endcase %}|"
            "{% for i in (1..10) limit: 3 offset: 2 %}{{ i }}{% endfor %}|"
            "{% for i in (1..4) reversed %}{{ i }}{% unless forloop.last %},{% endunless %}{% endfor %}|"
            "{% for t in page.tags %}{{ forloop.index }}{{ t }}{% endfor %}|"
            "{% comment %}hidden {{ page.title }} {% if %}{% endcomment %}|"
            "a {%- if true -%} b {%- endif -%} c")
    assert ok(liquid, text) == "n=4|three|yes|title|345|4,3,2,1|1a2b||abc"


def test_raw_content_is_kept_verbatim(liquid: LiquidRenderer) -> None:
    text = "before {% raw %}{{ page.title }} {% if x %} {% nosuch %}{% endraw %} after {%- raw -%} {{ y }} {%- endraw -%}!"
    assert ok(liquid, text) == "before {{ page.title }} {% if x %} {% nosuch %} after {{ y }} !"


# --- highlight ------------------------------------------------------------------------------

def test_highlight_becomes_a_fenced_block_with_its_code_verbatim(liquid: LiquidRenderer) -> None:
    text = "Code:\n\n{% highlight ruby %}\ndef x\n  {{ y }} {% if %}\nend\n{% endhighlight %}\n\nAfter.\n"
    assert ok(liquid, text) == "Code:\n\n```ruby\ndef x\n  {{ y }} {% if %}\nend\n```\n\nAfter.\n"


def test_highlight_options_go_into_the_info_string(liquid: LiquidRenderer) -> None:
    text = ('{% highlight js linenos %}\na\n{% endhighlight %}\n'
            '{% highlight python mark_lines="1 2" %}\nb\n{% endhighlight %}\n'
            '{% highlight none %}\nc\n{% endhighlight %}')
    assert ok(liquid, text) == ('```js {linenos}\na\n```\n```python {mark_lines="1 2"}\nb\n```\n'
                                "```none\nc\n```")


def test_highlight_fence_is_longer_than_any_backtick_run_inside(liquid: LiquidRenderer) -> None:
    text = "{% highlight markdown %}\n````\nnested ``` fence\n````\n{% endhighlight %}"
    out = ok(liquid, text)
    assert out == "`````markdown\n````\nnested ``` fence\n````\n`````"
    html = MarkdownIt().render(out)
    assert html == '<pre><code class="language-markdown">````\nnested ``` fence\n````\n</code></pre>\n'


def test_highlight_raw_markers_inside_are_dropped_and_the_rest_kept(liquid: LiquidRenderer) -> None:
    text = "{% highlight liquid %}\n{% raw %}{{ page.title }}{% endraw %}\n{% endhighlight %}"
    assert ok(liquid, text) == "```liquid\n{{ page.title }}\n```"


def test_highlight_inside_a_list_item_stays_in_it(liquid: LiquidRenderer) -> None:
    text = "1. Step one:\n\n   {% highlight sh %}\n   make\n     indented\n   {% endhighlight %}\n2. Step two\n"
    out = ok(liquid, text)
    assert out == "1. Step one:\n\n   ```sh\n   make\n     indented\n   ```\n2. Step two\n"
    html = MarkdownIt().render(out)
    assert '<li>\n<p>Step one:</p>\n<pre><code class="language-sh">make\n  indented\n</code></pre>\n</li>' in html


def test_highlight_written_inline_gets_lines_of_its_own(liquid: LiquidRenderer) -> None:
    text = "See {% highlight js %}x(){% endhighlight %}</div> here {%- highlight c -%} y {%- endhighlight -%}  z"
    assert ok(liquid, text) == "See \n```js\nx()\n```\n</div> here\n```c\n y \n```\nz"


def test_highlight_whitespace_control_of_an_earlier_tag_does_not_leak_past_it(liquid: LiquidRenderer) -> None:
    text = "{%- raw -%} r {%- endraw -%}\n{% highlight js %}\nx\n{% endhighlight %}\n\nNext paragraph."
    assert ok(liquid, text) == " r \n```js\nx\n```\n\nNext paragraph."


def test_highlight_with_options_it_cannot_read_is_reported_and_still_code(liquid: LiquidRenderer) -> None:
    result = render(liquid, "x\n{% highlight js linenos=x=y %}\ncode\n{% endhighlight %}")
    assert result.text == "x\n```js\ncode\n```" and result.ran
    assert messages(result) == [("highlight: cannot read 'js linenos=x=y' (expected LANG [linenos] "
                                "[mark_lines=\"1 2\"]) at line 2")]


def test_highlight_without_a_language_is_reported_and_still_code(liquid: LiquidRenderer) -> None:
    result = render(liquid, "{% highlight %}\ncode\n{% endhighlight %}")
    assert result.text == "```\ncode\n```" and result.ran
    assert messages(result) == ["highlight: no language given (expected LANG [linenos]) at line 1"]


def test_an_unclosed_highlight_keeps_the_text(liquid: LiquidRenderer) -> None:
    result = render(liquid, "Intro {{ page.title }}\n\n{% highlight js %}\nvar x;\n", first_line=5)
    assert messages(result) == [NOT_RUN + "'highlight' block was never closed (no 'endhighlight') at line 7"]
    assert result.text == "Intro \n\n\nvar x;\n" and not result.ran


# --- include --------------------------------------------------------------------------------

def test_include_with_parameters_in_jekyll_syntax(liquid: LiquidRenderer) -> None:
    text = ('{% include card.html title="Note on {{ page.title }}" author=site.author.name %}\n'
            "{% include card.html title='single' author=page.tags[1] %}\n"
            "{% include {{ page.inc }} title=\"dynamic\" %}")
    assert ok(liquid, text) == ('<div class="card">Note on Page Title by Ada</div>\n\n'
                                '<div class="card">single by b</div>\n\n<div class="card">dynamic by </div>\n')


def test_nested_cached_and_relative_includes(liquid: LiquidRenderer) -> None:
    text = ("{% include outer.html who='you' %}\n{% include_cached boilerplate/tools.md %}\n"
            "{% include_relative snippets/note.md %}")
    assert ok(liquid, text) == "[inner you]\n#### Tools used\n\n- Pencil\n- Page Title\n\nsnippet for Page Title\n"


def test_a_missing_include_is_one_problem_and_the_rest_renders(liquid: LiquidRenderer) -> None:
    result = render(liquid, "Title: {{ page.title }}\n\n{% include nope.html %}\nEnd.", first_line=4)
    assert result.text == "Title: Page Title\n\n\nEnd." and result.ran
    assert messages(result) == ["include 'nope.html': no such file in _includes/ at line 6"]


@pytest.mark.parametrize("markup", [
    "include ../secret.txt", "include boilerplate/../../secret.txt", "include /etc/hostname",
    "include_relative ../../secret.txt", "include_relative /etc/hostname",
])
def test_includes_outside_their_folder_are_refused_without_reading(liquid: LiquidRenderer, markup: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[Path] = []
    real_open = Path.open

    def spy(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        opened.append(self.resolve())
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", spy)
    result = render(liquid, f"Before.\n{{% {markup} %}}\nAfter.")
    assert result.text == "Before.\n\nAfter." and result.ran
    name = markup.split()[1]
    assert messages(result) == [f"{markup.split()[0]} '{name}': outside the includes folder, refused at line 2"]
    assert opened == []


def test_an_include_symlinked_out_of_the_site_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "site"
    shutil.copytree(FIXTURE, root)
    outside = tmp_path / "private.txt"
    outside.write_text("PRIVATE-KEY\n", encoding="utf-8")
    (root / "_includes" / "link.html").symlink_to(outside)
    (root / "_includes" / "dir").symlink_to(tmp_path)
    opened: list[Path] = []
    real_open = Path.open
    renderer = make_renderer(root)
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: opened.append(self) or real_open(self, *a, **k))
    result = render(renderer, "{% include link.html %}\n{% include dir/private.txt %}")
    assert "PRIVATE" not in result.text and opened == []
    assert messages(result) == [
        "include 'link.html': leads outside the includes folder (symlink?), refused at line 1",
        "include 'dir/private.txt': leads outside the includes folder (symlink?), refused at line 2"]


def test_an_includes_folder_symlinked_out_of_the_site_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "site"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("_includes"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "card.html").write_text("FROM-OUTSIDE", encoding="utf-8")
    (root / "_includes").symlink_to(elsewhere)
    result = render(make_renderer(root), "{% include card.html %}")
    assert result.text == "" and messages(result) == [
        "include 'card.html': leads outside the includes folder (symlink?), refused at line 1"]


def test_problems_inside_an_include_name_the_include_and_the_post_line(liquid: LiquidRenderer) -> None:
    for _ in range(2):  # the second post gets them too, although the include is parsed once
        result = render(liquid, "Intro\n\n{% include quirky.html x=1 %}")
        assert result.text == "Intro\n\nfirst line\nsecond \nthird\n" and result.ran
        assert messages(result) == [
            "unknown Liquid tag 'nosuchtag' (in include 'quirky.html', line 3) at line 3",
            "unknown Liquid filter 'nosuchfilter' (in include 'quirky.html', line 2) at line 3"]


def test_a_syntax_error_inside_an_include_does_not_stop_the_post(liquid: LiquidRenderer) -> None:
    result = render(liquid, "{{ page.title }}\n{% include broken.html %}")
    assert result.ran and result.text.startswith("Page Title\none\n")
    assert messages(result) == ["if: missing expression (in include 'broken.html', line 2) at line 2"]


# --- post_url and link ----------------------------------------------------------------------

def test_post_url_and_link_resolve_with_the_baseurl(liquid: LiquidRenderer) -> None:
    text = ("[a]({% post_url 2019-01-01-first %}) [b]({% post_url /2019-01-01-first %}) "
            "[c]({% link _posts/2019-01-01-first.md %}) [d]({% link _work/theme.md %})")
    assert ok(liquid, text) == ("[a](/blog/2019/01/01/first.html) [b](/blog/2019/01/01/first.html) "
                                "[c](/blog/2019/01/01/first.html) [d](/blog/work/theme/)")


def test_unknown_targets_give_an_empty_link_and_a_problem(liquid: LiquidRenderer) -> None:
    result = render(liquid, "[a]({% post_url 2020-02-02-gone %})\n[b]({% link _work/none.md %})\n"
                            "[c]({% post_url not-a-post %})")
    assert result.text == "[a]()\n[b]()\n[c]()" and result.ran
    assert messages(result) == ["post_url '2020-02-02-gone': no such post at line 1",
                                "link '_work/none.md': no such file in the site at line 2",
                                "post_url 'not-a-post': not a post name (YYYY-MM-DD-title) at line 3"]


# --- filters --------------------------------------------------------------------------------

def test_date_filters(liquid: LiquidRenderer) -> None:
    text = ("{{ page.date | date_to_string }}|{{ page.date | date_to_string: 'ordinal', 'US' }}|"
            "{{ page.date | date_to_long_string }}|{{ page.date | date_to_long_string: 'ordinal' }}|"
            "{{ page.date | date_to_xmlschema }}|{{ page.date | date_to_rfc822 }}|"
            "{{ '2019-02-03T04:05:06+09:00' | date_to_xmlschema }}|{{ 'now' | date: '%H:%M' }}|"
            "{{ page.nothing | date_to_string }}")
    assert ok(liquid, text) == ("07 Nov 2008|Nov 7th, 2008|07 November 2008|7th November 2008|"
                                "2008-11-07T13:07:54+01:00|Fri, 07 Nov 2008 13:07:54 +0100|"
                                "2019-02-03T04:05:06+09:00|07:08|")


def test_now_needs_the_build_time_and_a_bad_date_is_reported() -> None:
    result = render(make_renderer(with_time=False), "a {{ 'now' | date_to_string }}\nb {{ 'soon' | date_to_string }} c")
    assert result.text == "a \nb  c" and result.ran
    assert messages(result) == ["date_to_string: 'now' has no value: the build time was not given at line 1",
                                "date_to_string: invalid date 'soon' at line 2"]


def test_url_and_escape_filters(liquid: LiquidRenderer) -> None:
    text = ("{{ '/assets/a b.png' | relative_url }}|{{ 'x' | relative_url }}|{{ '' | relative_url }}|"
            "{{ '/坐标系.png' | relative_url }}|{{ '/p/' | absolute_url }}|{{ 'https://o.org/x' | absolute_url }}|"
            "{{ '//cdn.org/x' | relative_url }}|{{ nil | relative_url }}|"
            "{{ '<a href=\"x\">&' | xml_escape }}|{{ 'a b&c/d?é' | cgi_escape }}|{{ 'a b/é?x=1#f' | uri_escape }}")
    assert ok(liquid, text) == ("/blog/assets/a%20b.png|/blog/x|/blog|/blog/%E5%9D%90%E6%A0%87%E7%B3%BB.png|"
                                "https://example.org/blog/p/|https://o.org/x|//cdn.org/x||"
                                "&lt;a href=&quot;x&quot;&gt;&amp;|a+b%26c%2Fd%3F%C3%A9|a%20b/%C3%A9?x=1#f")


def test_markdownify_is_the_callers_or_keeps_the_text(liquid: LiquidRenderer) -> None:
    assert ok(liquid, "{{ '**b**' | markdownify }}") == "**b**"
    md = MarkdownIt()
    assert ok(make_renderer(markdownify=md.render), "{{ '**b**' | markdownify }}") == "<p><strong>b</strong></p>\n"


@pytest.mark.parametrize(("args", "expected"), [
    ("", "the-config-yml-file"), (": 'default'", "the-config-yml-file"), (": 'pretty'", "the-_config.yml-file"),
    (": 'raw'", "the-_config.yml-file"), (": 'none'", "the _config.yml file"), (": 'default', true", "The-config-yml-file"),
])
def test_slugify_modes(liquid: LiquidRenderer, args: str, expected: str) -> None:
    assert ok(liquid, f"{{{{ 'The _config.yml file' | slugify{args} }}}}") == expected


def test_slugify_ascii_latin_and_other_scripts(liquid: LiquidRenderer) -> None:
    text = ("{{ 'The _cönfig.yml file' | slugify: 'ascii' }}|{{ 'The _cönfig.yml file' | slugify: 'latin' }}|"
            "{{ 'Straße Ærø' | slugify: 'latin' }}|{{ '中文 标题！' | slugify }}|{{ '  --x--  ' | slugify }}")
    assert ok(liquid, text) == "the-c-nfig-yml-file|the-config-yml-file|strasse-aero|中文-标题|x"


def test_text_filters(liquid: LiquidRenderer) -> None:
    text = ("{{ site.data.nav.main | jsonify }}|{{ 'a b\n c' | number_of_words }}|"
            "{{ '中文 words here' | number_of_words: 'cjk' }}|{{ 'plain words' | number_of_words: 'auto' }}|"
            "{{ ' a \n\t b ' | normalize_whitespace }}|{% capture q %}\"Hi\" -- it's...{% endcapture %}{{ q | smartify }}|"
            "{{ '<p>x <b>y</b></p>' | strip_html }}|{{ page.tags | inspect }}|{{ nil | inspect }}|"
            "{{ '12abc' | to_integer }}|{{ 3.9 | to_integer }}|{{ true | to_integer }}|{{ 'x' | to_integer }}")
    assert ok(liquid, text) == ('[{"title":"Home","url":"/"},{"title":"About","url":"/about/"}]|3|4|2|a b|'
                                "“Hi” – it’s…|x y|[&quot;a&quot;, &quot;b&quot;]|nil|12|3|1|0")


def test_array_to_sentence_string(liquid: LiquidRenderer) -> None:
    text = ("{% assign one = 'a' | split: ',' %}{% assign two = 'a,b' | split: ',' %}"
            "{% assign three = 'a,b,c' | split: ',' %}{% assign none = '' | split: ',' %}"
            "[{{ none | array_to_sentence_string }}]{{ one | array_to_sentence_string }}|"
            "{{ two | array_to_sentence_string }}|{{ three | array_to_sentence_string }}|"
            "{{ three | array_to_sentence_string: 'or' }}")
    assert ok(liquid, text) == "[]a|a and b|a, b, and c|a, b, or c"


PEOPLE = ("{% assign people = site.data.authors | sort: 'born' %}"
          "{% capture raw %}x{% endcapture %}")


def test_where_find_and_their_expressions(liquid: LiquidRenderer) -> None:
    text = (PEOPLE + "{{ site.data.authors | where: 'born', 1815 | map: 'name' | join }}|"
            "{{ site.data.authors | where: 'born', '1906' | map: 'name' | join }}|"
            "{{ site.data.authors | where_exp: 'p', 'p.born > 1900' | map: 'name' | join }}|"
            "{{ site.data.authors | find: 'name', 'Ada Lovelace' | map: 'born' }}|"
            "{{ site.data.authors | find_exp: 'p', \"p.name contains 'Grace'\" | map: 'born' }}|"
            "{{ site.data.authors | find: 'name', 'Nobody' | jsonify }}|"
            "{% assign tagged = site.data.nav.main | where: 'url', '/' %}{{ tagged.size }}")
    assert ok(liquid, text) == "Ada Lovelace|Grace Hopper|Grace Hopper|1815|1906|null|1"


def test_group_by_and_group_by_exp(liquid: LiquidRenderer) -> None:
    text = ("{% assign items = site.data.table | concat: site.data.tabs %}"
            "{% assign g = items | group_by: 'count' %}{% for x in g %}{{ x.name }}:{{ x.size }};{% endfor %}|"
            "{% assign g = items | group_by_exp: 'i', \"i.name | size | modulo: 2\" %}"
            "{% for x in g %}{{ x.name }}={{ x.items | map: 'name' | join: '+' }};{% endfor %}")
    assert ok(liquid, text) == "1:1;2:1;3:1;|1=alpha+gamma;0=beta;"


def test_sort_with_nils_first_and_last(liquid: LiquidRenderer) -> None:
    text = ("{% assign items = site.data.nav.main | push: site.data.table[0] %}"
            "{{ items | sort: 'title' | map: 'name' | join: ',' }}|{{ items | sort: 'title', 'last' | map: 'url' | join }}|"
            "{{ '3,1,2' | split: ',' | sort | join }}")
    assert ok(liquid, text) == "alpha,,|/about/ / |1 2 3"


def test_sort_of_nothing_and_a_bad_nils_order_are_reported(liquid: LiquidRenderer) -> None:
    result = render(liquid, "{{ page.nothing | sort }}|{{ page.tags | sort: 'x', 'middle' }}|ok")
    assert result.text == "||ok"
    assert messages(result) == ["sort: cannot sort a null object at line 1",
                                "sort: invalid nils order 'middle': it must be 'first' or 'last' at line 1"]


def test_sample_is_deterministic(liquid: LiquidRenderer) -> None:
    text = "{% assign xs = 'a,b,c,d,e,f,g,h' | split: ',' %}{{ xs | sample }}|{{ xs | sample: 3 | join }}"
    first = ok(liquid, text)
    again = ok(make_renderer(), text)
    assert first == again
    one, three = first.split("|")
    assert one in "abcdefgh" and len(set(three.split())) == 3 and set(three.split()) <= set("abcdefgh")


def test_push_pop_shift_unshift_leave_the_array_alone(liquid: LiquidRenderer) -> None:
    text = ("{% assign xs = '1,2,3' | split: ',' %}{{ xs | push: '4' | join }}|{{ xs | pop | join }}|"
            "{{ xs | pop: 2 | join }}|{{ xs | shift | join }}|{{ xs | unshift: '0' | join }}|{{ xs | join }}|"
            "{{ 'str' | push: 1 }}")
    assert ok(liquid, text) == "1 2 3 4|1 2|1|2 3|0 1 2 3|1 2 3|str"


# --- plugin tags ----------------------------------------------------------------------------

def test_embed_tags_become_link_cards(liquid: LiquidRenderer) -> None:
    text = ("{% youtube cleK43E6M6o %}\n{% youtube https://youtu.be/abc %}\n{% vimeo 34948855 %}\n"
            "{% tweet https://twitter.com/18F/status/1 %}\n{% twitter https://x.com/a/status/2 maxwidth=500 %}\n"
            "{% oembed https://www.youtube.com/watch?v=q&list=1 %}\n{% oembed https://example.com/thing %}\n"
            "{% gist parkr/931c1c8d465a04042403 %}\n{% video https://media.org/v.mp4 %}")
    assert ok(liquid, text).split("\n") == [
        ('<p class="embed">Video: YouTube — <a href="https://www.youtube.com/watch?v=cleK43E6M6o">'
        "https://www.youtube.com/watch?v=cleK43E6M6o</a></p>"),
        '<p class="embed">Video: YouTube — <a href="https://youtu.be/abc">https://youtu.be/abc</a></p>',
        '<p class="embed">Video: Vimeo — <a href="https://vimeo.com/34948855">https://vimeo.com/34948855</a></p>',
        '<p class="embed">Tweet — <a href="https://twitter.com/18F/status/1">https://twitter.com/18F/status/1</a></p>',
        '<p class="embed">Tweet — <a href="https://x.com/a/status/2">https://x.com/a/status/2</a></p>',
        ('<p class="embed">Video: YouTube — <a href="https://www.youtube.com/watch?v=q&amp;list=1">'
        "https://www.youtube.com/watch?v=q&amp;list=1</a></p>"),
        ('<p class="embed">Embedded content: example.com — <a href="https://example.com/thing">'
        "https://example.com/thing</a></p>"),
        ('<p class="embed">Gist: GitHub — <a href="https://gist.github.com/parkr/931c1c8d465a04042403">'
        "https://gist.github.com/parkr/931c1c8d465a04042403</a></p>"),
        '<p class="embed">Video: media.org — <a href="https://media.org/v.mp4">https://media.org/v.mp4</a></p>',
    ]


def test_embed_labels_can_be_translated(liquid: LiquidRenderer) -> None:
    labels = {"video": "视频", "dash": "：", "tweet": "推文", "gist": "代码", "embed": "嵌入内容"}
    out = ok(make_renderer(labels=labels), "{% youtube abc %}")
    assert out == '<p class="embed">视频: YouTube：<a href="https://www.youtube.com/watch?v=abc">' \
                  "https://www.youtube.com/watch?v=abc</a></p>"


def test_an_embed_without_a_web_address_links_nothing(liquid: LiquidRenderer) -> None:
    result = render(liquid, "a {% oembed javascript:alert(1) %} b {% youtube %}")
    assert result.text == "a  b " and "javascript" not in result.text
    assert messages(result) == ["oembed: no web address or id to link to ('javascript:alert(1)') at line 1",
                                "youtube: no web address or id to link to ('') at line 1"]


def test_figure_block(liquid: LiquidRenderer) -> None:
    text = ('{% figure caption:"A *small* caption for {{ page.title }}" class:"gallery-2-col" %}\n'
            "![alt](/a.png)\n{% endfigure %}\n\n{% figure %}\ntext\n{% endfigure %}")
    out = ok(liquid, text)
    assert out == ('<figure class="gallery-2-col">\n\n![alt](/a.png)\n\n<figcaption>\n\n'
                   "A *small* caption for Page Title\n\n</figcaption>\n</figure>\n\n<figure>\n\ntext\n\n</figure>")
    html = MarkdownIt().render(out)
    assert ('<figure class="gallery-2-col">\n<p><img src="/a.png" alt="alt" /></p>\n<figcaption>\n'
            "<p>A <em>small</em> caption for Page Title</p>\n</figcaption>\n</figure>") in html


def test_figure_caption_through_markdownify() -> None:
    md = MarkdownIt()
    out = ok(make_renderer(markdownify=md.render), '{% figure caption:"**Bold**" %}\nx\n{% endfigure %}')
    assert out == "<figure>\n\nx\n\n<figcaption><strong>Bold</strong></figcaption>\n</figure>"


# --- unknown tags and filters ---------------------------------------------------------------

def test_unknown_tags_are_reported_once_per_name_and_removed(liquid: LiquidRenderer) -> None:
    text = ("Intro\n{% notice %}\n#### Keep me\n{% endnotice %}\n{% notice info %}kept too{% endnotice %}\n"
            "{% lazyload data-src=\"x\" %}\n{% endlazyload %}{% endthing %}")
    result = render(liquid, text, first_line=10)
    assert result.text == "Intro\n\n#### Keep me\n\nkept too\n\n" and result.ran
    assert messages(result) == ["unknown Liquid tag 'notice' at line 11", "unknown Liquid tag 'lazyload' at line 15",
                                "unknown Liquid tag 'endthing' at line 16"]


def test_unknown_filters_leave_the_value_and_are_reported_once(liquid: LiquidRenderer) -> None:
    text = "{{ page.title | shout }}\n{{ 'x' | shout: 2 | upcase }}\n{% for i in (1..3) %}{{ i | whisper }}{% endfor %}"
    result = render(liquid, text)
    assert result.text == "Page Title\nX\n123" and result.ran
    assert messages(result) == ["unknown Liquid filter 'shout' at line 1", "unknown Liquid filter 'whisper' at line 3"]


def test_stray_end_tags_are_reported_and_removed(liquid: LiquidRenderer) -> None:
    result = render(liquid, "a {% endif %} b\n{% endraw %} c")
    assert result.text == "a  b\n c" and result.ran
    assert messages(result) == ["unexpected Liquid tag 'endif' (no block is open for it) at line 1",
                                "unexpected Liquid tag 'endraw' at line 2"]


def test_the_list_of_problems_is_bounded(liquid: LiquidRenderer) -> None:
    result = render(liquid, "".join(f"{{% tag{i} %}}\n" for i in range(30)))
    assert len(result.problems) == 21 and str(result.problems[-1]) == "10 more Liquid problems not listed"
    assert str(result.problems[0]) == "unknown Liquid tag 'tag0' at line 1"


# --- errors: a post whose Liquid cannot run keeps its text ----------------------------------

@pytest.mark.parametrize(("text", "problem", "kept"), [
    ("Title {{ page.title }}\n\nProse one.\n{% if %}\nProse two.\n{% endif %}",
     "if: missing expression at line 4", "Title \n\nProse one.\n\nProse two.\n"),
    ("Prose.\n{% for x in page.tags %}\n{{ x }} item\n", "'for' block was never closed (no 'endfor') at line 2",
     "Prose.\n\n item\n"),
    ("Prose {{ page.title \n\nMore prose.", "'{{' was never closed (no '}}') at line 1",
     "Prose  page.title \n\nMore prose."),
    ("A {{ page.title | | upcase }} B", "expected word, found '|' at line 1", "A  B"),
    ("{% raw %} unclosed {{ x }}\n", "'raw' block was never closed (no 'endraw') at line 1", " unclosed \n"),
])
def test_a_syntax_error_keeps_the_prose_and_names_the_line(liquid: LiquidRenderer, text: str, problem: str,
                                                           kept: str) -> None:
    result = render(liquid, text)
    assert messages(result) == [NOT_RUN + problem]
    assert result.text == kept and not result.ran


def test_a_failing_filter_is_one_problem_at_its_line(liquid: LiquidRenderer) -> None:
    result = render(liquid, "a\n\nb {{ 10 | divided_by: 0 }} c {{ page.title }}")
    assert result.text == "a\n\nb  c Page Title" and result.ran
    assert messages(result) == ["divided_by: can't divide by 0 at line 3"]


def test_first_line_shifts_every_line(liquid: LiquidRenderer) -> None:
    result = render(liquid, "\n\n{% nope %}", first_line=41)
    assert messages(result) == ["unknown Liquid tag 'nope' at line 43"]


# --- work limits (time is CPU time: other work on the machine does not count) ---------------

@pytest.mark.parametrize(("text", "problem"), [
    ("{% for i in (1..100000000) %}x{% endfor %}", "more than 100000 loop iterations"),
    ("{% for i in (1..100000000) reversed %}x{% endfor %}", "more than 100000 loop iterations"),
    (("{% for a in (1..1000) %}{% for b in (1..1000) %}{% for c in (1..1000) %}{{ page.title }}{% endfor %}"
     "{% endfor %}{% endfor %}"), "more than 100000 loop iterations"),
    ("{% for a in (1..300) %}{% for b in (1..300) %}" + "x" * 100 + "{% endfor %}{% endfor %}",
     "output larger than 4000000 bytes"),
    ("{% assign s = 'xxxxxxxxxxxxxxxx' %}{% for i in (1..64) %}{% assign s = s | append: s %}{% endfor %}",
     "assigned values larger than 4000000 bytes"),
    ("{{ (1..100000000) | join: ',' }}", "more than 100000 loop iterations"),
    ("{% include self.html %}",
     "includes nested more than 10 deep (recursive include 'self.html'?) (in include 'self.html', line 1)"),
    ("{% include fanout.html %}",
     "includes nested more than 10 deep (recursive include 'fanout.html'?) (in include 'fanout.html', line 1)"),
    ("{% for i in (1..40) %}{% include fan.html %}{% endfor %}",
     "more than 1000 includes rendered (at 'inner.html') (in include 'fan.html', line 1)"),
])
def test_runaway_work_stops_quickly_and_keeps_the_text(liquid: LiquidRenderer, text: str, problem: str) -> None:
    start = time.process_time()
    result = render(liquid, f"Prose before.\n\n{text}\n\nProse after.", first_line=1)
    elapsed = time.process_time() - start
    assert elapsed < 0.5, elapsed
    assert messages(result) == [f"{STOPPED}{problem} at line 3"]
    assert result.text.startswith("Prose before.\n\n") and result.text.endswith("\n\nProse after.")
    assert "{%" not in result.text and "{{" not in result.text and not result.ran


def test_limits_are_the_callers() -> None:
    renderer = make_renderer(limits=Limits(loop_iterations=5))
    assert ok(renderer, "{% for i in (1..5) %}{{ i }}{% endfor %}") == "12345"
    result = render(renderer, "{% for i in (1..6) %}{{ i }}{% endfor %}")
    assert messages(result) == [STOPPED + "more than 5 loop iterations at line 1"]


# --- determinism ----------------------------------------------------------------------------

def test_the_same_post_renders_the_same_every_time() -> None:
    text = ("{{ 'now' | date: '%F %T' }} {{ site.time }} {% assign xs = 'a,b,c,d' | split: ',' %}"
            "{{ xs | sample: 2 | join }} {% include card.html title=page.title %} {{ page.date | date_to_xmlschema }}")
    outputs = {make_renderer().render(text, page=PAGE, path=POST).text for _ in range(3)}
    assert len(outputs) == 1
    assert outputs.pop().startswith("2024-05-06 07:08:09 2024-05-06 07:08:09+00:00 ")


@pytest.mark.parametrize(("opener", "problem"), [
    ("{% raw %}", NOT_RUN + "'raw' block was never closed (no 'endraw') at line 1"),
    ("{% highlight js %}", NOT_RUN + "'highlight' block was never closed (no 'endhighlight') at line 1"),
    ("{% comment %}", NOT_RUN + "'comment' block was never closed (no 'endcomment') at line 1"),
    ("{{", NOT_RUN + "'{{' was never closed (no '}}') at line 1"),
    ("{%", NOT_RUN + "'{%' was never closed (no '%}') at line 1"),
])
def test_thousands_of_unclosed_openers_take_linear_time(liquid: LiquidRenderer, opener: str, problem: str) -> None:
    """python-liquid's lexer alone takes 40 s on 8,000 unclosed raw tags (each scans to the end)."""
    text = f"{opener} prose\n" * 8000
    start = time.process_time()
    result = render(liquid, text)
    assert time.process_time() - start < 1.0
    assert messages(result) == [problem]
    assert result.text.count("prose") == 8000 and "{%" not in result.text and "{{" not in result.text


def test_many_problems_in_a_long_post_stay_cheap(liquid: LiquidRenderer) -> None:
    text = "{% endif %} prose\n" * 8000
    start = time.process_time()
    result = render(liquid, text)
    assert time.process_time() - start < 1.5
    assert len(result.problems) == 21 and str(result.problems[-1]) == "7980 more Liquid problems not listed"
    assert result.text == " prose\n" * 8000


def test_a_post_made_of_markup_is_not_parsed(liquid: LiquidRenderer) -> None:
    text = "{{ page.title }}\n" * 10_001
    start = time.process_time()
    result = render(liquid, text)
    assert time.process_time() - start < 1.0
    assert messages(result) == [STOPPED + "more than 10000 Liquid tags and outputs"]
    assert result.text == "\n" * 10_001


# --- any mixture of markup --------------------------------------------------------------------

FRAGMENTS = ["\n\nalpha\n\n", "beta ", "\n", "{% if page.title %}", "{% else %}", "{% endif %}", "{{ page.title }}",
             "{{", "}}", "{%", "%}", "{% raw %}", "{% endraw %}", "{% highlight js %}", "{% endhighlight %}",
             "{% comment %}", "{% endcomment %}", "{% for i in (1..3) %}", "{% endfor %}", "{% notice %}",
             "{% endnotice %}", "{% include card.html title=page.title %}", "{% include nope.html %}",
             "{{ page.tags | where_exp: 'x', 'x == 1' | size }}", "{{ x | nosuch }}", "{%- assign y = 2 -%}",
             "{% post_url 2019-01-01-first %}", "{% figure caption:\"c\" %}", "{% endfigure %}", "`", "~~~\n"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_any_mixture_renders_without_raising_and_the_same_twice(liquid: LiquidRenderer, parts: list[str]) -> None:
    text = "".join(parts)
    first, second = render(liquid, text), render(liquid, text)
    assert first == second
    assert all(problem.message and "\n" not in problem.message for problem in first.problems)
    if not first.ran and "comment" not in text:  # a paragraph of prose is never taken for markup
        assert first.text.count("alpha") == text.count("alpha")
