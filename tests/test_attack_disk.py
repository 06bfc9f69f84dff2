"""A full or read-only output folder (issue 16, item 5).

Before: on a full disk the build aborted (exit 134, qpdf's uncaught ``QPDFSystemError``) and left a 1 MB
``.pikepdf..…tmpXXXX`` file the stale-temp cleanup missed, so every later run failed with an ENOSPC traceback;
a read-only folder gave an EROFS traceback. Now: one line naming the folder, exit 6, no temporary file left,
the previous outputs as they were.

A small tmpfs is mounted when this process may (root in a container); otherwise the disk is made "full" with
``RLIMIT_FSIZE`` (``SIGXFSZ`` ignored, so writes fail with EFBIG) and read-only with ``chmod``.
"""
from __future__ import annotations

import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from digest.errors import EXIT_OUTPUT

DAY = "2022-01-05"
TEMP_NAMES = (".tmp", ".pikepdf")


def _site(root: Path) -> Path:
    site = root / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: Disk\nurl: https://example.org\n")
    for i in range(3):
        (site / "_posts" / f"{DAY}-p{i}.md").write_text(
            f"---\ntitle: Post {i}\ndate: {DAY} 1{i}:00:00\ncategories: [news]\n---\n\n" + "Lorem ipsum. " * 400)
    return site


def _build(site: Path, out: Path, formats: str, *, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    def limits() -> None:
        if fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run([sys.executable, "-m", "digest", "build", str(site), "--date", DAY, "-f", formats,
                           "-o", str(out), "--force", "--no-cache", "--allow-missing-fonts"],
                          capture_output=True, text=True, timeout=600, preexec_fn=limits)


def _snapshot(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file() and p.name != ".digest.lock"}


def _temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*") if any(t in p.name for t in TEMP_NAMES)]


def _can_mount(where: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    where.mkdir(exist_ok=True)
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)], capture_output=True)
    if ok.returncode == 0:
        subprocess.run(["umount", str(where)], capture_output=True)
    return ok.returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path | None]:
    """A 1.5 MB tmpfs (None when this process cannot mount one)."""
    where = tmp_path / "disk"
    if not _can_mount(where):
        yield None
        return
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1536k", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _fill(disk: Path, leave: int) -> None:
    st = os.statvfs(disk)
    free = st.f_bavail * st.f_frsize
    with open(disk / "filler", "wb") as f:
        f.write(b"\0" * max(0, free - leave))


def _assert_one_line_failure(run: subprocess.CompletedProcess[str], folder_hint: str) -> None:
    assert run.returncode == EXIT_OUTPUT, (run.returncode, run.stderr[-3000:])
    lines = run.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("digest: error: ") and "cannot write here: " in lines[0], lines
    assert folder_hint in lines[0] or "/tmp" in lines[0] or "digest-pdf-" in lines[0], lines
    assert "Traceback" not in run.stderr and "terminate called" not in run.stderr


def test_full_disk_on_a_tmpfs(small_disk: Path | None, tmp_path: Path) -> None:
    if small_disk is None:
        pytest.skip("cannot mount a tmpfs here (test_full_disk_by_file_size_limit covers this)")
    site = _site(tmp_path)
    out = small_disk / "out"
    first = _build(site, out, "html,email")
    assert first.returncode == 0, first.stderr
    before = _snapshot(out)
    _fill(small_disk, 120_000)  # room for a web page, not for an EPUB and a PDF with their fonts
    run = _build(site, out, "html,email,epub,pdf")
    _assert_one_line_failure(run, str(out))
    assert _temp_files(small_disk) == []
    assert {k: v for k, v in _snapshot(out).items() if k in before} == before
    (small_disk / "filler").unlink()
    again = _build(site, out, "pdf,epub")
    assert again.returncode == 0, again.stderr
    assert (out / "2022" / f"{DAY}.pdf").stat().st_size > 10_000 and _temp_files(small_disk) == []


@pytest.mark.parametrize("leave", [0, 4_000, 9_000, 60_000])
def test_full_disk_while_the_pdf_is_joined(small_disk: Path | None, tmp_path: Path, leave: int) -> None:
    """The pieces are laid out in the system's temporary folder (no cache): the disk fills while pikepdf writes
    the joined PDF, early or late in the file — an OSError, not qpdf ending the process."""
    if small_disk is None:
        pytest.skip("cannot mount a tmpfs here (test_full_disk_by_file_size_limit covers this)")
    site = _site(tmp_path)
    out = small_disk / "out"
    out.mkdir()
    _fill(small_disk, leave)
    run = _build(site, out, "pdf")
    _assert_one_line_failure(run, str(out))
    assert _temp_files(small_disk) == [] and not list(out.rglob("*.pdf"))


def test_full_disk_by_file_size_limit(tmp_path: Path) -> None:
    site = _site(tmp_path)
    out = tmp_path / "out"
    first = _build(site, out, "html,email")
    assert first.returncode == 0, first.stderr
    before = _snapshot(out)
    for formats in ("pdf", "epub,html"):
        run = _build(site, out, formats, fsize=60_000)  # a web page fits, an EPUB and a PDF do not
        _assert_one_line_failure(run, str(out))
        assert _temp_files(out) == []
        assert {k: v for k, v in _snapshot(out).items() if k in before} == before


def test_a_read_only_output_folder(small_disk: Path | None, tmp_path: Path) -> None:
    site = _site(tmp_path)
    if small_disk is not None:
        out = small_disk / "out"
        assert _build(site, out, "html").returncode == 0
        before = _snapshot(out)
        subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
        fresh = small_disk / "new"
    elif os.geteuid() != 0:
        out = tmp_path / "out"
        assert _build(site, out, "html").returncode == 0
        before = _snapshot(out)
        for p in [out, *out.rglob("*")]:
            if p.is_dir():
                p.chmod(0o555)
        fresh = out / "new"
    else:
        pytest.skip("root and no mount: nothing here is read-only for this process")
    run = _build(site, out, "html,email")
    _assert_one_line_failure(run, str(out))
    assert _snapshot(out) == before
    run = _build(site, fresh, "html")
    _assert_one_line_failure(run, str(fresh))


def test_a_temporary_file_left_by_pikepdf_is_cleaned_up(tmp_path: Path) -> None:
    site = _site(tmp_path)
    out = tmp_path / "out"
    assert _build(site, out, "html").returncode == 0
    left = [out / "2022" / f".pikepdf..{DAY}.pdf.k3j2h1g0.tmpq1w2e3r4", out / "2022" / f".{DAY}.pdf.a1b2c3d4.tmp"]
    for p in left:
        p.write_bytes(b"\0" * 1000)
    assert _build(site, out, "html").returncode == 0
    assert _temp_files(out) == []
