#!/usr/bin/env bash
# Host side of the Gremlin Server stand-in (run by images/build.sh with IMAGE and CACHE set):
# the pinned jars into $1/lib, and labrunner's configuration for a server in a container into
# $1/conf. The jars come from labrunner's engine cache (fetched once from the Maven registry
# LABRUNNER_MAVEN_REGISTRY or ~/.m2/settings.xml names); where neither names one, from Maven
# itself (`mvn dependency:copy`, its own repository settings). Either way each jar is checked
# against its sha256 in services/gremlin_server.py. Needs the repository's .venv.
set -euo pipefail
ctx="$1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="$root/.venv/bin/python"
[ -x "$python" ] || { echo "neptune_gremlin/prepare.sh: no $python; create the venv first" >&2; exit 1; }
gs() { PYTHONPATH="$root/src" "$python" -m labrunner.services.gremlin_server "$@"; }
version="${IMAGE##*:}"
pinned="$(PYTHONPATH="$root/src" "$python" -c 'from labrunner.services.gremlin_server import VERSION; print(VERSION)')"
[ "$pinned" = "$version" ] || {
  echo "neptune_gremlin/prepare.sh: tag $version does not match the pinned Gremlin Server $pinned" >&2; exit 1; }
if ! gs jars "$ctx/lib" 2>"$CACHE/neptune-gremlin-fetch.log"; then
  command -v mvn >/dev/null || {
    echo "neptune_gremlin/prepare.sh: could not fetch the jars ($(tail -1 "$CACHE/neptune-gremlin-fetch.log"));" \
         "set LABRUNNER_MAVEN_REGISTRY, or install Maven" >&2; exit 1; }
  rm -rf "$ctx/lib" && mkdir -p "$ctx/lib"
  pom="$CACHE/neptune-gremlin-pom/pom.xml"            # the pinned jars as direct dependencies, one mvn run
  mkdir -p "$(dirname "$pom")"
  {
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
    echo '<groupId>labrunner</groupId><artifactId>neptune-gremlin-jars</artifactId><version>1</version><dependencies>'
    gs coordinates | while IFS=: read -r group artifact v; do
      echo "<dependency><groupId>$group</groupId><artifactId>$artifact</artifactId><version>$v</version></dependency>"
    done
    echo '</dependencies></project>'
  } >"$pom"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DexcludeTransitive=true -DoutputDirectory="$ctx/lib" \
    >"$CACHE/neptune-gremlin-mvn.log" 2>&1 \
    || { echo "neptune_gremlin/prepare.sh: mvn could not copy the jars; see $CACHE/neptune-gremlin-mvn.log" >&2; exit 1; }
fi
gs verify "$ctx/lib" || { echo "neptune_gremlin/prepare.sh: the jars are not the pinned ones" >&2; exit 1; }
gs config "$ctx/conf" /opt/gremlin-server/data
