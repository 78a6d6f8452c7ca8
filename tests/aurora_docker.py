"""The Aurora stand-in's container, started as `labrunner run --runtime docker` starts it, driven
like tests/aurora_helpers.Cluster (benchmarks/failover.py --runtime docker)."""

from __future__ import annotations

import secrets

import psycopg

from aurora_helpers import Cluster, wait_for

SERVICE = "aurora-postgresql"


class DockerCluster(Cluster):
    """One aurora-postgresql container on the Docker runtime (its image as labrunner resolves it:
    LABRUNNER_IMAGE_AURORA_POSTGRESQL, else labrunner's own tag). Ports are the host's published
    127.0.0.1 ports; the nodes' own view of their ports (status) is the container's."""

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
        if self.state is None:
            self.state = self.runtime.launch(services.get(SERVICE), lab_id="aurora-benchmark",
                                             session_id=secrets.token_hex(6), port=None)
        self.endpoint = ServiceState.from_dict(self.state).endpoint()
        self.port = int(self.state["port"])
        self.ports = {name: int(port) for name, port in self.state["ports"].items()}
        wait_for(self._ready, timeout, "the cluster's container to be ready")

    def _ready(self) -> bool:
        container = self.container()
        if container.status not in ("running", "created"):
            raise AssertionError(f"the container is {container.status}: {self.tail()}")
        try:
            status = self.status()
        except OSError:
            return False
        return all(n["alive"] for n in status["nodes"])

    def container(self):
        container = self.runtime.client.containers.get(self.state["container"])
        container.reload()
        return container

    def root_pid(self) -> int | None:
        """The container's first process as this machine sees it (0 when it is not running)."""
        return self.container().attrs["State"]["Pid"] or None

    def tail(self, lines: int = 15) -> str:
        try:
            return self.runtime.logs(self.state, lines)
        except Exception:
            return ""

    def postmaster_pid(self, name: str) -> int | None:
        return None

    def destroy(self) -> None:
        if self.state is not None:
            self.runtime.remove(self.state)

    def connect(self, port: int | None = None, timeout: int = 5) -> psycopg.Connection:
        e = self.endpoint
        return psycopg.connect(host="127.0.0.1", port=port or self.port, user=e.username, password=e.password,
                               dbname=e.database, connect_timeout=timeout, autocommit=True)
