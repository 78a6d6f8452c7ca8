#!/usr/bin/env bash
# Host side of the Aurora PostgreSQL stand-in (run by images/build.sh with IMAGE and CACHE set):
# the PostgreSQL 18.6 binaries the postgres stand-in uses ($1/pginstall, $1/libs, by its
# prepare.sh), psycopg's wheels for bookworm's python3 ($1/wheels), and the supervisor's own
# modules from this repository ($1/app/labrunner: only what `python -m
# labrunner.services.aurora_cluster` imports).
set -euo pipefail
ctx="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/../../src/labrunner"
IMAGE="labrunner-local/postgres:${IMAGE##*:}" "$here/../postgres/prepare.sh" "$ctx"

wheels="$CACHE/wheels/aurora-psycopg"
platforms=()
for v in $(seq 36 -1 17); do platforms+=(--platform "manylinux_2_${v}_$(uname -m)"); done
platforms+=(--platform "manylinux2014_$(uname -m)")
if [ ! -f "$wheels/requirements.txt" ]; then
  rm -rf "$wheels" "$wheels.part" && mkdir -p "$wheels.part"
  printf '%s\n' "psycopg[binary]>=3.2" >"$wheels.part/requirements.txt"
  python3 -m pip download -q -d "$wheels.part" -r "$wheels.part/requirements.txt" \
    --only-binary=:all: --implementation cp --python-version 3.11 --abi cp311 --abi abi3 --abi none \
    "${platforms[@]}" --platform any \
    || { echo "aurora_postgresql/prepare.sh: pip download of psycopg failed" >&2; exit 1; }
  mv "$wheels.part" "$wheels"
fi
cp -a "$wheels" "$ctx/wheels"

mkdir -p "$ctx/app/labrunner/services"
cp "$src/__init__.py" "$src/errors.py" "$src/unprivileged.py" "$ctx/app/labrunner/"
cp "$src/services/__init__.py" "$src/services/base.py" "$src/services/postgres.py" "$src"/services/aurora_*.py \
  "$ctx/app/labrunner/services/"
