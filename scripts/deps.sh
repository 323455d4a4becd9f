#!/usr/bin/env bash
# Installs what the local stack and the tests need besides Rust: the pinned Python tools (.venv),
# ffmpeg/ffprobe and festival's text2wave (the tests' spoken lecture clips): Debian's packages,
# when missing and we may install them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/venv.sh"
missing=()
{ command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; } || missing+=(ffmpeg)
command -v text2wave >/dev/null || missing+=(festival)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]} (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "needed: ${missing[*]} (apt-get install ffmpeg festival; brew install ffmpeg festival)" >&2
    exit 1
  fi
fi
