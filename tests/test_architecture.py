"""The package's shape, checked: layers without upward imports or cycles, small modules and functions,
one way to cache (a code change misses the cache), and a new format added by one folder alone."""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from radon.complexity import cc_visit

from digest.runtime.layers import LAYERS, layer_of
from tests.conftest import ROOT

PACKAGE = ROOT / "digest"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MAX_COMPLEXITY = 20  # radon grade C at most


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}


def imports_of(name: str, path: Path) -> set[str]:
    """Every module of the package that ``name`` imports, at module level or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("digest"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("digest"):
                continue
            for alias in node.names:  # "from digest.x import y": y may be a module of its own
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in MODULES else target)
    return {m for m in out if m in MODULES and m != name}


GRAPH = {name: imports_of(name, path) for name, path in MODULES.items()}


def test_every_module_is_in_a_layer():
    for name in MODULES:
        layer_of(name)  # raises for a module no layer names


def test_no_module_imports_a_higher_layer():
    upward = [f"{a} (layer {layer_of(a)}) imports {b} (layer {layer_of(b)})"
              for a, targets in GRAPH.items() for b in targets if layer_of(b) > layer_of(a)]
    assert not upward, "\n".join(upward)


def test_no_import_cycles():
    """Tarjan's strongly connected components over every import (lazy ones included)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert not cycles, cycles


def test_the_layers_table_names_real_packages():
    for names in LAYERS:
        for name in names:
            assert name in MODULES or any(m.startswith(name + ".") for m in MODULES), name


def test_modules_and_functions_stay_small():
    too_long, too_complex = [], []
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}.{node.name}: {lines} lines")
        too_complex += [f"{name}.{b.name}: {b.complexity}" for b in cc_visit(text) if b.complexity > MAX_COMPLEXITY]
    assert not too_long, too_long
    assert not too_complex, too_complex


# -- one invalidation scheme ----------------------------------------------------------------------
def _copy_package(where: Path) -> Path:
    """A copy of the package (with its built-in themes) to edit, importable from ``where``."""
    shutil.copytree(PACKAGE, where / "digest", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "themes", where / "themes")
    return where / "digest"


def _digest(pkg_parent: Path, cache: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pkg_parent), "DIGEST_CACHE_DIR": str(cache)}
    env.pop("SOURCE_DATE_EPOCH", None)
    return subprocess.run([sys.executable, "-m", "digest", *map(str, args)], env=env, capture_output=True,
                          text=True, cwd=pkg_parent, timeout=300)


@pytest.mark.parametrize("module, edit", [
    ("sources/posts.py", ("    title = _post_title(front.get(\"title\"), notices) or slug\n",
                          "    title = (_post_title(front.get(\"title\"), notices) or slug).upper() + \" EDITED\"\n")),
    ("render/post.py", ("        text = plain_text(html)\n",
                        "        html += \"<p>EDITED</p>\"\n        text = plain_text(html)\n")),
])
def test_editing_the_code_that_made_a_cached_thing_misses_the_cache(tmp_path, module, edit):
    """The parsed-post index, the parsed posts and the rendered posts are keyed on the code that made them:
    after an edit (an upgrade with no version bump), the next build shows what the new code makes."""
    pkg = _copy_package(tmp_path / "code")
    site = tmp_path / "site"
    shutil.copytree(ROOT / "examples" / "finews", site)
    cache = tmp_path / "cache"
    build = ("build", site, "--date", "2022-04-19", "-f", "html", "-o", tmp_path / "out", "--force", "-q")
    first = _digest(pkg.parent, cache, *build)
    assert first.returncode == 0, first.stderr
    page = tmp_path / "out" / "2022" / "2022-04-19.html"
    assert "EDITED" not in page.read_text(encoding="utf-8")
    source = pkg / module
    text = source.read_text(encoding="utf-8")
    assert edit[0] in text
    source.write_text(text.replace(edit[0], edit[1]), encoding="utf-8")
    again = _digest(pkg.parent, cache, *build)
    assert again.returncode == 0, again.stderr
    assert "EDITED" in page.read_text(encoding="utf-8")


