#!/usr/bin/env bash
# Installs the pinned Python tools into .venv (ignored by git):
#   .venv          the AWS emulator (moto) and pocketsphinx (with its English model: the local
#                  Transcribe stand-in) -- all the local stack needs, and all `venv.sh --stack`
#                  (`make dev`) installs; then cfn-lint and aws-sam-translator (the library behind
#                  CloudFormation's SAM transform, used by scripts/check-template.py);
#   .venv/sam      aws-sam-cli (`sam validate --lint`), and
#   .venv/checkov  checkov, each in a venv of its own: both pin boto3, to versions that exclude each
#                  other, and the emulator keeps the newest botocore it resolves to.
# The lint tools' three installs run side by side. Bump the stamps' numbers when a pin changes, so
# that existing venvs reinstall (the tools' stamp stands for the stack's too: bump both).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
stamp="$venv/.vivid-tools-4"
stack_stamp="$venv/.vivid-stack-2"
stack_only=0
[ "${1:-}" = --stack ] && stack_only=1

# The emulator's launcher: moto's server with DynamoDB transactions that undo by item instead of
# by copying the table (local/moto/fast_transactions.py says why), and KMS Sign as AWS answers it
# (local/moto/kms_sign.py). Written on every run (it is a few lines), so a checkout's patches
# reach a venv made before them.
write_launcher() {
  cat >"$venv/bin/vivid-moto-server" <<LAUNCHER
#!$venv/bin/python
import sys
sys.path.insert(0, "$root/local/moto")
import fast_transactions  # noqa: F401,E402
import kms_sign  # noqa: F401,E402
from moto.server import main  # noqa: E402
sys.exit(main())
LAUNCHER
  chmod +x "$venv/bin/vivid-moto-server"
}
if [ -f "$stamp" ] || { [ "$stack_only" = 1 ] && [ -f "$stack_stamp" ]; }; then
  write_launcher
  exit 0
fi

# lti1p3platform: an LMS's LTI 1.3 platform side (tests/lti/), with its deps requests, PyJWT, jwcrypto.
stack_pins=('moto[server]==5.2.5' 'pocketsphinx==5.1.1' 'lti1p3platform==0.1.8')
lint_pins=('cfn-lint==1.58.0' 'aws-sam-translator==1.115.0')
sam_pins=('aws-sam-cli==1.170.0')
checkov_pins=('checkov==3.3.30')

pip_install() { "$1/bin/pip" install --quiet --disable-pip-version-check "${@:2}" >"$1/.install.log" 2>&1; }
start=$SECONDS
python3 -m venv "$venv"
if [ "$stack_only" = 1 ]; then
  echo "installing the local stack's Python tools into .venv: moto, pocketsphinx (once; about a minute)"
  pip_install "$venv" "${stack_pins[@]}" || { cat "$venv/.install.log" >&2; echo "installing moto and pocketsphinx failed" >&2; exit 1; }
  write_launcher
  touch "$stack_stamp"
  echo "python tools of the local stack installed in .venv in $((SECONDS - start)) s"
  exit 0
fi

echo "installing the Python tools into .venv: moto, pocketsphinx, cfn-lint, aws-sam-translator, aws-sam-cli, checkov (once)"
python3 -m venv "$venv/sam"
python3 -m venv "$venv/checkov"
pip_install "$venv/sam" "${sam_pins[@]}" &
sam_pid=$!
pip_install "$venv/checkov" "${checkov_pins[@]}" &
checkov_pid=$!
failed=0
pip_install "$venv" "${stack_pins[@]}" "${lint_pins[@]}" || { cat "$venv/.install.log" >&2; failed=1; }
wait "$sam_pid" || { cat "$venv/sam/.install.log" >&2; failed=1; }
wait "$checkov_pid" || { cat "$venv/checkov/.install.log" >&2; failed=1; }
[ "$failed" = 0 ] || { echo "installing the python tools failed" >&2; exit 1; }
write_launcher
touch "$stack_stamp" "$stamp"
echo "python tools installed in .venv in $((SECONDS - start)) s"
