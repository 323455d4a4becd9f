#!/usr/bin/env bash
# Installs the pinned Python tools into .venv (ignored by git):
#   .venv          the AWS emulator (moto), cfn-lint and aws-sam-translator (the library behind
#                  CloudFormation's SAM transform, used by scripts/check-template.py), and
#                  pocketsphinx (with its English model: the local Transcribe stand-in);
#   .venv/sam      aws-sam-cli (`sam validate --lint`), and
#   .venv/checkov  checkov, each in a venv of its own: both pin boto3, to versions that exclude each
#                  other, and the emulator keeps the newest botocore it resolves to.
# The three installs run side by side. Bump the stamp's number when a pin changes, so that
# existing venvs reinstall.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
stamp="$venv/.vivid-tools-3"

# The emulator's launcher: moto's server with DynamoDB transactions that undo by item instead of
# by copying the table (local/moto/fast_transactions.py says why).
write_launcher() {
  cat >"$venv/bin/vivid-moto-server" <<LAUNCHER
#!$venv/bin/python
import sys
sys.path.insert(0, "$root/local/moto")
import fast_transactions  # noqa: F401,E402
from moto.server import main  # noqa: E402
sys.exit(main())
LAUNCHER
  chmod +x "$venv/bin/vivid-moto-server"
}
if [ -f "$stamp" ]; then
  [ -x "$venv/bin/vivid-moto-server" ] || write_launcher
  exit 0
fi

main_pins=('moto[server]==5.2.5' 'cfn-lint==1.58.0' 'aws-sam-translator==1.115.0' 'pocketsphinx==5.1.1')
sam_pins=('aws-sam-cli==1.170.0')
checkov_pins=('checkov==3.3.30')

start=$SECONDS
python3 -m venv "$venv"
python3 -m venv "$venv/sam"
python3 -m venv "$venv/checkov"
pip_install() { "$1/bin/pip" install --quiet --disable-pip-version-check "${@:2}" >"$1/.install.log" 2>&1; }
pip_install "$venv/sam" "${sam_pins[@]}" &
sam_pid=$!
pip_install "$venv/checkov" "${checkov_pins[@]}" &
checkov_pid=$!
failed=0
pip_install "$venv" "${main_pins[@]}" || { cat "$venv/.install.log" >&2; failed=1; }
wait "$sam_pid" || { cat "$venv/sam/.install.log" >&2; failed=1; }
wait "$checkov_pid" || { cat "$venv/checkov/.install.log" >&2; failed=1; }
[ "$failed" = 0 ] || { echo "installing the python tools failed" >&2; exit 1; }
write_launcher
touch "$stamp"
echo "python tools installed in .venv in $((SECONDS - start)) s"
