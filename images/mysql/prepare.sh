#!/usr/bin/env bash
# Host side of the MySQL stand-in (run by images/build.sh with the build context as $1):
# MariaDB stands in for MySQL, so the context gets the MariaDB stand-in's install step, server
# settings and entrypoint (one copy of each in the repo; the entrypoint switches to the MYSQL_*
# variable names on LABRUNNER_STANDIN_FOR=mysql, set in the Dockerfile).
set -euo pipefail
ctx="$1"
mariadb="$(cd "$(dirname "${BASH_SOURCE[0]}")/../mariadb" && pwd)"
cp -a "$mariadb/install.sh" "$mariadb/standin.cnf" "$mariadb/entrypoint.sh" "$ctx/"
