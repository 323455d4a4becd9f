#!/usr/bin/env bash
# schemathesis against docs/openapi.yaml on a fresh local stack, as a host, a participant and a
# stranger (tests/schemathesis/run.py; `make test-api-fuzz`). Installs the pinned schemathesis
# into .venv/schemathesis (its own venv: nothing else in .venv pins its dependencies), the stack's
# own tools (scripts/deps.sh: moto, ffmpeg), builds vivid-local, runs the passes. Reports and the
# stack's log land in target/schemathesis/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/deps.sh"

venv="$root/.venv/schemathesis"
requirements="$root/tests/schemathesis/requirements.txt"
# The stamp names the requirements' hash: a changed pin reinstalls.
stamp="$venv/.vivid-schemathesis-$(sha256sum "$requirements" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  start=$SECONDS
  rm -rf "$venv"
  python3 -m venv "$venv"
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$requirements" >"$venv/.install.log" 2>&1; then
    cat "$venv/.install.log" >&2
    echo "installing schemathesis failed" >&2
    exit 1
  fi
  "$venv/bin/pip" check >/dev/null
  touch "$stamp"
  echo "schemathesis $("$venv/bin/schemathesis" --version | awk '{print $NF}') installed in .venv/schemathesis in $((SECONDS - start)) s"
fi

cargo=${CARGO:-cargo}
target=$("$cargo" metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
"$cargo" build --quiet -p vivid-local
export VIVID_LOCAL_BIN="$target/debug/vivid-local"
# A backstop: the passes are bounded well below this.
exec timeout --kill-after=10 1200 "$venv/bin/python" "$root/tests/schemathesis/run.py" "$@"
