#!/usr/bin/env bash
# Entrypoint of the MariaDB stand-in and of the MySQL stand-in (one script: images/mysql/
# prepare.sh copies it), after the official images' docker-entrypoint.sh. The server is
# MariaDB 10.11 in both; LABRUNNER_STANDIN_FOR (set in the image) picks the variable names:
#   mariadb: MARIADB_ROOT_PASSWORD (required unless MARIADB_ALLOW_EMPTY_ROOT_PASSWORD or
#            MARIADB_RANDOM_ROOT_PASSWORD), MARIADB_ROOT_HOST (default %), MARIADB_DATABASE,
#            MARIADB_USER + MARIADB_PASSWORD (ALL on that database), MARIADB_INITDB_SKIP_TZINFO,
#            MARIADB_HEALTHCHECK_GRANTS, MARIADB_REPLICATION_USER + _PASSWORD (a source), with
#            MARIADB_MASTER_HOST (+ MARIADB_MASTER_PORT) a replica; each also under its MYSQL_*
#            name (MYSQL_ROOT_PASSWORD, MYSQL_ALLOW_EMPTY_PASSWORD, ...), as the official image.
#   mysql:   MYSQL_ROOT_PASSWORD (required unless MYSQL_ALLOW_EMPTY_PASSWORD or
#            MYSQL_RANDOM_ROOT_PASSWORD), MYSQL_ONETIME_PASSWORD, MYSQL_ROOT_HOST, MYSQL_DATABASE,
#            MYSQL_USER + MYSQL_PASSWORD, MYSQL_INITDB_SKIP_TZINFO.
# Each also as NAME_FILE (Docker secrets). /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz|
# *.sql.xz|*.sql.zst run on the first start, on the new database, as root.
# The first start runs mariadb-install-db and a temporary server with --skip-networking, so a
# client that connects over TCP only ever meets the finished database; then `exec` the real
# server as the mysql user: it is PID 1 and gets `docker stop`'s SIGTERM itself.
# `docker run IMAGE --log-bin --server-id=2` and `docker run IMAGE mariadbd|mysqld ...` pass
# the options to both servers; any other command (mariadb, bash, ...) is run as it is.
set -Eeo pipefail

FLAVOR="${LABRUNNER_STANDIN_FOR:-mariadb}"
if [ "$FLAVOR" = mysql ]; then SERVER_NAME=MySQL; DEFAULT_CMD=mysqld
else SERVER_NAME=MariaDB; DEFAULT_CMD=mariadbd; fi

log()  { printf '%s [Note] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$*"; }
warn() { printf '%s [Warn] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$*" >&2; }
die()  { printf '%s [ERROR] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$*" >&2; exit 1; }

if [ "$#" -eq 0 ] || [ "${1:0:1}" = '-' ]; then
  set -- "$DEFAULT_CMD" "$@"
fi
case "$1" in
  mariadbd|mysqld|*/mariadbd|*/mysqld) ;;
  *) exec "$@" ;;
esac
if [ "$FLAVOR" = mysql ]; then
  # A command line written for mysql:8.4 should start: MySQL-only server options that MariaDB
  # would refuse are dropped (GTIDs are always on in MariaDB, logins use mysql_native_password,
  # there is no X Protocol), and MySQL's utf8mb4_0900_* collations become the uca1400 NO PAD
  # ones that MariaDB 11.4.5+ makes those names aliases of.
  args=("$1")
  for arg in "${@:2}"; do
    case "$arg" in
      --gtid[-_]mode=*|--enforce[-_]gtid[-_]consistency|--enforce[-_]gtid[-_]consistency=*|\
      --mysql[-_]native[-_]password|--mysql[-_]native[-_]password=*|\
      --default[-_]authentication[-_]plugin=*|--authentication[-_]policy=*|--skip[-_]mysqlx|--mysqlx|--mysqlx=*)
        warn "MySQL-only option $arg dropped (this server is MariaDB)" ;;
      --collation[-_]server=utf8mb4_0900_*)
        arg="${arg/utf8mb4_0900_/utf8mb4_uca1400_nopad_}"
        [ "$arg" != "${arg%_bin}" ] && arg="${arg%=*}=utf8mb4_bin"
        warn "MySQL collation replaced: $arg (this server is MariaDB)"; args+=("$arg") ;;
      *) args+=("$arg") ;;
    esac
  done
  set -- "${args[@]}"
