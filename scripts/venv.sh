#!/usr/bin/env bash
# Installs the pinned Python tools into .venv (ignored by git): the AWS emulator and cfn-lint.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
stamp="$venv/.vivid-tools-1"
[ -f "$stamp" ] && exit 0
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5' 'cfn-lint==1.58.0'
touch "$stamp"
