#!/usr/bin/env bash
# Installs what the browser test needs besides the local stack's own deps (scripts/deps.sh):
#   chromium          Debian's package (/usr/bin/chromium), when missing and we may install it;
#                     Playwright drives this system browser (its own browser download cannot
#                     work offline);
#   .venv/browser     Playwright for Python, pinned, in a venv of its own beside the others of
#                     scripts/venv.sh (stamp .vivid-browser-N: bump N when a pin changes);
#   tests/browser/node_modules   the page's npm packages (hls.js), exactly as package-lock.json
#                     pins them (`npm ci`, again whenever the lock file is newer).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
chromium=${VIVID_CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium (Debian package)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "the browser test needs Chromium at $chromium: apt-get install chromium (or set VIVID_CHROMIUM)" >&2
    exit 1
  fi
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

page="$root/tests/browser"
if ! command -v npm >/dev/null; then
  echo "the browser test needs Node.js and npm (apt-get install nodejs npm)" >&2
  exit 1
fi
if [ ! -f "$page/node_modules/.package-lock.json" ] || [ "$page/package-lock.json" -nt "$page/node_modules/.package-lock.json" ]; then
  (cd "$page" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
