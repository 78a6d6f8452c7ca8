#!/usr/bin/env bash
# Host side of the Ethereum stand-in (run by images/build.sh with IMAGE and CACHE set): the
# same anvil the local runtime runs, fetched by labrunner's own engine cache from the npm
# platform package @foundry-rs/anvil-linux-<arch>, pinned by version and integrity hash in
# src/labrunner/services/anvil_engine.py (one pin for both runtimes), copied into $1/anvil.
set -euo pipefail
ctx="$1"
anvil_version="${IMAGE##*:}"                        # labrunner-local/ethereum:1.7.1 -> 1.7.1
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="$repo/.venv/bin/python"
[ -x "$python" ] || python=python3                  # labrunner's engine cache needs only the standard library

# The tool's own cache home, under the CI cache: fetched once, kept across builds. The npm
# package itself, never an anvil that happens to be on this machine's PATH.
binary="$(LABRUNNER_HOME="$CACHE/anvil-home" PYTHONPATH="$repo/src" "$python" -c '
import sys
from labrunner import engine_cache
from labrunner.services import anvil_engine
if anvil_engine.VERSION != sys.argv[1]:
    sys.exit(f"tag {sys.argv[1]} does not match the pinned anvil {anvil_engine.VERSION}")
print(anvil_engine._binary_in(engine_cache.unpacked(anvil_engine.artifact())))
' "$anvil_version")" || { echo "ethereum/prepare.sh: could not fetch anvil $anvil_version" >&2; exit 1; }
mkdir -p "$ctx/anvil"
cp "$binary" "$ctx/anvil/anvil"
chmod 0755 "$ctx/anvil/anvil"
