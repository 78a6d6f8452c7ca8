"""The MySQL and MariaDB stand-ins (RDS for MySQL / MariaDB): service definitions, a private
local server run unprivileged, the MariaDB-for-MySQL notice, `labrunner shell` and `tool`."""

import os
import subprocess

import pytest

from labrunner import sessions
from labrunner.services import mariadb, mysql, mysql_family
from labrunner.services.base import Endpoint

CASES = [("mysql", "rds-mysql-basics"), ("mariadb", "rds-mariadb-basics")]


def test_service_definitions_follow_the_official_images():
    assert mysql.SERVICE.image == "mysql:8.4.11" and mariadb.SERVICE.image == "mariadb:11.8.8"
    endpoint = Endpoint("mysql", "127.0.0.1", 1, "mysql", "admin", "pw", "appdb")
    assert mysql.SERVICE.docker_environment(endpoint) == {"MYSQL_ROOT_PASSWORD": "pw", "MYSQL_DATABASE": "appdb",
                                                          "MYSQL_INITDB_SKIP_TZINFO": "1"}
    assert mariadb.SERVICE.docker_environment(endpoint)["MARIADB_ROOT_PASSWORD"] == "pw"
    assert "--local-infile=1" in mysql.SERVICE.command       # off by default in mysql:8.4
    for service in (mysql.SERVICE, mariadb.SERVICE):
        assert service.username == "admin" and service.needs_password and service.container_port == 3306
        assert {"db", "db_connect"} <= set(service.fixtures) and service.initialize is mysql_family.initialize


def test_clients_get_the_user_and_tcp():
    endpoint = Endpoint("mysql", "127.0.0.1", 1, "mysql", "admin", "pw", "appdb")
    assert mysql_family.client_args("mysqldump", endpoint) == ["-u", "admin", "--protocol=TCP"]
    assert "--local-infile=1" in mysql_family.client_args("mysql", endpoint)
    assert mysql_family.exports(endpoint)["MYSQL_PWD"] == "pw"


def test_local_server_binds_loopback_and_uses_its_own_folders():
    argv = mysql_family.PrivateServer(want_mysql=False).argv(3333, "/data")
    assert "--bind-address=127.0.0.1" in argv and "--port=3333" in argv and "--skip-name-resolve" in argv
    assert "--tmpdir=/data/tmp" in argv and "--local-infile=1" in argv


@pytest.mark.parametrize("service, lab", CASES)
def test_local_session_is_rds_like_and_unprivileged(cli, service, lab):
    import psutil

    result = cli("run", lab, "--runtime", "local", "--no-input")
    try:
        assert result.code == 0, result
        state = sessions.find(lab).services[service]
        assert f"user admin password {state['password']}" in result.out
        if service == "mysql":
            assert "MariaDB standing in for MySQL" in result.out      # said plainly
        process = psutil.Process(state["pid"])
        listening = {(c.laddr.ip, c.laddr.port) for c in process.net_connections("inet")
                     if c.status == psutil.CONN_LISTEN}
        assert listening == {("127.0.0.1", state["port"])}
        if os.geteuid() == 0:
            assert process.username() != "root"
        done = subprocess.run([os.path.join(os.path.dirname(os.sys.executable), "labrunner"), "shell", service],
                              input="SELECT 6 * 7 AS answer;\n", capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "42" in done.stdout, done.stderr
    finally:
        cli("down", "--all", "--wipe")


@pytest.mark.local
def test_reset_drops_databases_a_foreign_key_crosses(cli):
    """A learner's draft may point a foreign key from another database into shop; `reset` (and a
    proof's restart) must still drop both, whichever is dropped first."""
    lab = "rds-mariadb-basics"
    assert cli("run", lab, "--runtime", "local", "--no-input").code == 0
    try:
        endpoint = sessions.find(lab).endpoint("mariadb")
        with mysql_family.connect(endpoint) as conn, conn.cursor() as cur:
            cur.execute("CREATE DATABASE IF NOT EXISTS shop")
            cur.execute("CREATE TABLE shop.customers (id INT PRIMARY KEY) ENGINE=InnoDB")
            cur.execute("CREATE DATABASE zz_archive")    # sorts after shop: shop is dropped first
            cur.execute("CREATE TABLE zz_archive.orders (id INT PRIMARY KEY, customer_id INT, "
                        "FOREIGN KEY (customer_id) REFERENCES shop.customers (id)) ENGINE=InnoDB")
        mariadb.SERVICE.reset(endpoint)
        with mysql_family.connect(endpoint) as conn, conn.cursor() as cur:
            cur.execute("SHOW DATABASES")
            left = {name for (name,) in cur.fetchall()}
        assert not {"shop", "zz_archive"} & left, left
    finally:
        cli("down", "--all", "--wipe")
