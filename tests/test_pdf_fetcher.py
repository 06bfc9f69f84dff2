"""The PDF's URL fetcher (digest.editions.pdf.fetcher): only the site's and the theme's own files are read."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from digest.editions.pdf.fetch import FetchRules, Refused, rules_for
from digest.editions.pdf.fetcher import SiteFetcher

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path, Path]:
    site, theme, outside = tmp_path / "site", tmp_path / "theme", tmp_path / "outside"
    for d in (site / "img", site / ".git", theme, outside):
        d.mkdir(parents=True)
    (site / "img" / "a.png").write_bytes(PNG)
    (site / ".git" / "config").write_text("secret")
    (theme / "logo.png").write_bytes(PNG)
    (outside / "secret.txt").write_text("root:x:0:0")
    (site / "img" / "escape.png").symlink_to(outside / "secret.txt")
    (site / "img" / "loop").symlink_to(site / "img" / "loop")
    return site, theme, outside


def policy(site: Path, theme: Path, **kw: object) -> FetchRules:
    return FetchRules(str(site.resolve()), "", (str(site.resolve()), str(theme.resolve())), **kw)  # type: ignore[arg-type]


def test_site_and_theme_files_are_served(tree: tuple[Path, Path, Path]) -> None:
    site, theme, _ = tree
    f = SiteFetcher(policy(site, theme))
    # (raster images come back recompressed for print: the same picture, not the same bytes)
    for path in (site / "img" / "a.png", theme / "logo.png"):
        got = f.fetch(path.as_uri())
        assert got.content_type == "image/png"
        assert Image.open(io.BytesIO(got.read())).size == Image.open(path).size
    (theme / "print.css").write_text("body { color: black }")
    assert f.fetch((theme / "print.css").as_uri()).read() == b"body { color: black }"
    assert f.fetch("data:text/plain,hello").read() == b"hello"
    assert f.refused == []


@pytest.mark.parametrize("make_url", [
    lambda s, o: (o / "secret.txt").as_uri(),                     # outside the roots
    lambda s, o: "file:///etc/passwd",
    lambda s, o: (s / "img" / "escape.png").as_uri(),             # a symlink inside pointing out
    lambda s, o: (s / "img" / ".." / ".." / "outside" / "secret.txt").as_uri().replace("/img/../../", "/img/%2e%2e/%2e%2e/"),
    lambda s, o: (s / ".git" / "config").as_uri(),                # hidden
    lambda s, o: (s / "img" / "loop").as_uri(),                   # a symlink loop
    lambda s, o: (s / "img").as_uri(),                            # a folder
    lambda s, o: "file://evil.example" + str(s / "img" / "a.png"),  # another host
    lambda s, o: "https://example.org/x.png",                     # network off
    lambda s, o: "http://127.0.0.1/x.png",
    lambda s, o: "ftp://example.org/x",
    lambda s, o: "gopher://example.org/x",
])
def test_everything_else_is_refused(tree: tuple[Path, Path, Path], make_url) -> None:  # type: ignore[no-untyped-def]
    site, theme, outside = tree
    f = SiteFetcher(policy(site, theme))
    url = make_url(site, outside)
    with pytest.raises(Refused):
        f.fetch(url)
    assert len(f.refused) == 1 and "\n" not in f.refused[0]


def test_private_hosts_refused_even_with_network_on(tree: tuple[Path, Path, Path]) -> None:
    site, theme, _ = tree
    f = SiteFetcher(policy(site, theme, remote=True))
    for url in ("http://127.0.0.1:9/x.png", "http://[::1]/x.png", "http://169.254.169.254/latest"):
        with pytest.raises(Refused, match="private or loopback"):
            f.fetch(url)


def test_policy_roots_are_the_site_and_theme_chain(tmp_path: Path) -> None:
    from digest import load_settings
    from digest.theming.loader import load_theme

    site = tmp_path / "s"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: t\n")
    settings = load_settings(site)
    theme = load_theme(settings)
    p = rules_for(settings, theme.dirs)
    assert str(site.resolve()) in p.roots
    assert any(r.endswith(os.path.join("themes", "default")) for r in p.roots)
    assert not p.remote
