#!/usr/bin/env bash
# Start SecantusDB as the mongo image starts mongod: with MONGO_INITDB_ROOT_USERNAME and
# MONGO_INITDB_ROOT_PASSWORD set, the first start creates that root user (in admin) on a server
# listening inside the container only, then the real server requires authentication.
set -euo pipefail
data=/data/db
server=(/opt/secantus/bin/secantusd-py --config /opt/secantus/secantusd.toml --storage-path "$data/wt"
        --standalone --sync-on-commit --cache-size "${SECANTUS_CACHE_SIZE:-256M}" --log-level "${SECANTUS_LOG_LEVEL:-WARNING}")

user="${MONGO_INITDB_ROOT_USERNAME:-}" password="${MONGO_INITDB_ROOT_PASSWORD:-}"
if { [ -n "$user" ] && [ -z "$password" ]; } || { [ -z "$user" ] && [ -n "$password" ]; }; then
  echo "documentdb-standin: set both MONGO_INITDB_ROOT_USERNAME and MONGO_INITDB_ROOT_PASSWORD, or neither" >&2
  exit 1
fi
if [ -n "$user" ]; then
  if [ ! -f "$data/.root-user-created" ]; then
    echo "documentdb-standin: creating the root user $user" >&2
    "${server[@]}" --host 127.0.0.1 --port 27017 &
    pid=$!
    /opt/secantus/bin/python /opt/secantus/init_user.py 27017 "$pid" || { kill "$pid"; exit 1; }
    kill -TERM "$pid" && wait "$pid" || true
    touch "$data/.root-user-created"
  fi
  exec "${server[@]}" --host 0.0.0.0 --port 27017 --auth
fi
exec "${server[@]}" --host 0.0.0.0 --port 27017
