#!/usr/bin/env bash
# Installs what the local stack and the tests need besides Rust: the pinned Python tools (.venv)
# and ffmpeg/ffprobe (Debian's package, when missing and we may install it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/venv.sh"
if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ffmpeg (Debian package)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
  else
    echo "ffmpeg and ffprobe are needed: install ffmpeg (apt-get install ffmpeg, brew install ffmpeg)" >&2
    exit 1
  fi
fi
