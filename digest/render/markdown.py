"""The site's Markdown (kramdown as Jekyll runs it, :mod:`digest.jekyll.kramdown`), within deterministic
limits on the work one post may cause (docs/safety.md: counts, never the clock)."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from digest.jekyll.kramdown.markdown import MarkdownOptions, MarkdownRenderer
from digest.jekyll.kramdown.options import MarkdownConfigError

MAX_MARKDOWN_STEPS = 300_000  # Markdown parser rule runs (≈ tokens): bounds time (seconds) and memory


def site_markdown(config: Mapping[str, Any]) -> tuple[MarkdownRenderer, list[str]]:
    """A renderer for the options of the site's ``markdown:``/``kramdown:`` config; a value digest cannot
    use is one problem naming its key, and kramdown's default is used for the whole set."""
    problems: list[str] = []
    try:
        options = MarkdownOptions.from_config(config)
    except MarkdownConfigError as e:
        problems.append(f"{e}; kramdown's defaults used")
        options = MarkdownOptions()
    return MarkdownRenderer(dataclasses.replace(options, max_steps=MAX_MARKDOWN_STEPS)), problems
