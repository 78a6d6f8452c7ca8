#!/bin/sh
# Start Gremlin Server in the foreground on the configuration named by $1 (as the official image
# does); java replaces this shell, so `docker stop` reaches it and the graph is written to disk.
set -e
exec /opt/gremlin-server/bin/gremlin-server.sh "${1:-conf/gremlin-server.yaml}"
