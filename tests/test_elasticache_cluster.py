"""The ElastiCache cluster-mode stand-in: its supervisor on real valkey-server processes, and the
elasticache-cluster lab proved on the local runtime."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest
import redis
from redis.cluster import RedisCluster

from aurora_helpers import free_ports, wait_for

ROOT = Path(__file__).resolve().parent.parent
SRC = str(ROOT / "src")
PASSWORD = "pw-Cluster-5521"
NODES = ("node-1", "node-2", "node-3", "node-4")


class Supervisor:
    def __init__(self):
        self.data = Path(tempfile.mkdtemp(prefix="labrunner-valkey-cluster-test-"))
        ports = free_ports(8)
        self.ports = {**dict(zip(NODES, ports[:4])), **{f"bus-{i}": p for i, p in enumerate(ports[4:], 1)}}
        (self.data / "credentials.json").write_text(json.dumps({"password": PASSWORD}))
        self.proc = None

    def start(self):
        others = {k: v for k, v in self.ports.items() if k != "node-1"}
        env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
        log_path = self.data / "supervisor.log"
        seen = log_path.stat().st_size if log_path.exists() else 0      # a restart: wait for a new "ready"
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "labrunner.services.valkey_cluster", "--data",
                                      str(self.data), "--port", str(self.ports["node-1"]), "--ports",
                                      json.dumps(others)], stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL)
        wait_for(lambda: "ready:" in log_path.read_bytes()[seen:].decode(), 60, "the cluster to be ready")

    def servers(self):
        return [p for p in psutil.Process(self.proc.pid).children(recursive=True) if "valkey-server" in p.name()]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)
        self.log.close()

    def node(self, name):
        return redis.Redis(port=self.ports[name], password=PASSWORD, decode_responses=True)

    def cluster(self):
        return RedisCluster(host="127.0.0.1", port=self.ports["node-1"], password=PASSWORD, decode_responses=True)

    def slots_of(self, name):
        me = next(line for line in self.node(name).execute_command("CLUSTER", "NODES").splitlines()
                  if "myself" in line)
        count = 0
        for item in me.split()[8:]:
            low, _, high = item.partition("-")
            count += int(high or low) - int(low) + 1
        return count


@pytest.fixture
def cluster():
    sup = Supervisor()
    sup.start()
    yield sup
    sup.stop()
    shutil.rmtree(sup.data, ignore_errors=True)


def _solution_reshard(env):
    os.environ.update(env)
    spec = importlib.util.spec_from_file_location("reshard_solution",
                                                  ROOT / "labs" / "elasticache-cluster" / "solutions" / "reshard.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.PASSWORD = PASSWORD
    return module


@pytest.mark.local
def test_three_shards_share_every_slot_and_the_spare_stands_alone(cluster):
    assert [cluster.slots_of(n) for n in NODES[:3]] == [5461, 5462, 5461]
    assert cluster.slots_of("node-4") == 0
    assert len(cluster.node("node-4").execute_command("CLUSTER", "NODES").splitlines()) == 1
    for name in NODES:
        assert cluster.node(name).config_get("bind")["bind"] == "127.0.0.1"
        assert cluster.node(name).config_get("cluster-enabled")["cluster-enabled"] == "yes"
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=cluster.ports["node-2"], password="wrong").ping()
    assert len(cluster.servers()) == 4


@pytest.mark.local
def test_keys_spread_by_slot_and_a_cross_slot_command_is_refused(cluster):
    client = cluster.cluster()
    for i in range(300):
        client.set(f"product:{i}", i)
    sizes = [cluster.node(n).dbsize() for n in NODES[:3]]
    assert sum(sizes) == 300 and all(size > 50 for size in sizes), sizes
    node = cluster.node("node-1")
    a, b = next((f"k{i}", f"k{i + 1}") for i in range(100)
                if node.execute_command("CLUSTER", "KEYSLOT", f"k{i}") != node.execute_command("CLUSTER", "KEYSLOT", f"k{i + 1}"))
    with pytest.raises(redis.ResponseError, match="CROSSSLOT|hash to the same slot"):
        node.execute_command("MSET", a, 1, b, 2)
    with pytest.raises(redis.exceptions.MovedError):
        [node.get(f"product:{i}") for i in range(50)]     # a plain client on one node: most slots live elsewhere
    assert client.mget(["{user:7}:name", "{user:7}:email"]) == [None, None]


@pytest.mark.local
def test_moving_slots_to_the_spare_loses_no_client_operation_and_survives_a_restart(cluster):
    client = cluster.cluster()
    seeded = {f"stock:{i}": str(random.random()) for i in range(2000)}
    pipe = client.pipeline()
    for key, value in seeded.items():
        pipe.set(key, value)
    pipe.execute()
    stop, counts = threading.Event(), {"ops": 0, "failed": 0}

    def traffic():
        own = cluster.cluster()
        keys = list(seeded)
        while not stop.is_set():
            key = random.choice(keys)
            try:
                if own.get(key) != seeded[key]:
                    counts["failed"] += 1
                own.set(key + ":seen", "1")
            except Exception:
                counts["failed"] += 1
            counts["ops"] += 2

    reshard = _solution_reshard({"ELASTICACHE_HOST": "127.0.0.1", "ELASTICACHE_PORT": str(cluster.ports["node-1"]),
                                 "ELASTICACHE_PASSWORD": PASSWORD})
    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        reshard.add_shard(f"127.0.0.1:{cluster.ports['node-4']}", 300)
    finally:
        stop.set()
        worker.join()
    assert counts["ops"] > 100 and counts["failed"] == 0, counts
    assert cluster.slots_of("node-4") == 300
    moved = cluster.node("node-4").dbsize()
    assert moved > 0
    servers = cluster.servers()
    cluster.stop()
    assert not [p for p in servers if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    cluster.start()                                   # same data folder: the same cluster, keys from RDB
    assert cluster.slots_of("node-4") == 300
    assert cluster.node("node-4").dbsize() == moved
    assert all(cluster.cluster().get(k) == v for k, v in list(seeded.items())[:200])


@pytest.mark.local
def test_eviction_is_counted_by_the_server_and_volatile_lru_without_ttls_refuses_writes(cluster):
    node = cluster.node("node-2")
    node.config_set("maxmemory", "4mb")
    node.config_set("maxmemory-policy", "allkeys-lru")
    client = cluster.cluster()
    owned = [k for k in (f"fill:{i}" for i in range(3000)) if 5461 <= client.keyslot(k) <= 10922]
    for key in owned[:800]:
        node.set(key, "x" * 16384)
    assert int(node.info("stats")["evicted_keys"]) > 0
    node.flushall()
    node.config_set("maxmemory-policy", "volatile-lru")
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        for key in owned[:800]:
            node.set(key, "x" * 16384)                # no TTL: nothing may be evicted


@pytest.mark.local
def test_a_killed_supervisor_leaves_no_node_running_and_its_successor_keeps_the_keys(cluster):
    cluster.cluster().set("survivor", "yes")
    servers = cluster.servers()
    cluster.proc.kill()                               # SIGKILL: no chance to stop its nodes itself
    cluster.proc.wait(10)
    wait_for(lambda: not [p for p in servers if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], 20,
             "the nodes to stop with their supervisor")
    cluster.log.close()
    cluster.start()
    assert cluster.cluster().get("survivor") == "yes"


@pytest.mark.local
def test_bad_arguments_are_one_line_errors(tmp_path):
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run([sys.executable, "-m", "labrunner.services.valkey_cluster", "--data", str(tmp_path),
                           "--port", "1", "--ports", "{}"], capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 2 and "--ports lacks node-2" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("runtime", ["local", "docker"])
def test_the_lab_proves(tmp_path, runtime):
    """Every check fails before its solution and passes after, each mistake is caught, each route
    passes — on Docker too, where the nodes announce the host's published ports (the
    labrunner-local/valkey-cluster image, built by images/build.sh)."""
    env = {**os.environ, "LABRUNNER_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "labrunner", "test", "elasticache-cluster", "--runtime", runtime],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "5 steps" in done.stdout and "mistakes caught" in done.stdout
