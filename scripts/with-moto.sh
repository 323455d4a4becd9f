#!/usr/bin/env bash
# Runs a command with a moto server (DynamoDB, S3, SQS, EventBridge) on a free loopback port,
# exported as VIVID_AWS_ENDPOINT, and stops the server afterwards whatever happens.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
moto="${VIVID_MOTO_SERVER:-$root/.venv/bin/vivid-moto-server}"
[ -x "$moto" ] || { echo "the emulator launcher is not at $moto: run 'make venv'" >&2; exit 1; }
port=$("$root/.venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log="${TMPDIR:-/tmp}/vivid-moto-$port.log"
"$moto" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 300); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  kill -0 "$pid" 2>/dev/null || { echo "moto_server exited; see $log" >&2; exit 1; }
  sleep 0.1
done
export VIVID_AWS_ENDPOINT="http://127.0.0.1:$port"
echo "moto server at $VIVID_AWS_ENDPOINT (log $log)"
"$@"
