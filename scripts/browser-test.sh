#!/usr/bin/env bash
# The browser test (tests/browser/run.py): headless Chromium drives the VIVID study flow from
# another origin against a fresh local stack. Installs what it needs (scripts/deps.sh,
# scripts/browser-deps.sh), builds the stack's binary, runs the test. A failure leaves
# screenshots, the browser console and the stack's log in target/browser-test/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/deps.sh"
"$root/scripts/browser-deps.sh"
cargo=${CARGO:-cargo}
target=$("$cargo" metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
"$cargo" build --quiet -p vivid-local
export VIVID_LOCAL_BIN="$target/debug/vivid-local"
# A backstop: the runner's own waits end well before this.
exec timeout --kill-after=10 600 "$root/.venv/browser/bin/python" "$root/tests/browser/run.py" "$@"
