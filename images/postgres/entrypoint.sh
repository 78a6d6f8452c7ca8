#!/usr/bin/env bash
# Entrypoint of the PostgreSQL stand-in, after the official postgres image's behaviour:
#   POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_USER
#   (default postgres), POSTGRES_DB (default: the user), POSTGRES_INITDB_ARGS, the *_FILE
#   variants, and /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz on the first start.
# The first start runs initdb and a temporary server that listens on no TCP port, so a
# client that connects over TCP only ever meets the finished database. Then `exec` the real
# server as the postgres user: it is PID 1 and gets `docker stop`'s signal itself.
# `docker run IMAGE postgres -c key=value` and `docker run IMAGE -c key=value` pass the
# options to both servers; any other command (psql, bash, ...) is run as it is.
set -Eeo pipefail

log() { printf '%s\n' "$*"; }

# VAR or VAR_FILE (Docker secrets), not both; exported; VAR_FILE unset.
file_env() {
  local var="$1" file_var="${1}_FILE" def="${2:-}" val
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    echo >&2 "error: both $var and $file_var are set (but are exclusive)"; exit 1
  fi
  val="$def"
  if [ -n "${!var:-}" ]; then val="${!var}"; elif [ -n "${!file_var:-}" ]; then val="$(<"${!file_var}")"; fi
  export "$var"="$val"
  unset "$file_var"
}

# Options that make postgres print something and exit: no database setup for those.
wants_no_server() {
  local arg
  for arg; do
    case "$arg" in -'?'|--help|--describe-config|-V|--version|-C|-C*) return 0 ;; esac
  done
  return 1
}

if [ "$#" -eq 0 ] || [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi
if [ "$1" != postgres ] || wants_no_server "$@"; then
  exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
  # As root: make the directories the postgres user's, then run this script again as it
  # (initdb and postgres refuse to run as root). exec keeps PID 1.
  mkdir -p "$PGDATA" /var/run/postgresql
  find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
  chmod 0700 "$PGDATA"
  chown postgres:postgres /var/run/postgresql && chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups \
    env HOME=/var/lib/postgresql "${BASH_SOURCE[0]}" "$@"
fi

# Started with --user: do what this user may.
mkdir -p "$PGDATA"
chmod 0700 "$PGDATA" 2>/dev/null || :

if [ -s "$PGDATA/PG_VERSION" ]; then
  log ''
  log 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
  log ''
  exec "$@"
fi

file_env POSTGRES_PASSWORD
file_env POSTGRES_USER postgres
file_env POSTGRES_DB "$POSTGRES_USER"
file_env POSTGRES_INITDB_ARGS
: "${POSTGRES_HOST_AUTH_METHOD:=}"

if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
  cat >&2 <<'EOE'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.
EOE
  exit 1
fi

# 1. initdb. The password goes in through a pipe (initdb rejects an empty file: hence the
#    newline). Its pg_hba.conf trusts the unix socket and loopback, as in the official image.
# shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of options, split on purpose
initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
  $POSTGRES_INITDB_ARGS

# 2. Every other host connects with a password (scram-sha-256, the server's password_encryption).
shift  # the `postgres` of the command: what is left are its options
if [ -z "$POSTGRES_HOST_AUTH_METHOD" ]; then
  POSTGRES_HOST_AUTH_METHOD="$(postgres -C password_encryption "$@")"
fi
{
  printf '\n'
  [ "$POSTGRES_HOST_AUTH_METHOD" != trust ] || printf '# warning trust is enabled for all connections\n'
  printf 'host all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD"
} >>"$PGDATA/pg_hba.conf"

# 3. A temporary server on the unix socket only, with the command's options too.
# (PGPASSWORD for init scripts, or for POSTGRES_INITDB_ARGS=--auth-local=scram-sha-256.)
export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
pg_ctl -D "$PGDATA" -w start \
  -o "$(printf '%q ' "$@" -c listen_addresses= -p "${PGPORT:-5432}")"

psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
if [ "$POSTGRES_DB" != postgres ]; then
  exists="$("${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<'EOSQL'
SELECT 1 FROM pg_database WHERE datname = :'db';
EOSQL
)"
  if [ -z "${exists//[[:space:]]/}" ]; then
    "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<'EOSQL'
CREATE DATABASE :"db";
EOSQL
  fi
fi

# 4. The init scripts, on the new database.
psql+=(--dbname "$POSTGRES_DB")
# shellcheck disable=SC1090  # sourcing the init scripts is the point
for f in /docker-entrypoint-initdb.d/*; do
  [ -e "$f" ] || continue
  case "$f" in
    *.sh)
      if [ -x "$f" ]; then log "$0: running $f"; "$f"
      else log "$0: sourcing $f"; . "$f"; fi ;;
    *.sql)    log "$0: running $f"; "${psql[@]}" -f "$f"; log '' ;;
    *.sql.gz) log "$0: running $f"; gunzip -c "$f" | "${psql[@]}"; log '' ;;
    *)        log "$0: ignoring $f" ;;
  esac
done

pg_ctl -D "$PGDATA" -m fast -w stop
unset PGPASSWORD
log ''
log 'PostgreSQL init process complete; ready for start up.'
log ''

# 5. The real server, listening on every address, in the foreground as PID 1.
exec postgres "$@"
