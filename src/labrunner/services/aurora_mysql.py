"""Amazon Aurora MySQL-Compatible: a cluster of three real MariaDB 10.11 servers standing in for
MySQL (no MySQL server is in any registry this machine reaches; the mysql stand-in says the same).

`aurora-1` (zone az-a) starts as the writer, `aurora-2` (az-b) and `aurora-3` (az-c) are
GTID replicas with read_only=ON. One supervisor process per cluster
(`labrunner.services.aurora_mysql_cluster`) runs them, serves the cluster endpoint (always the
current writer) and the reader endpoint (new connections spread over the readers) through the
same router as aurora-postgresql, fails over when the writer is lost, and takes node faults and
planned failovers on the same control channel. Aurora's shared storage (six copies across three
zones, replicas that do not replay a log of their own) a laptop cannot show.

Local runtime: the supervisor runs as a process on this machine's mariadbd (as the unprivileged
user when labrunner runs as root: mariadbd refuses root). Docker: the aurora-mysql stand-in image.
"""

from __future__ import annotations

import json
import os
import sys
import time

from labrunner.errors import ServiceError
from labrunner.services import mysql_family
from labrunner.services.aurora_postgresql import cluster, status
from labrunner.services.base import Endpoint, Service

NODES = ("aurora-1", "aurora-2", "aurora-3")
CONTAINER_PORTS = {"reader": 3307, "control": 8182, "aurora-1": 3311, "aurora-2": 3312, "aurora-3": 3313}
IMAGE = "labrunner-local/aurora-mysql:10.11"
STANDIN = "three MariaDB 10.11 servers standing in for Aurora MySQL (GTID replication) behind labrunner's router"
KEEP_USERS = ("root", "rdsrepl", "mariadb.sys", "mysql", "PUBLIC")


def probe(endpoint: Endpoint) -> None:
    """Ready when the supervisor answers and the cluster endpoint reaches a writable server."""
    found = status(endpoint)
    if not found.get("writer"):
        raise ConnectionError("the cluster has no writer yet")
    with mysql_family.connect(endpoint, database="") as conn, conn.cursor() as cur:
        cur.execute("SELECT @@read_only")
        if cur.fetchone()[0]:
            raise ConnectionError("the cluster endpoint reached a reader")


def reset(endpoint: Endpoint) -> None:
    """Only the session's (empty) database and the cluster's own users, through the writer (the
    readers follow); readers whose replication a check stopped are started again."""
    with mysql_family.connect(endpoint, database="") as conn, conn.cursor() as cur:
        cur.execute("SHOW DATABASES")
        for (name,) in cur.fetchall():
            if name not in mysql_family.SYSTEM_DATABASES:
                cur.execute(f"DROP DATABASE `{name}`")
        cur.execute(f"CREATE DATABASE `{endpoint.database}`")
        cur.execute("SELECT User, Host FROM mysql.user")
        for user, host in cur.fetchall():
            if user and user not in KEEP_USERS and user != endpoint.username:
                cur.execute("DROP USER %s@%s", (user, host))
        cur.execute("SELECT @@gtid_binlog_pos")
        target = cur.fetchone()[0]
    wait_for_readers(endpoint, target)


def wait_for_readers(endpoint: Endpoint, target: str, timeout: float = 30.0) -> None:
    """Until every live reader has applied the writer's binary log up to `target`."""
    found = status(endpoint)
    readers = [n["name"] for n in found.get("nodes", []) if n["name"] != found.get("writer") and n.get("alive")]
    deadline = time.monotonic() + timeout
    for name in readers:
        with mysql_family.connect(endpoint.at(name), database="") as conn, conn.cursor() as cur:
            try:
                cur.execute("START SLAVE")      # a check or the learner may have left it stopped
            except Exception:
                pass                            # a node still catching up: the wait below decides
            left = max(1.0, deadline - time.monotonic())
            cur.execute("SELECT MASTER_GTID_WAIT(%s, %s)", (target, left))
            if cur.fetchone()[0] != 0:
                raise ServiceError(f"{name} has not applied the reset after {timeout:.0f} s",
                                   "`labrunner status` shows the cluster; SHOW SLAVE STATUS on it says why")


