"""The layout workers: a job laid out in a worker process gives the same pieces as one laid out here, and the
garbage a job leaves in a worker is collected by the next job there, not by the job itself."""
from __future__ import annotations

import gc
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from conftest import EXAMPLE

from digest import load_settings
from digest.build import make_digest
from digest.editions.base import WriteContext
from digest.editions.pdf import render
from digest.editions.pdf.glyphs import FontTables, entries, font_entries, fonts_of
from digest.editions.pdf.layout import Doc, Job, Laid, lay_out, lay_out_apart
from digest.editions.pdf.plan import plan_pieces
from digest.runtime.env import Environment
from digest.theming.loader import load_theme

DAY = date(2021, 12, 8)


def _jobs(tmp: Path) -> list[Job]:
    settings = load_settings(EXAMPLE)
    env = Environment(tmp / "cache", 1650326400)
    digest = make_digest(settings, DAY, DAY, env=env)
    r = render.Renderer(digest, WriteContext(tmp / "out", load_theme(settings), settings, env))
    docs = [Doc(f"p{k}", *r.page("body", parts=[p])) for k, p in enumerate(plan_pieces(digest, 2_000, 6_000))]
    assert len(docs) >= 2
    base = r.settings.site_root.resolve().as_uri() + "/"
    out = tmp / "laid"
    out.mkdir()
    return [Job(f"j{k}", docs[k::2], out, base, tmp / "fonts", rules=r.rules) for k in range(2)]


def _in_worker(jobs: list[Job]) -> tuple[list[list[Laid]], list[bytes], bool, list[int]]:
    """Both jobs one after the other in this (worker) process: what they laid out, the files, whether the
    collector was left off after the first, and how many objects each collection found unreachable."""
    collected: list[int] = []

    def watch(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop":
            collected.append(int(info["collected"]))

    first = lay_out_apart(jobs[0])
    left_off = not gc.isenabled()
    gc.callbacks.append(watch)
    try:
        second = lay_out_apart(jobs[1])
    finally:
        gc.callbacks.remove(watch)
    laid = [first, second]
    return laid, [one.out.read_bytes() for job in laid for one in job], left_off, collected


def test_a_worker_lays_out_the_same_and_collects_a_job_s_garbage_in_the_next(tmp_path):
    jobs = _jobs(tmp_path)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        apart, files, left_off, collected = pool.submit(_in_worker, jobs).result()
    assert left_off  # the first job's garbage was left for the next job (or the end of the process)
    assert collected and max(collected) > 10_000  # the second job collected it, once, before laying out
    enabled = gc.isenabled()
    here = [lay_out(job) for job in jobs]
    assert gc.isenabled() == enabled  # laid out here: the collector is as it was
    assert [[json.dumps(one.to_json()) for one in job] for job in apart] == \
           [[json.dumps(one.to_json()) for one in job] for job in here]
    assert files == [one.out.read_bytes() for job in here for one in job]
    assert all(one.glyphs for job in here for one in job)


def test_a_font_s_tables_are_read_once_per_job(tmp_path):
    [laid, *_] = lay_out(_jobs(tmp_path)[0])
    import pikepdf

    with pikepdf.open(laid.out) as pdf:
        name, font = next(iter(fonts_of(pdf)))
        gids = sorted(laid.glyphs[name])
        tables: dict[str, FontTables] = {}
        assert entries(tables, name, font, gids) == font_entries(font, gids) == laid.glyphs[name]
        first = tables[name]
        entries(tables, name, font, gids[:1])
        assert tables[name] is first


def _drawn(pdf: Any) -> dict[str, set[int]]:
    """The glyphs each composite font draws, read with pikepdf's own content-stream parser (the oracle)."""
    import pikepdf

    out: dict[str, set[int]] = {}
    for page in pdf.pages:
        fonts = page.obj.Resources.get("/Font", {})
        current = None
        for operands, op in pikepdf.parse_content_stream(page):
            if str(op) == "Tf":
                current = str(fonts[operands[0]].BaseFont).lstrip("/")
            strings = [x for x in (operands[0] if str(op) == "TJ" else operands if str(op) == "Tj" else [])
                       if isinstance(x, pikepdf.String)]
            for text in strings:
                raw = bytes(text)
                out.setdefault(str(current), set()).update(int.from_bytes(raw[i:i + 2], "big")
                                                           for i in range(0, len(raw) - 1, 2))
    return out


def test_the_glyphs_a_piece_draws_are_found(tmp_path):
    import pikepdf

    from digest.editions.pdf.glyphs import used_glyphs

    for laid in lay_out(_jobs(tmp_path)[1]):
        with pikepdf.open(laid.out) as pdf:
            found = used_glyphs(pdf.pages)
            assert found and found == _drawn(pdf)
            assert {name: set(gids) for name, gids in laid.glyphs.items()} == found


def test_each_job_s_pieces_are_handed_over_as_soon_as_it_ends(tmp_path):
    """On workers, a job's pieces reach the build (which stores them) when that job ends, not after the last:
    a one-piece job finishes long before a job of all the other pieces, and is handed over first."""
    docs = [d for job in _jobs(tmp_path) for d in job.docs]
    small = min(docs, key=lambda d: d.weight)
    others = [d for d in docs if d is not small]
    big = [*others, *(Doc(f"{d.name}-again", d.html, d.css) for d in others)]  # twice the rest: far longer
    template = _jobs(tmp_path / "again")[0]
    jobs = [Job("small", [small], template.out_dir, template.base_url, template.fonts_dir, rules=template.rules),
            Job("big", big, template.out_dir, template.base_url, template.fonts_dir, rules=template.rules)]
    handed: list[list[str]] = []
    render._run(jobs, 2, lambda laid: handed.append([one.name for one in laid]))
    assert handed == [[small.name], [d.name for d in big]]
    assert all((template.out_dir / f"{name}.pdf").is_file() for names in handed for name in names)
    here: list[list[str]] = []
    render._run(jobs, 1, lambda laid: here.append([one.name for one in laid]))  # one worker: in order, each job
    assert here == [[small.name], [d.name for d in big]]
