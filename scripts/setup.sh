#!/usr/bin/env bash
# One command for a fresh machine: system packages (as root), a virtualenv with digest, and the
# example digest of examples/finews built in every format into out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
bash scripts/validators/install.sh
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e .
# byte-compile now (as a wheel install does): with PYTHONDONTWRITEBYTECODE set, every run would compile it again
.venv/bin/python -m compileall -q digest >/dev/null
.venv/bin/digest build examples/finews --from 2021-12-08 --to 2022-04-19 --format all --out out
echo "done: the example digest is in out/ (run .venv/bin/digest --help for more)"
