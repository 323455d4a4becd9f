#!/usr/bin/env bash
# Installs what the local stack and the tests need besides Rust: the pinned Python tools (.venv),
# ffmpeg/ffprobe and festival's text2wave (the tests' spoken lecture clips): Debian's packages,
# when missing and we may install them. `deps.sh --stack` (make dev): only what the local stack
# runs on -- moto and pocketsphinx (scripts/venv.sh --stack) and ffmpeg -- not the lint tools
# nor festival, which only the tests use.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
stack_only=0
[ "${1:-}" = --stack ] && stack_only=1
if [ "$stack_only" = 1 ]; then "$root/scripts/venv.sh" --stack; else "$root/scripts/venv.sh"; fi
missing=()
{ command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; } || missing+=(ffmpeg)
[ "$stack_only" = 1 ] || command -v text2wave >/dev/null || missing+=(festival)
# The tests' institutional OpenID Connect provider runs on Node.js (local/idp).
[ "$stack_only" = 1 ] || command -v npm >/dev/null || missing+=(nodejs npm)
"$root/scripts/debian-install.sh" "the local stack and the tests" "${missing[@]}"
# The institution's OpenID Connect provider of the tests: npm oidc-provider, pinned in
# local/idp/package-lock.json (`npm ci`, again whenever the lock file is newer).
if [ "$stack_only" = 0 ]; then
  idp="$root/local/idp"
  if [ ! -d "$idp/node_modules/oidc-provider" ] || [ "$idp/package-lock.json" -nt "$idp/node_modules" ]; then
    (cd "$idp" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "deps: npm ci in local/idp (oidc-provider)"
  fi
fi
