"""The email's size budget on any shape of day (issue 16, item 11): with 495 sections the HTML was 357,520 B,
with 167 sections 106,075 B, against a 90,000 B budget — Gmail then clips the footer and its unsubscribe link.
Now sections collapse too: the HTML stays under the budget, the unsubscribe link is always there, and the
plain-text part says the same."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from digest import load_settings
from digest.build import make_digest
from digest.editions.email.render import render
from digest.theming.loader import load_theme

DAY = date(2022, 1, 5)


def _site(tmp_path: Path, sections: int, per_section: int, theme: str) -> Path:
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: Budget\nurl: https://example.org\nlang: en\n")
    (site / "digest.toml").write_text(
        f'theme = "{theme}"\n[email]\nunsubscribe = "https://example.org/unsubscribe, mailto:u@example.org"\n'
        'web_url = "https://example.org/digest/{slug}.html"\n')
    n = 0
    for s in range(sections):
        for _p in range(per_section):
            n += 1
            cat = f"section-{s:03d}-" + "x" * 60
            (site / "_posts" / f"2022-01-05-p{n}.md").write_text(
                f"---\ntitle: Post {n} {'long title words ' * 5}\ndate: 2022-01-05 {n % 24:02d}:{n % 60:02d}:00\n"
                f"categories: [{cat}]\n---\n\n{'Body text of the post. ' * 30}\n")
    return site


@pytest.mark.parametrize(("sections", "per_section", "theme"),
                         [(495, 1, "default"), (167, 1, "default"), (60, 8, "default"), (300, 2, "newspaper"),
                          (1, 400, "default")])
def test_the_html_fits_and_the_unsubscribe_link_survives(tmp_path, sections, per_section, theme):
    settings = load_settings(_site(tmp_path, sections, per_section, theme))
    digest = make_digest(settings, DAY, DAY)
    assert len(digest.sections) == sections
    edition = render(digest, theme=load_theme(settings), settings=settings)
    budget = 90_000
    assert edition.html_bytes <= budget, edition.html_bytes
    tail = edition.html[-3000:]
    assert 'href="https://example.org/unsubscribe"' in tail
    assert "https://example.org/unsubscribe" in edition.text.splitlines()[-1] or \
        "https://example.org/unsubscribe" in edition.text[-300:]
    shown = len(re.findall(r"<h3", edition.html))
    assert shown + edition.hidden == digest.count
    if sections > 100:
        assert re.search(r"\d+ more sections \(\d+ articles\) in the web edition", edition.html)
        assert re.search(r"\d+ more sections \(\d+ articles\) in the web edition", edition.text)
