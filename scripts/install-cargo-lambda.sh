#!/usr/bin/env bash
# Installs what an arm64 Lambda build needs, pinned, into the repository (ignored by git):
#   .venv/cargo-lambda   cargo-lambda (the binary, from PyPI) and zig (the ziglang wheel), the
#                        cross linker cargo-lambda uses for aarch64-unknown-linux-gnu;
#   rustup's aarch64-unknown-linux-gnu standard library.
# Never `cargo install cargo-lambda`: the PyPI wheel is the released binary, in seconds.
# Use it with PATH="$PWD/.venv/cargo-lambda/bin:$PATH" (scripts/build-arm64.sh does).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv/cargo-lambda"
pins=('cargo-lambda==1.9.2' 'ziglang==0.14.1')
stamp="$venv/.vivid-cargo-lambda-1"

[ -f "$stamp" ] && rustup target list --installed | grep -qx aarch64-unknown-linux-gnu && exit 0
# SAM's parallel builds call this once per function: one installs, the others wait.
mkdir -p "$root/.venv"
exec 9>"$root/.venv/.cargo-lambda.lock"
flock 9
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  rustup target add aarch64-unknown-linux-gnu
fi
[ -f "$stamp" ] && exit 0
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "${pins[@]}"
echo "installed: $(PATH="$venv/bin:$PATH" cargo lambda --version), zig $(PATH="$venv/bin:$PATH" python3 -m ziglang version)"
touch "$stamp"
