"""What the MySQL and MariaDB stand-ins share: the same protocol, client (PyMySQL), master
user set-up, reset and local recipe (mariadbd or mysqld as a private instance)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from labrunner.errors import RuntimeUnavailable
from labrunner.services.base import Endpoint

MASTER_USER = "admin"          # RDS's default master username for MySQL and MariaDB
DATABASE = "appdb"
SYSTEM_USERS = ("root", MASTER_USER, "mysql.sys", "mysql.session", "mysql.infoschema", "mariadb.sys",
                "healthcheck", "PUBLIC")
SYSTEM_DATABASES = ("mysql", "information_schema", "performance_schema", "sys")


def connect(endpoint: Endpoint, *, user: str | None = None, password: str | None = None,
            database: str | None = None, autocommit: bool = True):
    import pymysql

    return pymysql.connect(host=endpoint.host, port=endpoint.port, user=user or endpoint.username,
                           password=endpoint.password if password is None else password,
                           database=database if database is not None else endpoint.database,
                           autocommit=autocommit, local_infile=True, connect_timeout=5, charset="utf8mb4")


def connection(endpoint: Endpoint):
    """The master user on the session's database, autocommit."""
    return connect(endpoint)


def connector(endpoint: Endpoint):
    return lambda **kwargs: connect(endpoint, **kwargs)


def _as_root(endpoint: Endpoint):
    return connect(endpoint, user="root", database="")


def probe(endpoint: Endpoint) -> None:
    """A real query as root over TCP (the official images' init server listens on no TCP port)."""
    with _as_root(endpoint) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")