fi
for arg in "${@:2}"; do   # options that print something and exit: no database for those
  case "$arg" in -'?'|--help|--print-defaults|-V|--version) exec "$@" ;; esac
done

# datadir and socket as the server sees them, with the command's options (--datadir=...).
config="$("$@" --verbose --help 2>/dev/null)" \
  || die "$SERVER_NAME cannot read its configuration: $("$@" --verbose --help 2>&1 >/dev/null | tail -5)"
config_value() { awk -v key="$1" '$1 == key && /^[^ \t]/ { sub(/^[^ \t]+[ \t]+/, ""); print; exit }' <<<"$config"; }
DATADIR="$(config_value datadir)"; DATADIR="${DATADIR%/}"
SOCKET="$(config_value socket)"

if [ "$(id -u)" = 0 ]; then
  # As root: make the directories the mysql user's, then run this script again as it.
  mkdir -p "$DATADIR" "$(dirname "$SOCKET")"
  find "$DATADIR" \! -user mysql -exec chown mysql:mysql '{}' +
  chown mysql:mysql "$(dirname "$SOCKET")"
  exec setpriv --reuid=mysql --regid=mysql --init-groups \
    env HOME=/var/lib/mysql "${BASH_SOURCE[0]}" "$@"
fi

if [ -d "$DATADIR/mysql" ]; then
  log "$SERVER_NAME data directory $DATADIR appears to contain a database; skipping initialization"
  exec "$@"
fi

# --- First start -------------------------------------------------------------------------

# pick VAR DEFAULT NAME...: VAR gets the first NAME (or NAME_FILE, a file's content) that is
# set, else DEFAULT, and so does the first NAME, exported (init scripts read it under the
# image's own name when an alias was given). NAME and NAME_FILE together are an error. The
# NAME_FILE are unset.
pick() {
  local var="$1" def="$2" name file found='' val=''
  shift 2
  for name; do
    file="${name}_FILE"
    if [ -n "${!name:-}" ] && [ -n "${!file:-}" ]; then die "both $name and $file are set (but are exclusive)"; fi
    if [ -z "$found" ]; then
      if [ -n "${!name:-}" ]; then val="${!name}"; found=1
      elif [ -n "${!file:-}" ]; then val="$(<"${!file}")"; found=1; fi
    fi
    unset "$file"
  done
  [ -n "$found" ] || val="$def"
  printf -v "$var" '%s' "$val"
  export "$1"="$val"
}

if [ "$FLAVOR" = mysql ]; then
  P=MYSQL
  pick root_password   ''   MYSQL_ROOT_PASSWORD
  pick allow_empty     ''   MYSQL_ALLOW_EMPTY_PASSWORD
  pick random_root     ''   MYSQL_RANDOM_ROOT_PASSWORD
  pick onetime         ''   MYSQL_ONETIME_PASSWORD
  pick root_host       '%'  MYSQL_ROOT_HOST
  pick database        ''   MYSQL_DATABASE
  pick user            ''   MYSQL_USER
  pick password        ''   MYSQL_PASSWORD
  pick skip_tzinfo     ''   MYSQL_INITDB_SKIP_TZINFO
  allow_empty_name=MYSQL_ALLOW_EMPTY_PASSWORD
  healthcheck_grants='' repl_user='' repl_password='' master_host='' master_port=3306
else
  P=MARIADB
  pick root_password   ''   MARIADB_ROOT_PASSWORD MYSQL_ROOT_PASSWORD
  pick allow_empty     ''   MARIADB_ALLOW_EMPTY_ROOT_PASSWORD MYSQL_ALLOW_EMPTY_PASSWORD
  pick random_root     ''   MARIADB_RANDOM_ROOT_PASSWORD MYSQL_RANDOM_ROOT_PASSWORD
  pick root_host       '%'  MARIADB_ROOT_HOST MYSQL_ROOT_HOST
  pick database        ''   MARIADB_DATABASE MYSQL_DATABASE
  pick user            ''   MARIADB_USER MYSQL_USER
  pick password        ''   MARIADB_PASSWORD MYSQL_PASSWORD
  pick skip_tzinfo     ''   MARIADB_INITDB_SKIP_TZINFO MYSQL_INITDB_SKIP_TZINFO
  pick healthcheck_grants USAGE MARIADB_HEALTHCHECK_GRANTS
  pick repl_user       ''   MARIADB_REPLICATION_USER
  pick repl_password   ''   MARIADB_REPLICATION_PASSWORD
  pick master_host     ''   MARIADB_MASTER_HOST
  pick master_port     3306 MARIADB_MASTER_PORT
  allow_empty_name=MARIADB_ALLOW_EMPTY_ROOT_PASSWORD
  onetime=''
