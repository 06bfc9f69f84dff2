#!/usr/bin/env bash
# System packages the editions need: CJK fonts (PDF, EPUB cover), Pango and HarfBuzz-subset (WeasyPrint), Java
# (EPUBCheck and the Nu HTML Checker in the tests), poppler-utils (PDF checks), pandoc (the benchmarks' peer),
# Chromium and Node.js (Ace by DAISY and axe-core in the tests: scripts/validators/). Installs them with apt when run as root; otherwise says what is missing.
set -uo pipefail
need=()
# (the listings are read whole first: with pipefail, `cmd | grep -q` fails when grep stops reading early)
fonts=$(fc-list 2>/dev/null || true)
libs=$(ldconfig -p 2>/dev/null || true)
grep -qi "Noto Sans CJK" <<<"$fonts" || need+=(fonts-noto-cjk)
grep -qi "Noto Serif CJK" <<<"$fonts" || need+=(fonts-noto-cjk)
grep -q "libpango-1.0.so" <<<"$libs" || need+=(libpango-1.0-0 libpangoft2-1.0-0)
# WeasyPrint subsets fonts with HarfBuzz when it is there, else with fontTools: 3x slower PDFs with CJK fonts
grep -q "libharfbuzz-subset.so" <<<"$libs" || need+=(libharfbuzz-subset0)
# pandoc: the peer tool the benchmarks (python -m benchmarks.run) compare against
command -v pandoc >/dev/null || need+=(pandoc)
command -v pdftotext >/dev/null || need+=(poppler-utils)
command -v java >/dev/null || need+=(default-jre-headless)
command -v chromium >/dev/null || need+=(chromium)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v fc-list >/dev/null || need+=(fontconfig)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || { echo "error: apt-get could not install: ${need[*]}" >&2; exit 1; }
  fc-cache -f >/dev/null 2>&1 || true
else
  echo "warning: missing system packages: ${need[*]}" >&2
  echo "         install them as root, e.g.: sudo apt-get install ${need[*]}" >&2
  echo "         (without a CJK font the PDF edition refuses to build; see README)" >&2
fi
