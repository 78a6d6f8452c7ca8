#!/usr/bin/env bash
# Host side of the DocumentDB stand-in (run by images/build.sh with IMAGE and CACHE set):
# download SecantusDB's wheels on the host, for bookworm's python3 (CPython 3.11, glibc 2.36,
# this machine's arch), cache them, and copy them into the build context ($1/wheels).
set -euo pipefail
ctx="$1"
version="${IMAGE##*:secantus-}"                 # labrunner-local/documentdb:secantus-0.7.0b3 -> 0.7.0b3
wheels="$CACHE/wheels/documentdb-secantus-$version"

# Older pips do not widen --platform manylinux_2_36 to older glibc tags: list them all.
platforms=()
for v in $(seq 36 -1 17); do platforms+=(--platform "manylinux_2_${v}_$(uname -m)"); done
platforms+=(--platform "manylinux2014_$(uname -m)" --platform "manylinux1_$(uname -m)")

if [ ! -f "$wheels/requirements.txt" ]; then
  rm -rf "$wheels" "$wheels.part" && mkdir -p "$wheels.part"
  printf '%s\n' "SecantusDB==$version" >"$wheels.part/requirements.txt"
  python3 -m pip download -q -d "$wheels.part" -r "$wheels.part/requirements.txt" \
    --only-binary=:all: --implementation cp --python-version 3.11 --abi cp311 --abi abi3 --abi none \
    "${platforms[@]}" --platform any \
    || { echo "documentdb/prepare.sh: pip download of SecantusDB $version wheels failed" >&2; exit 1; }
  mv "$wheels.part" "$wheels"
fi
cp -a "$wheels" "$ctx/wheels"
# the version labrunner's local runtime is pinned to must be the one this image carries
server="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/src/labrunner/services/mongo_server.py"
grep -q "^SECANTUS_VERSION = \"$version\"" "$server" \
  || { echo "documentdb/prepare.sh: $server pins another SecantusDB than $version" >&2; exit 1; }