fi

if [ -z "$root_password" ] && [ -z "$allow_empty" ] && [ -z "$random_root" ]; then
  die "Database is uninitialized and password option is not specified
	You need to specify one of ${P}_ROOT_PASSWORD, $allow_empty_name and ${P}_RANDOM_ROOT_PASSWORD"
fi
if [ "$user" = root ]; then
  die "${P}_USER=\"root\", ${P}_USER and ${P}_PASSWORD are for configuring a regular user and cannot be used for the root user
	Remove ${P}_USER=\"root\" and use ${P}_ROOT_PASSWORD, $allow_empty_name or ${P}_RANDOM_ROOT_PASSWORD for the root user"
fi
if [ -n "$user" ] && [ -z "$password" ]; then
  die "${P}_USER is set but ${P}_PASSWORD is not: set both, or neither"
fi
if [ -n "$repl_user" ] && [ -z "$repl_password" ]; then
  die "MARIADB_REPLICATION_USER is set but MARIADB_REPLICATION_PASSWORD is not"
fi
[[ "$master_port" =~ ^[0-9]+$ ]] || die "MARIADB_MASTER_PORT is not a port number: $master_port"

random_string() {   # 32 letters and digits (no pipeline: head would kill tr with SIGPIPE)
  local s
  s="$(LC_ALL=C tr -dc 'A-Za-z0-9' < <(head -c 1024 /dev/urandom))"
  printf '%s' "${s:0:32}"
}
# A string for a '...' SQL literal (backslash escapes are on: the session drops NO_BACKSLASH_ESCAPES).
lit() { local s="${1//\\/\\\\}"; s="${s//$'\n'/\\n}"; printf '%s' "${s//\'/\\\'}"; }
# An identifier for `...`.
ident() { printf '%s' "${1//\`/\`\`}"; }

if [ -n "$random_root" ] && [ -z "$root_password" ]; then
  root_password="$(random_string)"
  log "GENERATED ROOT PASSWORD: $root_password"
fi

# 1. The system tables, as the mysql user (the extra command options go to the bootstrap too).
log "Initializing database files"
unset MYSQL_PWD
install_out="$(mariadb-install-db --datadir="$DATADIR" --rpm --auth-root-authentication-method=normal \
  --skip-test-db "${@:2}" --default-time-zone=SYSTEM --enforce-storage-engine= --skip-log-bin \
  --expire-logs-days=0 --loose-innodb_buffer_pool_load_at_startup=0 \
  --loose-innodb_buffer_pool_dump_at_shutdown=0 2>&1)" || { printf '%s\n' "$install_out" >&2; die "mariadb-install-db failed"; }
log "Database files initialized"

# 2. A temporary server on the unix socket only, with the command's options too.
log "Starting temporary server"
"$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" --wsrep_on=OFF \
  --expire-logs-days=0 --skip-slave-start --loose-innodb_buffer_pool_load_at_startup=0 &
temp_pid=$!

sql() { mariadb --protocol=socket --socket="$SOCKET" -uroot -hlocalhost --batch "$@"; }
docker_process_sql() { sql "$@"; }   # the official images' name, for sourced init scripts

for _ in $(seq 300); do
  if sql --database=mysql <<<'SELECT 1' &>/dev/null; then break; fi
  kill -0 "$temp_pid" 2>/dev/null || die "the temporary server exited during startup (its log is above)"
  sleep 0.1
done
sql --database=mysql <<<'SELECT 1' >/dev/null || die "the temporary server did not answer within 30 s"
log "Temporary server started."

# 3. Time zones, then root, the health-check user, database, user and replication.
if [ -z "$skip_tzinfo" ]; then
  mariadb-tzinfo-to-sql --skip-write-binlog /usr/share/zoneinfo 2>/dev/null | sql --database=mysql
fi

setup="SET @@SESSION.SQL_LOG_BIN=0;
SET @@SESSION.SQL_MODE=REPLACE(@@SESSION.SQL_MODE, 'NO_BACKSLASH_ESCAPES', '');
DROP USER IF EXISTS root@'127.0.0.1', root@'::1';
EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\\'', @@hostname, '\\'');
ALTER USER 'root'@'localhost' IDENTIFIED BY '$(lit "$root_password")';"
# shellcheck disable=SC2154  # root_host is set by pick (printf -v)
if [ "$root_host" != localhost ]; then
  setup+="
