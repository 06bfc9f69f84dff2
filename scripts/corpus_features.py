"""Grep counts over a site's stored posts, for the README's "features exercised" table.

Each count is "occurrences (posts)". "Live" Liquid is outside `{% raw %}` and `{% comment %}`; kramdown and maths
counts skip fenced code.
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import corpus_facts as cf
import jekyll_rules as jr
import post_scan as ps

KRAMDOWN = {
    "IAL class {:.x}": r"\{:\s*\.[\w-]",
    "IAL id {: #x}": r"\{:\s*#[\w-]+",
    "IAL attribute {: k=v}": r"\{:\s*[\w-]+=",
    "{:toc}": r"\{:toc\}",
    "ALD {:name: …}": r"^\{:[\w-]+:",
    "abbreviation *[X]:": r"^\*\[[^\]]+\]:",
    "{::comment}": r"\{::comment\}",
    "{::nomarkdown}": r"\{::nomarkdown",
    "footnote ref [^x]": r"\[\^[^\]]+\](?!:)",
    "definition list": r"^:[ \t]+\S",
    'markdown="1"': r"markdown=[\"']1[\"']",
    "table row": r"^[ \t]*\|.*\|[ \t]*$",
    "<!--more-->": r"<!--\s*more\s*-->",
}


def tally(counter: Counter[str], posts: Counter[str]) -> dict[str, str]:
    return {k: f"{counter[k]} ({posts[k]})" for k in sorted(counter)}


def count(site: cf.Site, files: list[cf.PostFile]) -> dict[str, Any]:
    far = datetime(9999, 1, 1, tzinfo=UTC)
    facts = [cf.scan_post(site, pf, far) for pf in files]
    kinds = ("live_tags", "raw_tags", "live_outputs", "live_filters", "kramdown")
    sums: dict[str, Counter[str]] = {k: Counter() for k in kinds}
    posts: dict[str, Counter[str]] = {k: Counter() for k in sums}
    for pf in files:
        _, _, body = cf.front_matter(pf.path.read_text(encoding="utf-8"))
        split = ps.split_liquid(body)
        prose = ps.code_blocks(body, split.live).prose
        found = {
            "live_tags": ps.liquid_tags(split.live), "raw_tags": ps.liquid_tags(split.raw),
            "live_outputs": ps.liquid_outputs(split.live), "live_filters": ps.liquid_filters(split.live),
            "kramdown": Counter({k: len(re.findall(rx, prose, re.MULTILINE)) for k, rx in KRAMDOWN.items()}),
        }
        for key, counter in found.items():
            counter = +counter
            sums[key].update(counter)
            posts[key].update(counter.keys())
    out: dict[str, Any] = {k: tally(sums[k], posts[k]) for k in sums}
    out.update(summary(site, facts, files))
    return out


def summary(site: cf.Site, facts: list[dict[str, Any]], files: list[cf.PostFile]) -> dict[str, Any]:
    langs: Counter[str] = Counter()
    for f in facts:
        langs.update(f["code_languages"])
    images = [i for f in facts for i in f["local_images"]]
    fronts = [cf.front_matter(pf.path.read_text(encoding="utf-8"))[0] for pf in files]
    return {
        "posts": len(facts),
        "maths": (f"display {sum(f['maths']['display'] for f in facts)}, "
                  f"inline {sum(f['maths']['inline'] for f in facts)}"
                  f", \\( or \\[ {sum(f['maths']['paren_delimiters'] for f in facts)}"
                  f" ({sum(1 for f in facts if f['maths']['display'] + f['maths']['inline'])} posts)"),
        "code_languages": dict(langs.most_common()),
        "plain_fences": sum(f["plain_fences"] for f in facts),
        "images": {"local_found": sum(1 for i in images if i["exists"]),
                   "local_missing": sum(1 for i in images if not i["exists"]),
                   "remote": sum(f["remote_images"] for f in facts),
                   "via": dict(Counter(i["via"] for i in images))},
        "links": dict(Counter(link["tag"] for f in facts for link in f["links"])),
        "includes": dict(Counter(i for f in facts for i in f["includes"])),
        "permalink": {"posts_template": jr.posts_template(site.config),
                      "url_from": dict(Counter(f["url_from"] for f in facts))},
        "front_matter": front_matter_forms(fronts),
        "dates": {"from": dict(Counter(f["date_from"] for f in facts)),
                  "notes": [f"{f['path']}: {f['date_note']}" for f in facts if f["date_note"]],
                  "front_matter_day_differs_from_file_name": [
                      f["path"] for f in facts
                      if date.fromisoformat(f["date"][:10]) != _file_day(f["filename_date"])]},
        "lang": dict(Counter(str(f["lang"]) for f in facts)),
    }


def _file_day(text: str) -> date:
    y, m, d = (int(x) for x in text.split("-"))
    return date(y, m, d)


def front_matter_forms(fronts: list[dict[str, Any]]) -> dict[str, Any]:
    def form(value: object) -> str:
        return type(value).__name__ if value is not None else "absent"

    return {
        "categories": dict(Counter(form(f.get("categories", f.get("category"))) for f in fronts)),
        "tags": dict(Counter(form(f.get("tags")) for f in fronts)),
        "permalink": sum(1 for f in fronts if "permalink" in f),
        "published": dict(Counter(str(f["published"]) for f in fronts if "published" in f)),
    }