def initialize(endpoint: Endpoint) -> None:
    """The RDS-like master user: every privilege, with grant option (RDS withholds SUPER)."""
    with _as_root(endpoint) as conn:
        with conn.cursor() as cur:
            cur.execute("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", (endpoint.username, endpoint.password))
            cur.execute(f"GRANT ALL PRIVILEGES ON *.* TO `{endpoint.username}`@'%' WITH GRANT OPTION")
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{endpoint.database}`")


def _roles(cur) -> set[str]:
    """MariaDB's roles, which live beside the users in mysql.user (is_role = 'Y') and are dropped
    with DROP ROLE. MySQL has no such column: its roles are accounts, and DROP USER drops them."""
    try:
        # Compared here, not in a WHERE: is_role = 'Y' can meet a collation clash (1267).
        cur.execute("SELECT User, is_role FROM mysql.user")
    except Exception:               # MySQL: no is_role column
        return set()
    return {user for user, is_role in cur.fetchall() if str(is_role).upper() == "Y"}


def reset(endpoint: Endpoint) -> None:
    """Only the session's (empty) database and the system users; global variables at their defaults,
    and no audit plugin."""
    with _as_root(endpoint) as conn:
        with conn.cursor() as cur:
            # A foreign key from one database into another (a learner's draft) must not stop the
            # drops: without this, DROP DATABASE of the referenced one fails (1451).
            cur.execute("SET SESSION foreign_key_checks = 0")
            cur.execute("SHOW DATABASES")
            for (name,) in cur.fetchall():
                if name not in SYSTEM_DATABASES:
                    cur.execute(f"DROP DATABASE `{name}`")
            cur.execute(f"CREATE DATABASE `{endpoint.database}`")
            cur.execute("SELECT User, Host FROM mysql.user")
            accounts = cur.fetchall()
            roles = _roles(cur)
            for user, host in accounts:
                if user not in SYSTEM_USERS and user:
                    if user in roles and not host:
                        cur.execute("DROP ROLE %s", (user,))    # MariaDB refuses DROP USER of a role (1396)
                    else:
                        cur.execute("DROP USER %s@%s", (user, host))
            cur.execute("SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'SERVER_AUDIT'")
            if cur.fetchone()[0]:
                cur.execute("UNINSTALL SONAME 'server_audit'")    # MariaDB's audit plugin (rds-mariadb-basics)
            cur.execute("SET GLOBAL slow_query_log = DEFAULT")
            cur.execute("SET GLOBAL long_query_time = DEFAULT")
            try:
                cur.execute("RESET PERSIST")          # MySQL 8's SET PERSIST would come back at a restart
            except Exception:
                pass                                  # MariaDB has no SET PERSIST


def exports(endpoint: Endpoint) -> dict[str, str]:
    """The mysql/mariadb clients read MYSQL_HOST, MYSQL_TCP_PORT and MYSQL_PWD."""
    return {"MYSQL_HOST": endpoint.host, "MYSQL_TCP_PORT": str(endpoint.port), "MYSQL_PWD": endpoint.password,
            "MYSQL_USER": endpoint.username, "DATABASE_URL": endpoint.url}


def client_args(program: str, endpoint: Endpoint) -> list[str]:
    """The user (the clients read no variable for it) and the protocol; the password comes from
    MYSQL_PWD. The interactive clients also allow LOAD DATA LOCAL INFILE."""
    args = ["-u", endpoint.username, "--protocol=TCP"]
    return args + (["--local-infile=1"] if program in ("mysql", "mariadb") else [])


def docker_environment(prefix: str):
    """The official images' variables; time-zone tables are skipped (2 s of every first start)."""
    def environment(endpoint: Endpoint) -> dict[str, str]:
        return {f"{prefix}_ROOT_PASSWORD": endpoint.password, f"{prefix}_DATABASE": endpoint.database,
                f"{prefix}_INITDB_SKIP_TZINFO": "1"}

    return environment


# LOAD DATA LOCAL INFILE needs local_infile on the server: off by default in mysql:8.4.
DOCKER_COMMAND = ("--local-infile=1",)


def _server_binary() -> str | None:
    for name in ("mariadbd", "mysqld"):
        found = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
        if found:
            return found
    return None


class PrivateServer:
    """A private mariadbd (or mysqld) on 127.0.0.1 with its own data folder."""

    refuses_root = True

    def __init__(self, want_mysql: bool):
        self.want_mysql = want_mysql

    def _version(self) -> str:
        """`mariadbd --version` (asked once: launch, standin and prepare all want it)."""
        if not hasattr(self, "_version_text"):
            binary = _server_binary()
            self._version_text = (subprocess.run([binary, "--version"], capture_output=True, text=True)
                                  .stdout.strip() if binary else "")
        return self._version_text

    @property
    def is_mariadb(self) -> bool:
        return "mariadb" in self._version().lower()

    @property
    def standin(self) -> str:
        if self.want_mysql and self.is_mariadb:
            return "MariaDB standing in for MySQL (no MySQL server is installed here)"
        return "MariaDB, the real engine (this machine's server)" if self.is_mariadb else "MySQL (this machine's server)"

    def find(self) -> str:
        if _server_binary() is None:
            install = "apt-get install mariadb-server (Debian/Ubuntu), brew install mariadb (macOS)"
            raise RuntimeUnavailable("no MySQL or MariaDB server is installed here",
                                     f"install one ({install}), or use --runtime docker")
        return "mariadbd"

    def version(self) -> str:
        return self._version()

    def bin_dir(self) -> str | None:
        return None           # the clients come from PATH (mariadb-client) or the container

    def prepare(self, endpoint: Endpoint, data_dir: str, run) -> None:
        datadir = os.path.join(data_dir, "data")
        tmpdir = os.path.join(data_dir, "tmp")        # its own: the system's may not be writable for it
        os.makedirs(tmpdir, exist_ok=True)
        binary = _server_binary()
        if self.is_mariadb:
            install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
            run([install, "--no-defaults", f"--datadir={datadir}", "--auth-root-authentication-method=normal",
                 "--skip-test-db", f"--tmpdir={tmpdir}"])
        else:
            run([binary, "--no-defaults", "--initialize-insecure", f"--datadir={datadir}", f"--tmpdir={tmpdir}"])
        # Run at every start (idempotent): root over TCP with the session's password, like the images.
        Path(data_dir, "init.sql").write_text(
            # install-db also makes root@127.0.0.1 and root@::1 without a password, and those would
            # match TCP connections before root@'%': the official images remove them too.
            "DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1';\n"
            f"CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '{endpoint.password}';\n"
            "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;\n"
            f"ALTER USER 'root'@'localhost' IDENTIFIED BY '{endpoint.password}';\n")

    def argv(self, port: int, data_dir: str) -> list[str]:
        return [_server_binary(), "--no-defaults", f"--datadir={os.path.join(data_dir, 'data')}",
                f"--port={port}", "--bind-address=127.0.0.1", f"--socket={os.path.join(data_dir, 'mysqld.sock')}",
                f"--pid-file={os.path.join(data_dir, 'mysqld.pid')}", f"--tmpdir={os.path.join(data_dir, 'tmp')}",
                "--skip-name-resolve", "--local-infile=1",
                f"--init-file={os.path.join(data_dir, 'init.sql')}", "--innodb-buffer-pool-size=32M",
                "--skip-log-bin"]


def make_service(*, name: str, aws_name: str, image: str, docker_standin: str, env_prefix: str,
                 clients: tuple[str, ...], want_mysql: bool):
    """The Service record of a MySQL-family stand-in: they differ only in these few things."""
    from labrunner.services.base import Service

    return Service(
        name=name,
        aws_name=aws_name,
        image=image,
        docker_standin=docker_standin,
        container_port=3306,
        command=DOCKER_COMMAND,
        probe=probe,
        reset=reset,
        exports=exports,
        fixtures={name: connection, "db": connection, "db_connect": connector},
        scheme="mysql",
        username=MASTER_USER,
        database=DATABASE,
        needs_password=True,
        docker_environment=docker_environment(env_prefix),
        workspace_in_container="/workspace",
        clients=clients,
        client_args=client_args,
        shell=clients[0],
        initialize=initialize,
        local=PrivateServer(want_mysql=want_mysql),
        start_timeout=120.0,
        learner_client="labrunner.services.mysql_client:learner_client",
    )