CREATE USER 'root'@'$(lit "$root_host")' IDENTIFIED BY '$(lit "$root_password")';
GRANT ALL ON *.* TO 'root'@'$(lit "$root_host")' WITH GRANT OPTION;"
  [ "$FLAVOR" = mysql ] || setup+="
GRANT PROXY ON ''@'%' TO 'root'@'$(lit "$root_host")' WITH GRANT OPTION;"
fi
if [ "$FLAVOR" != mysql ]; then
  # As the official mariadb image: healthcheck.sh logs in as this user (USAGE by default).
  healthcheck_password="$(random_string)"
  for host in 127.0.0.1 ::1 localhost; do
    setup+="
CREATE USER 'healthcheck'@'$host' IDENTIFIED BY '$healthcheck_password';
GRANT $healthcheck_grants ON *.* TO 'healthcheck'@'$host';"
  done
fi
if [ -n "$database" ]; then
  log "Creating database $database"
  setup+="
CREATE DATABASE IF NOT EXISTS \`$(ident "$database")\`;"
fi
if [ -n "$user" ]; then
  log "Creating user $user"
  setup+="
CREATE USER '$(lit "$user")'@'%' IDENTIFIED BY '$(lit "$password")';"
  if [ -n "$database" ]; then
    log "Giving user $user access to schema $database"
    # _ and % are wildcards in a grant's database name: escape _ as the official images do.
    setup+="
GRANT ALL ON \`$(ident "${database//_/\\_}")\`.* TO '$(lit "$user")'@'%';"
  fi
fi
if [ -n "$repl_user" ] && [ -z "$master_host" ]; then
  log "Creating replication user $repl_user"
  setup+="
CREATE USER '$(lit "$repl_user")'@'%' IDENTIFIED BY '$(lit "$repl_password")';
GRANT REPLICATION REPLICA ON *.* TO '$(lit "$repl_user")'@'%';"
elif [ -n "$repl_user" ]; then
  log "Setting up replication from $master_host:$master_port"
  setup+="
CHANGE MASTER TO MASTER_HOST='$(lit "$master_host")', MASTER_PORT=$master_port, MASTER_USER='$(lit "$repl_user")', MASTER_PASSWORD='$(lit "$repl_password")', MASTER_CONNECT_RETRY=10;"
fi
sql --database=mysql <<<"$setup"
export MYSQL_PWD="$root_password"   # root's password from here on (also for init scripts)

if [ "$FLAVOR" != mysql ]; then
  (umask 077 && printf '[mariadb-client]\nport=3306\nsocket=%s\nuser=healthcheck\npassword=%s\n' \
    "$SOCKET" "$healthcheck_password" >"$DATADIR/.my-healthcheck.cnf")
fi

# 4. The init scripts, on the new database.
dbopt=(); [ -z "$database" ] || dbopt=(--database="$database")
# shellcheck disable=SC1090  # sourcing the init scripts is the point
for f in /docker-entrypoint-initdb.d/*; do
  [ -e "$f" ] || continue
  case "$f" in
    *.sh)
      if [ -x "$f" ]; then log "$0: running $f"; "$f"
      else log "$0: sourcing $f"; . "$f"; fi ;;
    *.sql)     log "$0: running $f"; sql "${dbopt[@]}" <"$f" ;;
    *.sql.gz)  log "$0: running $f"; gunzip -c "$f" | sql "${dbopt[@]}" ;;
    *.sql.xz)  log "$0: running $f"; xzcat "$f" | sql "${dbopt[@]}" ;;
    *.sql.zst) log "$0: running $f"; zstd -dc "$f" | sql "${dbopt[@]}" ;;
    *)         log "$0: ignoring $f" ;;
  esac
done

if [ -n "$onetime" ] && [ "$root_host" != localhost ]; then
  sql <<<"ALTER USER 'root'@'$(lit "$root_host")' PASSWORD EXPIRE;"
fi

log "Stopping temporary server"
kill "$temp_pid"
wait "$temp_pid" || die "the temporary server did not shut down cleanly"
unset MYSQL_PWD
log "Temporary server stopped"
log ''
log "$SERVER_NAME init process done. Ready for start up."
log ''

# 5. The real server, listening on every address, in the foreground as PID 1.
exec "$@"
