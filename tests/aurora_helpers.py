"""Start and drive an Aurora stand-in supervisor as its own process (tests and benchmarks/failover.py)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import psycopg

USER, PASSWORD, DATABASE = "master", "pw-Aurora-7421", "appdb"
NODE_NAMES = ("aurora-1", "aurora-2", "aurora-3")
SRC = str(Path(__file__).resolve().parent.parent / "src")


def free_ports(count: int) -> list[int]:
    sockets, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as exc:          # not yet: keep trying until the deadline
            last = exc
        time.sleep(interval)
    raise AssertionError(f"{what} not within {timeout:.0f} s (last: {last!r})")


class SupervisorProcess:
    """One supervisor process (`python -m labrunner.services.<module>`) on free ports in its own
    folder, and its control API: what the PostgreSQL Cluster here and aurora_mysql_helpers'
    MysqlCluster share. The folder is made in the system temp dir (not pytest's private tmp_path):
    when the tests run as root, the nodes run as the unprivileged user, who must be able to reach it."""

    module = ""                 # labrunner.services.<module>
    prefix = ""                 # of the temp folder's name
    master: tuple[str, str, str] = ("", "", "")     # the master user, password and database
    node_names: tuple[str, ...] = ()

    def __init__(self):
        self.data = Path(tempfile.mkdtemp(prefix=self.prefix))
        cluster, reader, control, *nodes = free_ports(6)
        self.port = cluster
        self.ports = {"reader": reader, "control": control, **dict(zip(self.node_names, nodes))}
        creds = self.data / "credentials.json"
        creds.write_text(json.dumps(dict(zip(("user", "password", "database"), self.master))))
        creds.chmod(0o600)
        self.proc: subprocess.Popen | None = None
        self.log = self.data / "supervisor.log"

    def argv(self) -> list[str]:
        return [sys.executable, "-m", f"labrunner.services.{self.module}", "--data", str(self.data),
                "--port", str(self.port), "--ports", json.dumps(self.ports)]

    def start(self, timeout: float = 120) -> None:
        env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT, env=env,
                                         stdin=subprocess.DEVNULL, cwd=tempfile.gettempdir())
        wait_for(lambda: self._ready(), timeout, "the cluster to be ready")

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"the supervisor exited ({self.proc.returncode}): {self.tail()}")
        try:
            status = self.status()
        except OSError:
            return False
        return all(n["alive"] for n in status["nodes"])

    def stop(self, timeout: float = 60) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # ---- control API ---------------------------------------------------------------------------

    def status(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ports['control']}/status", timeout=5) as reply:
            return json.loads(reply.read())

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.ports['control']}{path}",
                                         data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def writer(self) -> str:
        return self.status()["writer"]

    def roles(self) -> dict[str, str]:
        return {n["name"]: n["role"] for n in self.status()["nodes"]}


class Cluster(SupervisorProcess):
    """The Aurora PostgreSQL supervisor (aurora_cluster) as its own process."""

    module = "aurora_cluster"
    prefix = "labrunner-aurora-test-"
    master = (USER, PASSWORD, DATABASE)
    node_names = NODE_NAMES

    def destroy(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for name in NODE_NAMES:                 # nodes a killed supervisor left behind, and their processes
            pid = self.postmaster_pid(name)
            try:
                postmaster = psutil.Process(pid) if pid else None
                ours = postmaster is not None and str(self.data) in " ".join(postmaster.cmdline())
                family = [postmaster, *postmaster.children(recursive=True)] if ours else []
            except psutil.Error:
                family = []
            for process in family:
                try:
                    process.kill()
                except psutil.Error:
                    pass
        shutil.rmtree(self.data, ignore_errors=True)

    def postmaster_pid(self, name: str) -> int | None:
        try:
            return int((self.data / "nodes" / name / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def all_healthy(self) -> bool:
        status = self.status()
        return all(n["alive"] and not n["rejoining"] for n in status["nodes"]) and all(
            n["replay_lag_bytes"] is not None for n in status["nodes"])

    # ---- SQL -------------------------------------------------------------------------------------

    def connect(self, port: int | None = None, timeout: int = 5) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=port or self.port, user=USER, password=PASSWORD,
                               dbname=DATABASE, connect_timeout=timeout, autocommit=True)

    def scalar(self, query: str, port: int | None = None, params=None):
        with self.connect(port) as conn:
            return conn.execute(query, params).fetchone()[0]


class Writer(threading.Thread):
    """A client that inserts numbered rows through the cluster endpoint as fast as it can,
    reconnecting with retries on any error, and remembers every id the server acknowledged."""

    def __init__(self, cluster: Cluster, table: str, start_id: int = 0):
        super().__init__(daemon=True)
        self.cluster, self.table = cluster, table
        self.next_id = start_id
        self.acked: list[int] = []
        self.ack_times: list[tuple[float, float]] = []    # (sent, acknowledged)
        self.errors = 0
        self.halt = threading.Event()

    def run(self) -> None:
        conn = None
        while not self.halt.is_set():
            try:
                if conn is None:
                    conn = self.cluster.connect(timeout=3)
                sent = time.monotonic()
                conn.execute(f"INSERT INTO {self.table} (id) VALUES (%s) ON CONFLICT DO NOTHING", (self.next_id,))
                self.acked.append(self.next_id)
                self.ack_times.append((sent, time.monotonic()))
                self.next_id += 1
            except psycopg.Error:
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
        """Seconds from `moment` to the first acknowledgement of a write sent after it (a write
        sent before may still be acknowledged by the old writer a moment after its kill)."""
        for sent, acked in self.ack_times:
            if sent > moment:
                return acked - moment
        return None

    def stop(self) -> None:
        self.halt.set()
        self.join(30)
