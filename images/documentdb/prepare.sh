#!/usr/bin/env bash
# Host side of the DocumentDB stand-in (run by images/build.sh with IMAGE and CACHE set):
# SecantusDB's wheels into the build context ($1/wheels), and a look that the version the local
# runtime is pinned to is the one this image carries.
set -euo pipefail
PREPARE="documentdb/prepare.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../_wheels.sh"
version="${IMAGE##*:secantus-}"                 # labrunner-local/documentdb:secantus-0.7.0b3 -> 0.7.0b3
EXTRA_PIP=(--abi none --platform any)
bookworm_wheels "$1" "documentdb-secantus-$version" "SecantusDB==$version"
server="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/src/labrunner/services/mongo_server.py"
grep -q "^SECANTUS_VERSION = \"$version\"" "$server" \
  || { echo "$PREPARE: $server pins another SecantusDB than $version" >&2; exit 1; }
