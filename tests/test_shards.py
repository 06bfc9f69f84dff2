"""Sharding past one machine: ``--shard K/N`` splits a range's issues deterministically, N shards on one
shared output folder (in a row, or at once with ``xargs -P``) leave exactly what one unsharded build leaves,
``digest archive OUT`` rebuilds the same archive from the folder alone, and the Kubernetes manifest of
docs/scale.md is an Indexed Job that runs the same command."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from conftest import ROOT, make_big_site

from digest import load_settings
from digest.archive.catalog import refresh
from digest.build import build
from digest.build.run import BuildOptions
from digest.build.shards import Shard, parse_shard, split
from digest.errors import ConfigError
from digest.runtime.env import Environment

START, END = date(2022, 4, 14), date(2022, 4, 19)
EPOCH = "1650412800"
NOW = datetime(2022, 5, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
FORMATS = ["web", "epub"]


def tree(folder: Path) -> dict[str, bytes]:
    """Every file of an output folder (the lock file aside), by relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".digest.lock"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return make_big_site(tmp_path_factory.mktemp("shards") / "site", 12, days=6, start=START.isoformat())


@pytest.fixture(scope="module")
def unsharded(site, tmp_path_factory):
    out = tmp_path_factory.mktemp("one") / "out"
    env = Environment(tmp_path_factory.mktemp("cache-one"), int(EPOCH))
    build(load_settings(site), START, END, FORMATS, out, BuildOptions(), env=env, now=NOW)
    return out


def test_shards_split_the_range_once_and_evenly():
    weights = [(f"2022-04-{d:02d}", w) for d, w in zip(range(1, 31), [300, 10, 250, 40] * 7 + [5, 5], strict=True)]
    for n in (1, 2, 3, 7, 40):
        shares = split(weights, n)
        names = [name for share in shares for name in share]
        assert sorted(names) == sorted(name for name, _ in weights) and len(names) == len(set(names))
        loads = sorted(sum(dict(weights)[x] for x in share) for share in shares)
        assert loads[-1] - loads[0] <= max(w for _, w in weights)
        assert split(list(reversed(weights)), n) == shares  # the same split whatever order they come in
    assert parse_shard("2/5") == Shard(2, 5)
    for bad in ("5/5", "-1/3", "1", "a/b", "0/0"):
        with pytest.raises(ConfigError):
            parse_shard(bad)


def test_union_of_shards_is_the_unsharded_build(site, unsharded, tmp_path):
    out = tmp_path / "out"
    env = Environment(tmp_path / "cache", int(EPOCH))
    settings = load_settings(site)
    built: list[str] = []
    for k in range(3):
        result = build(settings, START, END, FORMATS, out, BuildOptions(shard=Shard(k, 3)), env=env, now=NOW)
        built += [i.slug for i in result.issues]
    assert sorted(built) == sorted(set(built)) and len(built) == 6  # each issue by exactly one shard
    assert tree(out) == tree(unsharded)
    # the archive rebuilt from the folder alone (no site): the same files
    before = tree(out)
    shutil.rmtree(out / "covers")
    for name in ("index.html", "feed.atom", "opds.xml"):
        (out / name).unlink()
    refresh(out)
    assert tree(out) == before


def test_shards_at_once_with_xargs_and_the_archive_command(site, unsharded, tmp_path):
    """The documented one-host (or shared-storage) way: xargs -P runs N shards at once on one folder."""
    out = tmp_path / "out"
    digest = [sys.executable, "-m", "digest"]
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "DIGEST_CACHE_DIR": str(tmp_path / "cache")}
    cmd = " ".join([*digest, "build", str(site), "--from", START.isoformat(), "--to", END.isoformat(),
                    "-f", ",".join(FORMATS), "-o", str(out), "-q", "--shard", "{}/3"])
    proc = subprocess.run(["xargs", "-P", "3", "-I{}", "sh", "-c", cmd], input="0\n1\n2\n", env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([*digest, "archive", str(out), "-q"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert tree(out) == tree(unsharded)


def test_catch_up_cannot_be_sharded(site, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "digest", "build", str(site), "--catch-up", "--shard", "0/2",
                           "-o", str(tmp_path / "out")], capture_output=True, text=True)
    assert proc.returncode == 2 and "--shard needs the dates given" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_archive_of_a_folder_without_settings_says_so(tmp_path):
    (tmp_path / "out" / ".digest").mkdir(parents=True)
    proc = subprocess.run([sys.executable, "-m", "digest", "archive", str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "site.json" in proc.stderr and "Traceback" not in proc.stderr


def test_kubernetes_indexed_job_manifest():
    """docs/k8s-shards.yaml: an Indexed Job whose pods build shard $JOB_COMPLETION_INDEX of N on one
    ReadWriteMany volume, then a Job that rewrites the archive (no cluster here: the structure is checked)."""
    docs = list(yaml.safe_load_all((ROOT / "docs" / "k8s-shards.yaml").read_text(encoding="utf-8")))
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    shards = next(j for j in by_kind["Job"] if j["spec"].get("completionMode") == "Indexed")
    spec = shards["spec"]
    n = spec["completions"]
    assert n >= 2 and 1 <= spec["parallelism"] <= n and spec["backoffLimitPerIndex"] >= 1
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    script = " ".join(container.get("command", []) + container.get("args", []))
    assert "digest build" in script and f'--shard "$JOB_COMPLETION_INDEX/{n}"' in script
    assert "--from" in script and "--to" in script
    out_path = script.split(" -o ")[1].split()[0]
    (out_mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == out_path]
    (volume,) = [v for v in pod["volumes"] if v["name"] == out_mount["name"]]
    claim = volume["persistentVolumeClaim"]["claimName"]
    (pvc,) = [p for p in by_kind["PersistentVolumeClaim"] if p["metadata"]["name"] == claim]
    assert "ReadWriteMany" in pvc["spec"]["accessModes"]
    archive = next(j for j in by_kind["Job"] if j is not shards)
    arch_script = " ".join(part for c in archive["spec"]["template"]["spec"]["containers"]
                           for part in c.get("command", []) + c.get("args", []))
    assert f"digest archive {out_path}" in arch_script
