#!/usr/bin/env bash
# The API contract as a front-end team meets it (`make test-contract`, part of `make test`), on
# docs/openapi.yaml alone (no stack, no cargo):
#   0. docs/openapi.yaml is what scripts/gen-openapi.py writes from docs/openapi/ (a diff otherwise:
#      edit docs/openapi/, then `make openapi`);
#   1. tests/contract/node_modules: the pinned tools, exactly as package-lock.json pins them
#      (`npm ci`, again whenever the lock file is newer): openapi-typescript, openapi-fetch,
#      typescript, @redocly/cli, @stoplight/spectral-cli, @stoplight/prism-cli, ajv;
#   2. TypeScript types generated from the document (tests/contract/generated/api.d.ts);
#   3. the study flow (tests/contract/study-flow.ts) compiled against them with `tsc --strict`
#      (tsconfig.json), 0 errors, and no cast, non-null assertion, `any` or ts-ignore in it; then
#      run against a mock server answering from the document (prism, mock-flow.mjs): each answer's
#      example feeds the flow's next request, which the mock validates against the document;
#      the study page (web/, plain JavaScript with // @ts-check and JSDoc types from the same
#      generated file) checked as strictly (tsconfig.web.json), 0 errors, no cast, no `any`;
#   4. redocly lint (every built-in rule, the documentation ones included; redocly.yaml) and
#      spectral lint (spectral:oas, all rules; .spectral.yaml): 0 errors and 0 warnings, each rule
#      turned off with its reason in those files;
#   5. every example validated against its schema, every schema and operation with its examples,
#      and the error-code catalogue (`ProblemCode`) compared with the codes the Rust handlers
#      declare (tests/contract/validate.mjs, catalogue.mjs).
# Fails on the first step that finds anything, printing what it found.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/tests/contract"
doc="$root/docs/openapi.yaml"
start=$SECONDS
# No telemetry from the linters, whatever the machine's settings.
export REDOCLY_TELEMETRY=off NO_UPDATE_NOTIFIER=1

# 0. The document is current.
python=python3
[ -x "$root/.venv/bin/python" ] && python="$root/.venv/bin/python"
current=$("$python" "$root/scripts/gen-openapi.py" --check 2>&1) || {
  echo "$current" >&2
  echo "contract: docs/openapi.yaml is not what docs/openapi/ generates" >&2
  exit 1
}

if ! command -v npm >/dev/null; then
  echo "the contract check needs Node.js (20.19 or later) and npm (apt-get install nodejs npm)" >&2
  exit 1
fi
if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
  install=$SECONDS
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "contract: npm ci in tests/contract in $((SECONDS - install)) s"
fi
bin="$dir/node_modules/.bin"
out="$root/target/contract"
mkdir -p "$out" "$dir/generated"

# 2. The types.
"$bin/openapi-typescript" "$doc" -o "$dir/generated/api.d.ts" >"$out/openapi-typescript.log" 2>&1 || {
  cat "$out/openapi-typescript.log" >&2
  echo "contract: openapi-typescript could not generate types from docs/openapi.yaml" >&2
  exit 1
}

# 3. The study flow: no way out of the type checker, then tsc --strict.
node "$dir/no-escape.mjs" "$dir/study-flow.ts" >/dev/null
if ! "$bin/tsc" -p "$dir/tsconfig.json" --strict --noEmit false --outDir "$dir/generated/flow" --pretty false >"$out/tsc.log" 2>&1; then
  cat "$out/tsc.log" >&2
  echo "contract: tsc --strict: $(grep -c 'error TS' "$out/tsc.log") errors in the study flow" >&2
  exit 1
fi
tsc_errors=$(grep -c 'error TS' "$out/tsc.log" || true)
# The study page on the same types.
# Its modules and its declaration files (globals.d.ts); the pages hold no inline script but
# signed-in.html's (unchecked: it resolves ?next= before any module could load).
node "$dir/no-escape.mjs" $(find "$root/web" \( -name '*.js' -o -name '*.d.ts' \) -not -path '*/vendor/*' | sort) >/dev/null
inline=$(grep -l -E '<script( type="module")?>' "$root"/web/*.html | grep -v '/signed-in\.html$' || true)
if [ -n "$inline" ]; then
  echo "contract: an inline <script> in $inline, which nothing type-checks: move it into a module under web/app/" >&2
  exit 1
fi
if ! "$bin/tsc" -p "$dir/tsconfig.web.json" --pretty false >"$out/tsc-web.log" 2>&1; then
  cat "$out/tsc-web.log" >&2
  echo "contract: tsc --strict: $(grep -c 'error TS' "$out/tsc-web.log") errors in the study page (web/)" >&2
  exit 1
fi
web_files=$(find "$root/web" -name '*.js' -not -path '*/vendor/*' | wc -l)
node "$dir/mock-flow.mjs" "$dir/generated/flow/study-flow.js" "$doc"

# 4. The linters (the JSON reports are kept in target/contract/).
if ! "$bin/redocly" lint "$doc" --config "$dir/redocly.yaml" --format=json >"$out/redocly.json" 2>"$out/redocly.log"; then
  cat "$out/redocly.log" >&2
fi
read -r redocly_errors redocly_warnings < <(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(r.totals.errors, r.totals.warnings);
  for (const p of r.problems) console.error(`redocly: ${p.severity} ${p.ruleId}: ${p.message} (${p.location.map((l) => l.pointer).join(", ")})`);
' "$out/redocly.json")
spectral_status=0
"$bin/spectral" lint "$doc" --ruleset "$dir/.spectral.yaml" --format json --fail-severity hint --quiet \
  >"$out/spectral.json" 2>"$out/spectral.log" || spectral_status=$?
spectral_results=$(node -e '
  const text = require("fs").readFileSync(process.argv[1], "utf8").trim();
  const r = text === "" ? [] : JSON.parse(text);
  const names = ["error", "warning", "information", "hint"];
  for (const p of r) console.error(`spectral: ${names[p.severity]} ${p.code}: ${p.message} (${p.path.join(".")})`);
  console.log(r.length);
' "$out/spectral.json")
if [ "$spectral_status" -ne 0 ] && [ "$spectral_results" -eq 0 ]; then
  cat "$out/spectral.log" >&2
  echo "contract: spectral failed without a result (exit $spectral_status)" >&2
  exit 1
fi
if [ "$redocly_errors" -ne 0 ] || [ "$redocly_warnings" -ne 0 ] || [ "$spectral_results" -ne 0 ]; then
  echo "contract: redocly $redocly_errors errors, $redocly_warnings warnings; spectral $spectral_results results" >&2
  exit 1
fi

# 5. Examples, completeness, the catalogue.
node "$dir/validate.mjs" "$root"
echo "contract: tsc --strict $tsc_errors errors (no cast, no !), the study page's $web_files modules 0 errors, redocly $redocly_errors errors $redocly_warnings warnings, spectral $spectral_results results, in $((SECONDS - start)) s"
