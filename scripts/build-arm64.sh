#!/usr/bin/env bash
# Every Lambda function of the suite for arm64 (provided.al2023 on Graviton), in ONE cargo-lambda
# invocation: the dependencies are compiled once (features unified across the suite) into a
# target directory of the Lambda builds' own, and the functions' final links run side by side.
# SAM's rust-cargolambda build method instead runs one cargo-lambda per function, each with its
# own feature set (docs/benchmarks.md, "Building for Lambda", has the figures of both).
#
#   scripts/build-arm64.sh                           build, then zip each bootstrap as SAM
#                                                    packages it (zip -9) and print time and sizes
#   scripts/build-arm64.sh --artifact <pkg> <dir>    build (a no-op when up to date), then copy
#                                                    <pkg>'s bootstrap into <dir>: what SAM's
#                                                    `BuildMethod: makefile` calls, through the
#                                                    Makefile's build-%Function target
#
# Environment: VIVID_LAMBDA_TARGET_DIR (default target/lambda); CARGO_PROFILE_RELEASE_* and
# CARGO_BUILD_JOBS pass through to cargo (e.g. to try a profile without editing Cargo.toml).
# Output: $VIVID_LAMBDA_TARGET_DIR/lambda/<function>/bootstrap, .../zips/<function>.zip,
# .../sizes.tsv, .../build.log.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-cargo-lambda.sh"
export PATH="$root/.venv/cargo-lambda/bin:$PATH"
export CARGO_TARGET_DIR="${VIVID_LAMBDA_TARGET_DIR:-$root/target/lambda}"
mkdir -p "$CARGO_TARGET_DIR"

mapfile -t functions < <(cd "$root/functions" && ls -d -- */ | tr -d /)
packages=()
for f in "${functions[@]}"; do packages+=(-p "$f"); done

build() {
  # One build at a time per target directory; cargo's own lock would also serialise SAM's
  # parallel calls, this keeps their output apart.
  exec 8>"$CARGO_TARGET_DIR/.build-arm64.lock"
  flock 8
  (cd "$root" && cargo lambda build --release --arm64 "${packages[@]}" "$@")
}

if [ "${1:-}" = "--artifact" ]; then
  [ $# -eq 3 ] || { echo "usage: $0 --artifact <package> <dir>" >&2; exit 2; }
  package=$2 dir=$3
  [ -d "$root/functions/$package" ] || { echo "$package is not a function under functions/" >&2; exit 2; }
  build --quiet
  mkdir -p "$dir"
  cp "$CARGO_TARGET_DIR/lambda/$package/bootstrap" "$dir/bootstrap"
  exit 0
fi

start=$(date +%s.%N)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
build 2>&1 | tee "$CARGO_TARGET_DIR/build.log"
end=$(date +%s.%N)

zips="$CARGO_TARGET_DIR/zips"
mkdir -p "$zips"
: >"$CARGO_TARGET_DIR/sizes.tsv"
for f in "${functions[@]}"; do
  rm -f "$zips/$f.zip"
  zip -q -9 -X -j "$zips/$f.zip" "$CARGO_TARGET_DIR/lambda/$f/bootstrap"
  printf '%s\t%s\t%s\n' "$f" "$(stat -c %s "$CARGO_TARGET_DIR/lambda/$f/bootstrap")" "$(stat -c %s "$zips/$f.zip")" \
    >>"$CARGO_TARGET_DIR/sizes.tsv"
done
echo
echo "| function | bootstrap (KiB) | zip -9 (KiB) |"
echo "|---|---|---|"
awk -F'\t' '{ printf "| %s | %.0f | %.0f |\n", $1, $2 / 1024, $3 / 1024 }' "$CARGO_TARGET_DIR/sizes.tsv"
awk -F'\t' -v secs="$(echo "$end - $start" | bc)" -v load="$load_before" '
  { n++; s += $3; if (min == "" || $3 < min) min = $3; if ($3 > max) max = $3 }
  END {
    printf "\n%d functions built for arm64 in %d min %02d s (load average before: %s)\n", n, secs / 60, secs % 60, load
    printf "zip -9: min %.0f KiB, max %.0f KiB, mean %.0f KiB; largest %s 4 MB (4,000,000 bytes)\n", min / 1024, max / 1024, s / n / 1024, (max <= 4000000 ? "within" : "ABOVE")
  }' "$CARGO_TARGET_DIR/sizes.tsv"
