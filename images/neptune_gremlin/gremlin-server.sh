#!/bin/sh
# Run Gremlin Server on one configuration file, in the foreground.
set -e
home=/opt/gremlin-server
cd "$home"
# shellcheck disable=SC2086  # JAVA_OPTIONS holds several options
exec java -Dlogback.configurationFile="$home/conf/logback.xml" $JAVA_OPTIONS \
  -cp "$home/conf/:$home/lib/*" org.apache.tinkerpop.gremlin.server.GremlinServer "$1"
