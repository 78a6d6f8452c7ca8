"""Start and drive an Aurora MySQL stand-in (three MariaDB nodes) as its own process, or as its
container on the Docker runtime (tests/test_aurora_mysql.py, benchmarks/aurora_mysql_failover.py)."""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time

import psutil
import pymysql

from aurora_helpers import SupervisorProcess, wait_for

USER, PASSWORD, DATABASE = "admin", "pw-Aurora-My-7421", "appdb"
NODE_NAMES = ("aurora-1", "aurora-2", "aurora-3")
SERVICE = "aurora-mysql"


class MysqlCluster(SupervisorProcess):
    """The Aurora MySQL supervisor (aurora_mysql_cluster) as its own process, in a folder the
    unprivileged user the nodes run as can reach when the tests run as root."""

    module = "aurora_mysql_cluster"
    prefix = "labrunner-aurora-mysql-test-"
    master = (USER, PASSWORD, DATABASE)
    node_names = NODE_NAMES

    def __init__(self):
        super().__init__()
        os.chmod(self.data, 0o755)
        self.password = PASSWORD

    def node_pid(self, name: str) -> int | None:
        try:
            return int((self.data / "nodes" / name / "mysqld.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def processes(self) -> list[psutil.Process]:
        found = [psutil.Process(self.proc.pid)]
        for name in NODE_NAMES:
            pid = self.node_pid(name)
            if pid and psutil.pid_exists(pid):
                found.append(psutil.Process(pid))
        return found

    def destroy(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for name in NODE_NAMES:          # nodes a killed supervisor left behind
            pid = self.node_pid(name)
            try:
                if pid and str(self.data) in " ".join(psutil.Process(pid).cmdline()):
                    psutil.Process(pid).kill()
            except psutil.Error:
                pass
        shutil.rmtree(self.data, ignore_errors=True)

    # ---- SQL (both kinds of cluster) -------------------------------------------------------------

    def all_healthy(self) -> bool:
        nodes = self.status()["nodes"]
        return all(n["alive"] and not n["rejoining"] for n in nodes) and all(
            n["replica_sql"] == "Yes" and n["replica_io"] == "Yes" for n in nodes if n["role"] == "reader")

    def connect(self, port: int | None = None, timeout: int = 5):
        return pymysql.connect(host="127.0.0.1", port=port or self.port, user=USER, password=self.password,
                               database=DATABASE, autocommit=True, connect_timeout=timeout)

    def scalar(self, query: str, port: int | None = None, args=None):
        conn = self.connect(port)
        try:
            with conn.cursor() as cur:
                cur.execute(query, args)
                return cur.fetchone()[0]
        finally:
            conn.close()


class DockerMysqlCluster(MysqlCluster):
    """The aurora-mysql container as `labrunner run --runtime docker` starts it (its image as
    labrunner resolves it: LABRUNNER_IMAGE_AURORA_MYSQL, else labrunner's own tag); ports are the
    host's published 127.0.0.1 ports."""

    def __init__(self):
        self.proc = None
        self.state: dict | None = None
        self.port = 0
        self.ports: dict[str, int] = {}

    def start(self, timeout: float = 180) -> None:
        from labrunner import services
        from labrunner.runtimes.docker import DockerRuntime
        from labrunner.state import ServiceState

        self.runtime = DockerRuntime()
        self.state = self.runtime.launch(services.get(SERVICE), lab_id="aurora-mysql-test",
                                         session_id=secrets.token_hex(6), port=None)
        self.password = ServiceState.from_dict(self.state).endpoint().password
        self.port = int(self.state["port"])
        self.ports = {name: int(port) for name, port in self.state["ports"].items()}
        wait_for(self._ready, timeout, "the cluster's container to be ready")

    def _ready(self) -> bool:
        container = self.container()
        if container.status not in ("running", "created"):
            raise AssertionError(f"the container is {container.status}: {self.tail()}")
        try:
            return all(n["alive"] for n in self.status()["nodes"])
        except OSError:
            return False

    def container(self):
        container = self.runtime.client.containers.get(self.state["container"])
        container.reload()
        return container

    def tail(self, lines: int = 15) -> str:
        try:
            return self.runtime.logs(self.state, lines)
        except Exception:
            return ""

    def destroy(self) -> None:
        if self.state is not None:
            self.runtime.remove(self.state)


class Writer(threading.Thread):
    """A client that inserts numbered rows through the cluster endpoint as fast as it can,
    reconnecting on any error, and remembers every id whose COMMIT (autocommit) returned."""

    def __init__(self, cluster: MysqlCluster, table: str, start_id: int = 0):
        super().__init__(daemon=True)
        self.cluster, self.table = cluster, table
        self.next_id = start_id
        self.acked: list[int] = []
        self.ack_times: list[tuple[float, float]] = []
        self.errors = 0
        self.halt = threading.Event()

    def run(self) -> None:
        conn = None
        while not self.halt.is_set():
            try:
                if conn is None:
                    conn = self.cluster.connect(timeout=3)
                sent = time.monotonic()
                with conn.cursor() as cur:
                    cur.execute(f"INSERT IGNORE INTO {self.table} (id) VALUES (%s)", (self.next_id,))
                self.acked.append(self.next_id)
                self.ack_times.append((sent, time.monotonic()))
                self.next_id += 1
            except pymysql.err.Error:
                self.errors += 1
                try:
                    conn and conn.close()
                except Exception:
                    pass
                conn = None
                time.sleep(0.05)
        if conn is not None:
            conn.close()

    def first_ack_after(self, moment: float) -> float | None:
        """Seconds from `moment` to the acknowledgement of the first write SENT after it."""
        for sent, acked in self.ack_times:
            if sent > moment:
                return acked - moment
        return None

    def stop(self) -> None:
        self.halt.set()
        self.join(30)