def exports(endpoint: Endpoint) -> dict[str, str]:
    """The mysql/mariadb clients read MYSQL_*; the cluster endpoint is the default, the reader
    endpoint beside it."""
    found = {**mysql_family.exports(endpoint), "WRITER_URL": endpoint.url}
    try:
        reader = endpoint.at("reader")
    except KeyError:            # the endpoint as seen inside the container (`labrunner tool` there)
        return found
    return {**found, "READER_PORT": str(reader.port), "READER_URL": reader.url}


def connection(endpoint: Endpoint):
    """The `aurora` fixture: the master user through the cluster endpoint, autocommit."""
    return mysql_family.connect(endpoint)


def reader_connection(endpoint: Endpoint):
    return mysql_family.connect(endpoint.at("reader"))


def node_connector(endpoint: Endpoint):
    """The `aurora_node` fixture: node("aurora-2") connects to that instance endpoint."""
    return lambda name, **kwargs: mysql_family.connect(endpoint.at(name), **kwargs)


class ClusterRecipe:
    """The supervisor, on this machine's MariaDB server."""

    standin = "three MariaDB 10.11 servers standing in for Aurora MySQL (GTID replication) behind " \
              "labrunner's router (this machine's mariadbd; no MySQL server is installed here)"
    refuses_root = True
    drops_root_itself = True

    def find(self) -> str:
        mysql_family.PrivateServer(want_mysql=True).find()
        return "mariadbd"

    def version(self) -> str:
        return mysql_family.PrivateServer(want_mysql=True).version()

    def bin_dir(self) -> str | None:
        return None

    def prepare(self, endpoint: Endpoint, data_dir: str, run) -> None:
        fd = os.open(os.path.join(data_dir, "credentials.json"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w") as fh:
            json.dump({"user": endpoint.username, "password": endpoint.password, "database": endpoint.database}, fh)

    def argv(self, port: int, data_dir: str, ports: dict) -> list[str]:
        return [sys.executable, "-m", "labrunner.services.aurora_mysql_cluster", "--data", data_dir,
                "--port", str(port), "--ports", json.dumps(ports)]


def docker_command(endpoint: Endpoint) -> tuple[str, ...]:
    # --listen 0.0.0.0: inside the container's own network; Docker publishes on the host's 127.0.0.1 only.
    return ("python3", "-m", "labrunner.services.aurora_mysql_cluster", "--data", "/var/lib/aurora",
            "--port", "3306", "--ports", json.dumps(CONTAINER_PORTS), "--listen", "0.0.0.0")


def docker_environment(endpoint: Endpoint) -> dict[str, str]:
    return {"LABRUNNER_MASTER_USER": endpoint.username, "LABRUNNER_MASTER_PASSWORD": endpoint.password,
            "LABRUNNER_MASTER_DATABASE": endpoint.database}


SERVICE = Service(
    name="aurora-mysql",
    aws_name="Amazon Aurora MySQL-Compatible Edition",
    image=IMAGE,
    docker_standin=STANDIN,
    container_port=3306,
    extra_ports=CONTAINER_PORTS,
    probe=probe,
    reset=reset,
    exports=exports,
    fixtures={"aurora": connection, "aurora_reader": reader_connection, "aurora_node": node_connector,
              "aurora_cluster": cluster},
    scheme="mysql",
    username=mysql_family.MASTER_USER,
    database=mysql_family.DATABASE,
    needs_password=True,
    docker_command=docker_command,
    docker_environment=docker_environment,
    workspace_in_container="/workspace",
    clients=("mysql", "mariadb", "mysqldump", "mariadb-dump"),
    client_args=mysql_family.client_args,
    shell="mysql",
    local=ClusterRecipe(),
    start_timeout=120.0,
    image_published=False,
    learner_client="labrunner.services.mysql_client:learner_client",
    nodes="labrunner.services.aurora_postgresql:nodes",
    node_action="labrunner.services.aurora_postgresql:node_action",
)
