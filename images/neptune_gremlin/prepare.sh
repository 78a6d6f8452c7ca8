#!/usr/bin/env bash
# Host side of the Gremlin Server stand-in (run by images/build.sh with IMAGE and CACHE set):
# the pinned jars from labrunner's engine cache (fetched from the Maven registry once, checked
# against their sha256 in services/gremlin_server.py) into $1/lib, and labrunner's configuration
# for a server in a container into $1/conf. Needs the repository's .venv and, the first time,
# LABRUNNER_MAVEN_REGISTRY (or a Maven mirror in ~/.m2/settings.xml).
set -euo pipefail
ctx="$1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="$root/.venv/bin/python"
[ -x "$python" ] || { echo "neptune_gremlin/prepare.sh: no $python; create the venv first" >&2; exit 1; }
version="${IMAGE##*:}"
pinned="$(PYTHONPATH="$root/src" "$python" -c 'from labrunner.services.gremlin_server import VERSION; print(VERSION)')"
[ "$pinned" = "$version" ] || {
  echo "neptune_gremlin/prepare.sh: tag $version does not match the pinned Gremlin Server $pinned" >&2; exit 1; }
PYTHONPATH="$root/src" "$python" -m labrunner.services.gremlin_server jars "$ctx/lib"
PYTHONPATH="$root/src" "$python" -m labrunner.services.gremlin_server config "$ctx/conf" /opt/gremlin-server/data
