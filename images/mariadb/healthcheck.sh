#!/usr/bin/env bash
# healthcheck.sh of the MariaDB stand-in: the checks of the official mariadb image's script
# that carry over cheaply. Exits 0 when every check given passes, 1 otherwise.
#   --connect                    a connection works and the server listens on TCP (not the
#                                entrypoint's --skip-networking init server)
#   --innodb_initialized         InnoDB is up
#   --innodb_buffer_pool_loaded  the buffer pool load at startup has finished
#   --replication                replica IO and SQL threads run (needs
#                                MARIADB_HEALTHCHECK_GRANTS='REPLICA MONITOR' at the first start)
#   --su-mysql, --su=USER        run as that user;  --datadir=DIR  where .my-healthcheck.cnf is
#   --no-defaults, --defaults-file=F, --defaults-extra-file=F, --defaults-group-suffix=S
#                                passed to the client (default: DATADIR/.my-healthcheck.cnf,
#                                the healthcheck user the entrypoint made)
# e.g. HEALTHCHECK CMD healthcheck.sh --connect --innodb_initialized
set -eo pipefail

datadir=/var/lib/mysql su_user='' defaults=() checks=() pass=()
for arg; do
  case "$arg" in
    --su-mysql) su_user=mysql; continue ;;
    --su=*) su_user="${arg#--su=}"; continue ;;
    --datadir=*) datadir="${arg#--datadir=}" ;;
    --no-defaults|--defaults-file=*|--defaults-extra-file=*|--defaults-group-suffix=*) defaults+=("$arg") ;;
    --connect|--innodb_initialized|--innodb_buffer_pool_loaded|--replication) checks+=("${arg#--}") ;;
    *) echo "healthcheck.sh: unknown option $arg" >&2; exit 1 ;;
  esac
  pass+=("$arg")
done
if [ -n "$su_user" ] && [ "$(id -un)" != "$su_user" ]; then
  exec setpriv --reuid="$su_user" --regid="$su_user" --init-groups "${BASH_SOURCE[0]}" "${pass[@]}"
fi
if [ "${#defaults[@]}" -eq 0 ] && [ -r "$datadir/.my-healthcheck.cnf" ]; then
  defaults=(--defaults-extra-file="$datadir/.my-healthcheck.cnf")
fi
query() { mariadb "${defaults[@]}" --batch --skip-column-names -e "$1"; }

for check in "${checks[@]}"; do
  case "$check" in
    connect)
      [ "$(query 'SELECT @@skip_networking')" = 0 ] ;;
    innodb_initialized)
      [ "$(query "SELECT 1 FROM information_schema.ENGINES WHERE engine = 'InnoDB' AND support IN ('YES', 'DEFAULT', 'ENABLED')")" = 1 ] ;;
    innodb_buffer_pool_loaded)
      [[ "$(query "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'Innodb_buffer_pool_load_status'")" == *'load completed'* ]] ;;
    replication)
      status="$(mariadb "${defaults[@]}" --batch -e 'SHOW REPLICA STATUS\G')"   # with the names
      grep -q 'Slave_IO_Running: Yes' <<<"$status" && grep -q 'Slave_SQL_Running: Yes' <<<"$status" ;;
  esac || { echo "healthcheck.sh: $check failed" >&2; exit 1; }
done
