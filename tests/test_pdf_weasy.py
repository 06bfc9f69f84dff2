"""WeasyPrint imported by its libraries' sonames (digest.editions.pdf.weasy): the same libraries loaded as by a
plain import, no subprocess run to search for them, and a plain import again when that way fails."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the soname path is Linux's")

LIBS = ("gobject", "pango-1.0", "pangoft2", "harfbuzz", "fontconfig")

PROBE = """
import json, subprocess, sys
spawned = []
real = subprocess.Popen.__init__
def counting(self, args, *a, **k):
    spawned.append(str(args))
    real(self, args, *a, **k)
subprocess.Popen.__init__ = counting
FAIL_ONCE = {fail_once}
if FAIL_ONCE:  # the first import of weasyprint.text.ffi fails, as where no soname loads
    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name == "weasyprint.text.ffi" and not getattr(self, "done", False):
                self.done = True
                raise OSError("cannot load library 'libgobject-2.0.so.0'")
            return None
    sys.meta_path.insert(0, Refuse())
{how}
from weasyprint import HTML
HTML(string="<p>x</p>").render()
maps = open("/proc/self/maps").read().split()
libs = sorted({{m.rsplit("/", 1)[-1] for m in maps if m.startswith("/") and ".so" in m
               and any(n in m for n in {libs!r})}})
print(json.dumps({{"libs": libs, "spawned": spawned, "stdout_clean": True}}))
"""


def _run(how: str, fail_once: bool = False) -> dict:
    code = PROBE.format(how=how, fail_once=fail_once, libs=LIBS)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_same_libraries_without_a_library_search():
    plain = _run("import weasyprint")
    quick = _run("from digest.editions.pdf.weasy import import_weasyprint; import_weasyprint()")
    assert quick["libs"] == plain["libs"]
    assert {lib.split(".so")[0] for lib in quick["libs"]} >= {"libpango-1.0", "libharfbuzz", "libfontconfig"}
    assert plain["spawned"]  # (a plain import searches: ldconfig, gcc…)
    assert quick["spawned"] == []


def test_a_failed_import_by_soname_is_retried_the_usual_way():
    again = _run("from digest.editions.pdf.weasy import import_weasyprint; import_weasyprint()", fail_once=True)
    plain = _run("import weasyprint")
    assert again["libs"] == plain["libs"]
    assert again["spawned"]  # the second import searched as WeasyPrint does
