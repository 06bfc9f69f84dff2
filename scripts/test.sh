#!/usr/bin/env bash
# Installs the test dependencies (and the system packages, as root), checks style (ruff) and types (mypy --strict),
# and runs the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
bash scripts/validators/install.sh
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'
# style and types first (the rule set is in pyproject.toml: [tool.ruff], [tool.mypy])
.venv/bin/ruff check digest tests benchmarks scripts
.venv/bin/mypy
exec .venv/bin/python -m pytest -n 2 -q "$@"
