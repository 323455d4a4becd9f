#!/usr/bin/env bash
# make bench: every Lambda function of the suite and the baselines, one run, one table
# (docs/benchmarks.md). Run by hand: it builds everything twice (arm64 for the sizes, x86_64 to
# run here) and takes the better part of an hour on 2 cores.
#
#   1. the 44 functions for arm64, as the template builds them (scripts/build-arm64.sh);
#   2. the baselines (bench/baselines) with the same release profile and dependency versions:
#      the empty lambda_runtime function (and the same on lambda_http, the floor of a route without
#      an SDK client), and aws-config + the SDK clients of each function's set (cargo tree says
#      which), on lambda_http for routes, on lambda_runtime for events;
#   3. the same for x86_64 (init, latency and memory are measured on this machine);
#   4. lambda-bench (bench/src/bin/lambda-bench.rs) runs each against a fresh local stack.
#
#   scripts/bench.sh [names…]    only those functions: only they are built (arm64 and x86_64), with
#                                the baselines of their client sets, the DynamoDB-only one and the
#                                empty one (the baselines always run)
# Environment: VIVID_BENCH_N (invocations, default 1000), VIVID_BENCH_INIT_RUNS (default 100),
# VIVID_BENCH_JOBS (targets measured side by side, default 1), VIVID_BENCH_SKIP_BUILD=1 (reuse the
# last builds), VIVID_BENCH_SKIP_ARM64=1 (reuse the arm64 half), VIVID_BENCH_X86_LTO (the x86
# half's LTO, e.g. thin), CARGO_PROFILE_RELEASE_* (a profile to try).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out="$root/target/bench"
export VIVID_LAMBDA_TARGET_DIR="${VIVID_LAMBDA_TARGET_DIR:-$root/target/lambda}"
lambda_dir="$VIVID_LAMBDA_TARGET_DIR"
mkdir -p "$out"

"$root/scripts/install-cargo-lambda.sh"
export PATH="$root/.venv/cargo-lambda/bin:$PATH"

# The root's release profile, for the baselines' workspace too (a CARGO_PROFILE_RELEASE_* given by
# the caller wins in both).
eval "$(python3 - <<'EOF'
import os, tomllib
profile = tomllib.load(open("Cargo.toml", "rb")).get("profile", {}).get("release", {})
for key, value in profile.items():
    if isinstance(value, dict):
        continue
    name = "CARGO_PROFILE_RELEASE_" + key.upper().replace("-", "_")
    value = str(value).lower() if isinstance(value, bool) else str(value)
    if name not in os.environ:
        print(f"export {name}={value!r}")
EOF
)"

