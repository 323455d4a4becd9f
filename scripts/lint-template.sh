#!/usr/bin/env bash
# The template as CloudFormation will see it, offline (no AWS account, no network): five checks,
# run side by side, each reported with its time; fails when any of them fails.
#   generated       template.yaml is what scripts/gen-template.py writes from template/ (a diff
#                   otherwise: edit template/, then `make template`); broken sources are refused
#   check-template  SAM transform with the pinned translator: no cycle, no unresolved reference, no
#                   secret in a function's environment, no route function with a Timeout above
#                   29 s, conventions, the stack's share of each
#                   CloudFormation quota (fails above 80 %); its fixtures must be rejected
#   cfn-lint        the pinned cfn-lint on the SAM template
#   sam-validate    `sam validate --lint` (aws-sam-cli); a dummy region, telemetry off
#   checkov         zero failed checks; every skip in the template carries its reason
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv="$root/.venv"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-central-1}"
export SAM_CLI_TELEMETRY=0 BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() { # name command...
  local name=$1 start=$SECONDS
  shift
  set +e
  "$@" >"$out/$name.log" 2>&1
  echo "$? $((SECONDS - start))" >"$out/$name.status"
}

start=$SECONDS
run generated "$venv/bin/python" scripts/gen-template.py --check --selftest &
run check-template "$venv/bin/python" scripts/check-template.py --selftest &
run cfn-lint "$venv/bin/cfn-lint" template.yaml &
run sam-validate "$venv/sam/bin/sam" validate --lint --template template.yaml &
run checkov "$venv/checkov/bin/checkov" -f template.yaml --framework cloudformation --quiet --compact --skip-download &
wait

failed=0
for name in generated check-template cfn-lint sam-validate checkov; do
  read -r rc secs <"$out/$name.status"
  if [ "$rc" = 0 ]; then
    echo "template: $name ok (${secs} s)"
    [ "$name" = checkov ] && grep -h 'checks:' "$out/$name.log" | sed 's/^/  checkov: /'
    [ "$name" = check-template ] && grep -h '^headroom:' "$out/$name.log" | sed 's/^/  /'
    [ "$name" = generated ] && sed 's/^/  /' "$out/$name.log"
  else
    echo "template: $name FAILED (exit $rc, ${secs} s):"
    sed 's/^/  /' "$out/$name.log"
    failed=1
  fi
done
echo "template checks: $((SECONDS - start)) s"
exit "$failed"
