#!/usr/bin/env bash
# The checkers the tests run on digest's outputs (Nu HTML Checker, Ace by DAISY, axe-core), pinned in
# package-lock.json beside this file, installed into node_modules/ here. Called by scripts/setup.sh and
# scripts/test.sh after scripts/system-deps.sh (which brings Node.js, Java and Chromium).
# Fast when nothing changed: a stamp records the lock file it installed, and the tools are looked for first.
set -euo pipefail
cd "$(dirname "$0")"
for cmd in node npm; do
  command -v "$cmd" >/dev/null \
    || { echo "error: $cmd not found: run 'bash scripts/system-deps.sh' as root" >&2; exit 1; }
done
stamp=node_modules/.digest-installed
want="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1) node $(node --version)"
tools=(node_modules/vnu-jar/build/dist/vnu.jar node_modules/.bin/ace-cli node_modules/axe-core/axe.min.js
       node_modules/puppeteer-core/package.json)
present=1
for f in "${tools[@]}"; do [ -e "$f" ] || present=0; done
if [ "$present" = 1 ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then exit 0; fi
echo "installing the validators (npm ci in scripts/validators)"
# --ignore-scripts: no install step may download anything (puppeteer would fetch a Chrome, vnu-jar a Java);
# the system's Chromium and Java are used instead.
PUPPETEER_SKIP_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null \
  || { echo "error: npm ci failed in scripts/validators" >&2; exit 1; }
for f in "${tools[@]}"; do
  [ -e "$f" ] || { echo "error: npm ci did not install scripts/validators/$f" >&2; exit 1; }
done
echo "$want" > "$stamp"
