#!/usr/bin/env bash
# Host side of the ElastiCache cluster-mode stand-in (run by images/build.sh with IMAGE and CACHE
# set): Valkey's programs as the valkey stand-in gets them ($1/valkey, by its prepare.sh), redis-py's
# wheels for the supervisor ($1/wheels), and the supervisor's own modules from this repository
# ($1/app/labrunner: only what `python -m labrunner.services.valkey_cluster` imports).
set -euo pipefail
ctx="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/../../src/labrunner"
IMAGE="labrunner-local/valkey:${IMAGE##*:}" "$here/../valkey/prepare.sh" "$ctx"

wheels="$CACHE/wheels/valkey-cluster-redis-py"
if [ ! -f "$wheels/requirements.txt" ]; then
  rm -rf "$wheels" "$wheels.part" && mkdir -p "$wheels.part"
  printf '%s\n' "redis==8.1.0" "async-timeout>=4" >"$wheels.part/requirements.txt"
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$wheels.part" -r "$wheels.part/requirements.txt" \
    || { echo "valkey_cluster/prepare.sh: pip download of redis-py failed" >&2; exit 1; }
  mv "$wheels.part" "$wheels"
fi
cp -a "$wheels" "$ctx/wheels"

mkdir -p "$ctx/app/labrunner/services"
cp "$src/__init__.py" "$src/errors.py" "$ctx/app/labrunner/"
cp "$src/services/base.py" "$src/services/valkey_family.py" "$src/services/valkey_cluster.py" \
  "$src/services/valkey_forward.py" "$ctx/app/labrunner/services/"
: >"$ctx/app/labrunner/services/__init__.py"      # the registry is not needed inside