# -- adding a format touches only its folder -----------------------------------------------------
TINY = '''
"""A tiny edition, outside digest: one text file per issue listing its titles."""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from digest.config.settings import EditionOptions
from digest.editions.base import Edition, Output, WriteContext, output_path
from digest.model import Digest
from digest.runtime.files import atomic_write


class TinyOptions(EditionOptions):
    TABLE: ClassVar[str] = "tiny"
    greeting: str = "hello"


class TinyEdition(Edition):
    name = "tiny"
    label = "Tiny"
    outputs: ClassVar[tuple[Output, ...]] = (Output(".tiny.txt", "text/plain", primary=True),)
    options = TinyOptions
    for_readers = True
    order = 5

    def write(self, digest: Digest, ctx: WriteContext) -> list[Path]:
        greeting = ctx.settings.options(TinyOptions).greeting
        lines = [greeting, *(p.title for p in digest.posts)]
        path = output_path(ctx.settings, digest, ctx.out_dir, self.primary.suffix)
        return [atomic_write(path, "\\n".join(lines) + "\\n")]
'''


def test_a_new_format_is_one_folder_registered_as_an_entry_point(tmp_path):
    plugins = tmp_path / "plugins"
    (plugins / "tinyfmt").mkdir(parents=True)
    (plugins / "tinyfmt" / "__init__.py").write_text(textwrap.dedent(TINY), encoding="utf-8")
    dist = plugins / "tinyfmt-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tinyfmt\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[digest.editions]\ntiny = tinyfmt:TinyEdition\n", encoding="utf-8")
    site = tmp_path / "site"
    shutil.copytree(ROOT / "examples" / "finews", site)
    (site / "digest.toml").write_text((site / "digest.toml").read_text(encoding="utf-8")
                                      + '\n[tiny]\ngreeting = "你好"\n', encoding="utf-8")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": f"{plugins}{os.pathsep}{ROOT}", "DIGEST_CACHE_DIR": str(tmp_path / "c")}
    run = lambda *a: subprocess.run([sys.executable, "-m", "digest", *map(str, a)], env=env,
                                    capture_output=True, text=True, timeout=300)
    r = run("build", site, "--date", "2022-04-19", "-f", "tiny,web", "-o", out)
    assert r.returncode == 0, r.stderr
    text = (out / "2022" / "2022-04-19.tiny.txt").read_text(encoding="utf-8")
    assert text.startswith("你好\n") and "工业互联网" in text
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "2022/2022-04-19.tiny.txt" in index and ">Tiny<" in index  # the archive lists it by its label
    opds = (out / "opds-all.xml").read_text(encoding="utf-8")
    assert 'type="text/plain"' in opds  # offered to readers, with its MIME type
    # its options are settings like any other: validated, and they shape only its own files
    r = run("build", site, "--date", "2022-04-19", "-f", "tiny,web", "-o", out)
    assert "nothing changed" in r.stdout
    (site / "digest.toml").write_text((site / "digest.toml").read_text(encoding="utf-8").replace("你好", "hi"))
    r = run("build", site, "--date", "2022-04-19", "-f", "tiny,web", "-o", out)
    assert r.returncode == 0 and ".tiny.txt" in r.stdout and "2022-04-19.html" not in r.stdout, r.stdout
    (site / "digest.toml").write_text((site / "digest.toml").read_text(encoding="utf-8") + "colour = 1\n")
    r = run("build", site, "--date", "2022-04-19", "-f", "tiny", "-o", out)
    assert r.returncode == 2 and "unknown key 'tiny.colour'" in r.stderr
    # a theme scaffolded now has a folder for its templates too
    r = run("theme", "new", "mine", "--dir", tmp_path)
    assert r.returncode == 0 and (tmp_path / "mine" / "tiny").is_dir(), r.stderr
