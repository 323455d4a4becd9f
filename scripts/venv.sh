#!/usr/bin/env bash
# Installs the pinned Python tools into .venv (ignored by git):
#   .venv          the AWS emulator (moto), cfn-lint, aws-sam-translator (the library behind
#                  CloudFormation's SAM transform, used by scripts/check-template.py) and aws-sam-cli
#                  (`sam validate --lint`);
#   .venv/checkov  checkov, in a venv of its own: it pins a boto3 that aws-sam-cli's pin excludes.
# The two installs run side by side. Bump the stamp's number when a pin changes, so that existing
# venvs reinstall.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
stamp="$venv/.vivid-tools-2"
[ -f "$stamp" ] && exit 0

main_pins=(
  'moto[server]==5.2.5'
  'cfn-lint==1.58.0'
  'aws-sam-translator==1.115.0'
  'aws-sam-cli==1.170.0'
)
checkov_pins=('checkov==3.3.30')

start=$SECONDS
python3 -m venv "$venv"
python3 -m venv "$venv/checkov"
pip_install() { "$1/bin/pip" install --quiet --disable-pip-version-check "${@:2}"; }
log="$venv/.install-checkov.log"
pip_install "$venv/checkov" "${checkov_pins[@]}" >"$log" 2>&1 &
checkov_pid=$!
pip_install "$venv" "${main_pins[@]}"
if ! wait "$checkov_pid"; then
  cat "$log" >&2
  echo "checkov install failed" >&2
  exit 1
fi
touch "$stamp"
echo "python tools installed in .venv in $((SECONDS - start)) s"