# Each function: an HTTP route (lambda_http) or an event consumer, and its SDK clients. Named
# functions only, when some are named (a name `<function>@<label>` counts as its function).
mapfile -t functions < <(cd functions && ls -d -- */ | tr -d /)
if [ $# -gt 0 ]; then
  named=()
  for f in "${functions[@]}"; do
    for n in "$@"; do
      if [ "${n%%@*}" = "$f" ]; then named+=("$f"); break; fi
    done
  done
  functions=("${named[@]}")
  [ ${#functions[@]} -gt 0 ] || { echo "bench.sh: no function of functions/ among: $*" >&2; exit 2; }
fi
manifest="$out/manifest.tsv"
: >"$manifest.functions"
declare -A sets=()
for f in "${functions[@]}"; do
  tree=$(cargo tree -q -p "$f" -e normal --target aarch64-unknown-linux-gnu --prefix none)
  kind=event
  grep -q '^lambda_http ' <<<"$tree" && kind=http
  clients=$( (grep -oE '^aws-sdk-[a-z0-9]+ ' <<<"$tree" || true) | sed 's/^aws-sdk-//; s/ $//' | (grep -vx sts || true) \
    | sort -u | paste -sd, -)
  if [ -z "$clients" ] && [ "$kind" = event ]; then
    baseline=baseline-empty
  elif [ -z "$clients" ]; then
    # A route without any SDK client (the $default route): the empty function on lambda_http.
    baseline=baseline-http
    sets[$baseline]="http "
  else
    baseline="baseline-$kind-${clients//,/-}"
    sets[$baseline]="$kind $clients"
  fi
  printf '%s\tfunction\t%s\t%s\t%s\t%s\t%s\n' "$f" "$kind" "$clients" "$baseline" \
    "$out/x86/$f/bootstrap" "$lambda_dir/lambda/$f/bootstrap" >>"$manifest.functions"
done
sets[baseline-http-dynamodb]="http dynamodb"

# One baseline binary per client set: `cargo lambda build -p baseline-sdk --features …` in the
# baselines' workspace (its own Cargo.lock is the root's, copied), then set aside under its name.
build_baselines() { # <arch flag> <dir>
  local arch=$1 dest=$2 name kind clients features
  cp Cargo.lock bench/baselines/Cargo.lock
  (cd bench/baselines && CARGO_TARGET_DIR="$lambda_dir" cargo lambda build --release "$arch" -p baseline-empty \
    --lambda-dir "$dest/.staging")
  mkdir -p "$dest/baseline-empty" && mv "$dest/.staging/baseline-empty/bootstrap" "$dest/baseline-empty/bootstrap"
  for name in "${!sets[@]}"; do
    read -r kind clients <<<"${sets[$name]}"
    if [ -z "$clients" ]; then
      (cd bench/baselines && CARGO_TARGET_DIR="$lambda_dir" cargo lambda build --release "$arch" -p baseline-empty \
        --features "$kind" --lambda-dir "$dest/.staging")
      mkdir -p "$dest/$name" && mv "$dest/.staging/baseline-empty/bootstrap" "$dest/$name/bootstrap"
      continue
    fi
    features=${clients/dynamodb/}
    [ "$kind" = http ] && features="http,$features"
    features=$(tr ',' '\n' <<<"$features" | grep -v '^$' | paste -sd, -)
    (cd bench/baselines && CARGO_TARGET_DIR="$lambda_dir" cargo lambda build --release "$arch" -p baseline-sdk \
      --features "$features" --lambda-dir "$dest/.staging")
    mkdir -p "$dest/$name" && mv "$dest/.staging/baseline-sdk/bootstrap" "$dest/$name/bootstrap"
  done
}

if [ "${VIVID_BENCH_SKIP_BUILD:-}" != 1 ]; then
  if [ "${VIVID_BENCH_SKIP_ARM64:-}" != 1 ]; then
    if [ $# -gt 0 ]; then
      echo "== arm64: ${functions[*]}, then the baselines"
      arm64_packages=()
      for f in "${functions[@]}"; do arm64_packages+=(-p "$f"); done
      CARGO_TARGET_DIR="$lambda_dir" cargo lambda build --release --arm64 "${arm64_packages[@]}" \
        --lambda-dir "$lambda_dir/lambda"
    else
      echo "== arm64: the functions (scripts/build-arm64.sh), then the baselines"
      "$root/scripts/build-arm64.sh"
    fi
    build_baselines --arm64 "$out/arm64"
  fi
  echo "== x86_64: the functions and the baselines, to run here"
  packages=()
  for f in "${functions[@]}"; do packages+=(-p "$f"); done
  (
    # VIVID_BENCH_X86_LTO=thin: the binaries run here link in parallel (minutes instead of one
    # fat-LTO minute per function); functions and baselines alike, so the ratios compare like
    # with like. The arm64 sizes are always the shipped profile's.
    if [ -n "${VIVID_BENCH_X86_LTO:-}" ]; then
      export CARGO_PROFILE_RELEASE_LTO="$VIVID_BENCH_X86_LTO" CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
    fi
    CARGO_TARGET_DIR="$lambda_dir" cargo lambda build --release --x86-64 "${packages[@]}" --lambda-dir "$out/x86"
    build_baselines --x86-64 "$out/x86"
  )
fi

{
  cat "$manifest.functions"
  printf '%s\tbaseline\tevent\t\t-\t%s\t%s\n' baseline-empty "$out/x86/baseline-empty/bootstrap" \
    "$out/arm64/baseline-empty/bootstrap"
  for name in "${!sets[@]}"; do
    read -r kind clients <<<"${sets[$name]}"
    printf '%s\tbaseline\t%s\t%s\t-\t%s\t%s\n' "$name" "$kind" "$clients" "$out/x86/$name/bootstrap" \
      "$out/arm64/$name/bootstrap"
  done
} >"$manifest"
rm -f "$manifest.functions"

# The harness itself: optimised, but without the functions' size profile (no LTO: it links the
# whole local stack, and its own speed only has to stay out of the way).
echo "== lambda-bench"
CARGO_TARGET_DIR="$root/target/bench-harness" CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_PANIC=unwind \
  cargo build --release -q -p vivid-bench --bin lambda-bench
VIVID_BENCH_MANIFEST="$manifest" "$root/target/bench-harness/release/lambda-bench" "$@"
