#!/usr/bin/env bash
# README.md's shell examples against a fresh local stack (tests/readme/run.py; `make test-readme`,
# part of `make test`): installs what the stack needs (scripts/deps.sh --stack), builds its binary,
# runs every example in README order and checks what each must give. API=http://127.0.0.1:3000
# runs them against a stack you already run instead. Outputs land in target/readme/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
missing=()
for tool in curl jq; do command -v "$tool" >/dev/null || missing+=("$tool"); done
"$root/scripts/debian-install.sh" "the README's examples" "${missing[@]}"
if [ -z "${API:-}" ]; then
  "$root/scripts/deps.sh" --stack
  cargo=${CARGO:-cargo}
  target=$("$cargo" metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  "$cargo" build --quiet -p vivid-local
  export VIVID_LOCAL_BIN="$target/debug/vivid-local"
fi
# A backstop for the whole run, the stack's start included: run.py gives the examples 240 s
# (they take well under a minute) and names the one that hangs, long before this fires.
exec timeout --kill-after=10 600 python3 "$root/tests/readme/run.py" "$@"
