#!/usr/bin/env bash
# Installs Debian packages that a script found missing: with apt-get when we are root (a fresh CI
# machine), otherwise says what to install and fails. One place for the three scripts that need
# system tools (deps.sh, readme-test.sh, browser-deps.sh).
#
#   scripts/debian-install.sh "<what needs them>" <package>...     (no package: nothing to do)
set -euo pipefail
why=$1
shift
[ $# -gt 0 ] || exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing $* (Debian packages: $why)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
else
  echo "$why: needs $* (apt-get install $*; brew install $*)" >&2
  exit 1
fi
