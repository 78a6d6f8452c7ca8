#!/usr/bin/env bash
# Build step shared by the MariaDB and MySQL stand-ins (images/mysql/prepare.sh copies this
# file): Debian bookworm's MariaDB 10.11 from apt (the base image carries the host's apt
# sources and CA bundle). Identical in both builds, so Docker's layer cache runs it once.
set -euo pipefail

# The mysql user and group first, with uid/gid 999 like the official images (the package
# keeps an existing mysql user), so bind-mounted data directories carry the same owner.
groupadd --system --gid 999 mysql
useradd --system --uid 999 --gid mysql --home-dir /var/lib/mysql --no-create-home \
  --shell /usr/sbin/nologin mysql

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The postinst cannot start a service here (no init system): it says so and goes on.
apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >/dev/null
apt-get clean
rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log

# The postinst ran mariadb-install-db into /var/lib/mysql (110 MB) and wrote Debian's
# maintenance login: the entrypoint makes the data directory on the first start instead.
rm -rf /var/lib/mysql /etc/mysql/debian.cnf
install -d -o mysql -g mysql -m 0755 /var/lib/mysql
install -d -o mysql -g mysql -m 1777 /run/mysqld        # socket and pid file; 1777 for --user
install -d -m 0755 /docker-entrypoint-initdb.d
# After Debian's 50-server.cnf (bind-address = 127.0.0.1), so these settings win.
install -m 0644 "$(dirname "${BASH_SOURCE[0]}")/standin.cnf" /etc/mysql/mariadb.conf.d/90-labrunner-standin.cnf

mariadbd --version
mariadb --version
