"""The broken-input test tree: tests/fixtures/broken_site plus the files too big, binary or encoded to commit.

``make_broken_site(dst)`` copies the committed tree and writes the generated cases next to it. The tables
below say what each file must give: skipped with a one-line reason, or built (with a note, or clean).
"""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "broken_site"
DAY = date(2022, 1, 5)
MAX_POST_BYTES = 10_000_000  # the default ``max_post_bytes``

# file name → a piece of its one-line reason: the file is skipped, the rest still builds.
SKIPPED = {
    "2022-01-05-invalid-yaml.md": "invalid YAML front matter at line",
    "2022-01-05-yaml-tabs.md": "tab character",
    "2022-01-05-no-closing.md": "front matter is not closed",
    "2022-01-05-empty.md": "empty file",
    "2022-01-05-yaml-bomb.md": "front matter too large",
    "2022-01-05-bad-constructor.md": "day is out of range for month",
    "2022-01-05-not-a-mapping.md": "not a mapping",
    "2022-01-05-binary.md": "binary file",
    "2022-01-05-bad-encoding.md": "nor GB18030",
    "2022-01-05-huge.md": "over the 10,000,000-byte limit",
    "2022-01-05-deep-html.md": "HTML nested about 10,000 levels deep",
    "2022-01-05-markup-bomb.md": "too much Markdown markup",
}
# file name → a piece of the note: the post is in the digest, and the note says what was assumed.
NOTED = {
    "2022-01-05-gb18030.md": "GB18030",
    "2022-01-05-date-garbage.md": "invalid date 'next tuesday-ish'; used the file-name date 2022-01-05",
    "2022-01-05-title-list.md": "title is a list",
}
# file name → its title in the digest.
BUILT = {
    "2022-01-05-good-one.md": "Good one: markets open higher",
    "2022-01-05-good-two.md": "第二条：央行发布公告",
    "2022-01-05-bom.md": "UTF-8 with a byte-order mark",
    "2022-01-05-crlf.md": "Windows line ends",
    "2022-01-05-gb18030.md": "国标编码的文章",
    "2022-01-05-date-garbage.md": "Date is garbage, the file name has one",
    "2022-01-05-title-list.md": "Title given as a list",
    "2022-01-05-hostile-names.md": "Line one Bcc: victim@example.com gnp.exe <script>alert(1)</script>",
}
# A real image one level above the site root: posts try to reach it with ``..`` and encoded slashes.
SECRET_PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
              b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00"
              b"IEND\xaeB`\x82")


def make_broken_site(dst: Path) -> Path:
    """The committed fixture plus the generated cases, at ``dst`` (a secret.png is put beside it)."""
    shutil.copytree(FIXTURE, dst)
    posts = dst / "_posts"
    (dst.parent / "secret.png").write_bytes(SECRET_PNG)
    (posts / "2022-01-05-bom.md").write_bytes(
        b"\xef\xbb\xbf---\ntitle: UTF-8 with a byte-order mark\ndate: 2022-01-05 13:00:00 +0800\n---\n\nBOM first.\n")
    (posts / "2022-01-05-crlf.md").write_bytes(
        b"---\r\ntitle: Windows line ends\r\ndate: 2022-01-05 13:10:00 +0800\r\ncategories: markets\r\n---\r\n\r\n"
        b"First paragraph.\r\n\r\nSecond paragraph.\r\n")
    (posts / "2022-01-05-gb18030.md").write_bytes(
        "---\ntitle: 国标编码的文章\ndate: 2022-01-05 13:20:00 +0800\ncategories: policy\n---\n\n这篇文章用 GB18030 编码保存。\n"
        .encode("gb18030"))
    (posts / "2022-01-05-bad-encoding.md").write_bytes(b"---\ntitle: x\n---\n\n\xff\xfe\xff\xfe neither\n")
    (posts / "2022-01-05-binary.md").write_bytes(SECRET_PNG * 4)
    head = b"---\ntitle: Huge\ndate: 2022-01-05 14:00:00 +0800\n---\n\n"
    with open(posts / "2022-01-05-huge.md", "wb") as f:  # one byte over the cap, never committed
        f.write(head)
        line = "很长的文章，一段又一段。".encode() * 20 + b"\n\n"
        left = MAX_POST_BYTES + 1 - len(head)
        while left > 0:
            f.write(line[:left])
            left -= len(line)
    (posts / "2022-01-05-deep-html.md").write_text(
        "---\ntitle: Deep\ndate: 2022-01-05 14:10:00 +0800\n---\n\n" + "<div>" * 10_000 + "x" + "</div>" * 10_000 + "\n",
        encoding="utf-8")
    (posts / "2022-01-05-markup-bomb.md").write_text(
        "---\ntitle: Markup bomb\ndate: 2022-01-05 14:20:00 +0800\n---\n\n" + "*a" * 200_000 + "\n", encoding="utf-8")
    return dst
