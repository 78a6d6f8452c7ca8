#!/usr/bin/env bash
# Host side of the Aurora MySQL stand-in (run by images/build.sh with the build context as $1):
# the supervisor's own modules from this repository ($1/app/labrunner: only what `python -m
# labrunner.services.aurora_mysql_cluster` imports). The engine comes from apt in the Dockerfile.
set -euo pipefail
ctx="$1"
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../src/labrunner" && pwd)"
mkdir -p "$ctx/app/labrunner/services"
cp "$src/__init__.py" "$src/errors.py" "$src/unprivileged.py" "$ctx/app/labrunner/"
cp "$src/services/__init__.py" "$src/services/base.py" "$src/services/postgres.py" \
  "$src"/services/aurora_*.py "$ctx/app/labrunner/services/"
