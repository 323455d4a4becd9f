#!/usr/bin/env bash
# Installs what the browser test needs besides the local stack's own deps (scripts/deps.sh):
#   chromium          Debian's package (/usr/bin/chromium), when missing and we may install it;
#                     Playwright drives this system browser (its own browser download cannot
#                     work offline);
#   .venv/browser     Playwright for Python, pinned, in a venv of its own beside the others of
#                     scripts/venv.sh (stamp .vivid-browser-N: bump N when a pin changes).
# The page itself is web/, served by the local stack; it needs no npm (hls.js is vendored there).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
chromium=${VIVID_CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$chromium" ]; then
  [ -z "${VIVID_CHROMIUM:-}" ] || { echo "VIVID_CHROMIUM=$chromium is not an executable" >&2; exit 1; }
  "$root/scripts/debian-install.sh" "the browser test (or set VIVID_CHROMIUM)" chromium
fi

venv="$root/.venv/browser"
stamp="$venv/.vivid-browser-1"
pins=('playwright==1.65.2')
if [ ! -f "$stamp" ]; then
  start=$SECONDS
  python3 -m venv "$venv"
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check "${pins[@]}" >"$venv/.install.log" 2>&1; then
    cat "$venv/.install.log" >&2
    echo "installing playwright failed" >&2
    exit 1
  fi
  touch "$stamp"
  echo "playwright installed in .venv/browser in $((SECONDS - start)) s"
fi

