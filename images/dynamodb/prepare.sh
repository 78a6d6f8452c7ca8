#!/usr/bin/env bash
# Host side of the DynamoDB stand-in (run by images/build.sh with IMAGE and CACHE set):
# download moto's wheels on the host, for bookworm's python3 (CPython 3.11, glibc 2.36,
# this machine's arch), cache them, and copy them into the build context ($1/wheels).
set -euo pipefail
ctx="$1"
moto_version="${IMAGE##*:moto-}"                 # labrunner-local/dynamodb:moto-5.2.5 -> 5.2.5
wheels="$CACHE/wheels/dynamodb-moto-$moto_version"

# Older pips do not widen --platform manylinux_2_36 to older glibc tags: list them all.
platforms=()
for v in $(seq 36 -1 17); do platforms+=(--platform "manylinux_2_${v}_$(uname -m)"); done
platforms+=(--platform "manylinux2014_$(uname -m)" --platform "manylinux1_$(uname -m)")

if [ ! -f "$wheels/requirements.txt" ]; then
  rm -rf "$wheels" "$wheels.part" && mkdir -p "$wheels.part"
  # moto's server needs flask + flask-cors; the full moto[server] extra pulls every service's deps.
  printf '%s\n' "moto[dynamodb]==$moto_version" flask flask-cors >"$wheels.part/requirements.txt"
  python3 -m pip download -q -d "$wheels.part" -r "$wheels.part/requirements.txt" \
    --only-binary=:all: --implementation cp --python-version 3.11 --abi cp311 --abi abi3 \
    "${platforms[@]}" \
    || { echo "dynamodb/prepare.sh: pip download of moto $moto_version wheels failed" >&2; exit 1; }
  mv "$wheels.part" "$wheels"
fi
cp -a "$wheels" "$ctx/wheels"
# labrunner's moto launcher (PartiQL as DynamoDB runs it, errors as JSON, never an HTML 500 page):
# the same file the local runtime runs; it imports nothing from labrunner.
launcher="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/src/labrunner/services/moto_dynamodb.py"
[ -f "$launcher" ] || { echo "dynamodb/prepare.sh: $launcher is missing" >&2; exit 1; }
grep -q "^MOTO_VERSION = \"$moto_version\"" "$launcher" \
  || { echo "dynamodb/prepare.sh: $launcher is written for another moto than $moto_version" >&2; exit 1; }
cp "$launcher" "$ctx/moto_dynamodb.py"
