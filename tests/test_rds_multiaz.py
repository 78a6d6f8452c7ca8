"""The RDS for PostgreSQL Multi-AZ stand-in (labrunner.services.aurora_multiaz), run as its own
process against three real PostgreSQL servers: loopback only, a standby that refuses clients,
a synchronous standby and an asynchronous replica, failover to the standby only (the instance
endpoint follows it, no acknowledged write lost), a replica that is never promoted by itself
but can be by hand, and rebuilt; then the service through labrunner's own commands."""

from __future__ import annotations

import json
import os
import shutil
import signal
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
import pytest

from aurora_helpers import SRC, free_ports, wait_for
from labrunner.runtimes.docker import home_label as docker_home_label

USER, PASSWORD, DATABASE = "master", "pw-Multi-AZ-2604", "appdb"
HOSTS = ("host-a", "host-b")
REPLICA = "replica-1"


class Instance:
    """One supervisor process on free ports in its own folder (in the system temp dir: when the
    tests run as root, the servers run as the unprivileged user, who must reach it)."""

    def __init__(self):
        self.data = Path(tempfile.mkdtemp(prefix="labrunner-multiaz-test-"))
        os.chmod(self.data, 0o755)
        self.port, replica, control, *hosts = free_ports(6)
        self.ports = {"replica": replica, "control": control, **dict(zip((*HOSTS, REPLICA), hosts))}
        self.proc = None

    def start(self):
        (self.data / "credentials.json").write_text(json.dumps(
            {"user": USER, "password": PASSWORD, "database": DATABASE}))
        log = open(self.data / "supervisor.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "labrunner.services.aurora_multiaz", "--data", str(self.data),
             "--port", str(self.port), "--ports", json.dumps(self.ports)],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": SRC}, start_new_session=True)
        wait_for(lambda: self.status().get("primary"), 180, "the supervisor to answer")

    def destroy(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.data, ignore_errors=True)

    def connect(self, port=None, **kwargs):
        return psycopg.connect(host="127.0.0.1", port=port or self.port, user=USER, password=PASSWORD,
                               dbname=DATABASE, connect_timeout=5, autocommit=True, **kwargs)

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.ports['control']}{path}", data=data,
                                         method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as answer:
            return json.loads(answer.read())

    def status(self):
        return self._call("GET", "/status")

    def fault(self, node, action):
        return self._call("POST", "/fault", {"node": node, "action": action})

    def failover(self, target=None):
        return self._call("POST", "/failover", {"target": target} if target else {})

    def roles(self):
        return {n["role"]: n["name"] for n in self.status()["nodes"]}

    def whole(self):
        nodes = self.status()["nodes"]
        return (sorted(n["role"] for n in nodes) == ["primary", "replica", "standby"]
                and all(n["alive"] and not n["rejoining"] for n in nodes)
                and self.status()["synchronous_standby_names"])

    def replica_has(self, count_sql, want):
        with self.connect(self.ports["replica"]) as conn:
            return conn.execute(count_sql).fetchone()[0] == want


@pytest.fixture(scope="module")
def instance():
    it = Instance()
    try:
        it.start()
        with it.connect() as conn:
            conn.execute("CREATE TABLE items (id bigint PRIMARY KEY)")
        yield it
    finally:
        it.destroy()


def whole(instance, timeout=90):
    wait_for(instance.whole, timeout, "a primary, a streaming standby and the replica")


@pytest.mark.local
def test_every_listening_socket_is_on_loopback(instance):
    whole(instance)
    tree = [psutil.Process(instance.proc.pid), *psutil.Process(instance.proc.pid).children(recursive=True)]
    listening = [c.laddr for p in tree for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    ports = {a.port for a in listening}
    assert {instance.port, *instance.ports.values()} <= ports
    assert {a.ip for a in listening} == {"127.0.0.1"}, listening


@pytest.mark.local
def test_the_standby_refuses_clients_and_the_replica_serves_reads_only(instance):
    whole(instance)
    standby = instance.roles()["standby"]
    with pytest.raises(psycopg.OperationalError, match="pg_hba.conf rejects"):
        instance.connect(instance.ports[standby]).close()
    with instance.connect() as conn:
        assert conn.execute("SELECT inet_server_port()").fetchone()[0] == instance.ports[instance.roles()["primary"]]
        conn.execute("INSERT INTO items VALUES (1)")
    wait_for(lambda: instance.replica_has("SELECT count(*) FROM items WHERE id = 1", 1), 10, "row 1 on the replica")
    with instance.connect(instance.ports["replica"]) as conn:
        assert conn.execute("SELECT inet_server_port(), pg_is_in_recovery()").fetchone() == (
            instance.ports[REPLICA], True)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO items VALUES (2)")


@pytest.mark.local
def test_commits_wait_for_the_standby_and_never_for_the_replica(instance):
    whole(instance)
    standby = instance.roles()["standby"].replace("-", "_")
    with instance.connect() as conn:
        rows = dict(conn.execute("SELECT application_name, sync_state FROM pg_stat_replication").fetchall())
        assert rows == {standby: "sync", "replica_1": "async"}
        instance.fault("replica", "pause-replay")
        try:
            began = time.monotonic()
            conn.execute("INSERT INTO items VALUES (10)")
            assert time.monotonic() - began < 2.0          # the paused replica holds no commit back
            time.sleep(1.0)
            assert instance.replica_has("SELECT count(*) FROM items WHERE id = 10", 0)
        finally:
            instance.fault("replica", "resume-replay")
    wait_for(lambda: instance.replica_has("SELECT count(*) FROM items WHERE id = 10", 1), 10, "row 10 on the replica")


@pytest.mark.local
def test_a_failover_never_chooses_the_replica(instance):
    whole(instance)
    with pytest.raises(urllib.error.HTTPError) as refused:
        instance.failover(REPLICA)
    assert "read replica" in json.loads(refused.value.read())["error"]
    assert instance.roles()["replica"] == REPLICA


@pytest.mark.local
def test_killing_the_primary_moves_the_instance_endpoint_and_loses_no_acknowledged_write(instance):
    whole(instance)
    before = instance.roles()
    acks, stop = [], threading.Event()

    def write():
        conn, next_id = None, 1000
        while not stop.is_set():
            try:
                if conn is None:
                    conn = instance.connect()
                conn.execute("INSERT INTO items VALUES (%s) ON CONFLICT DO NOTHING", (next_id,))
                acks.append(next_id)           # acknowledged: the autocommit returned
                next_id += 1
            except psycopg.Error:
                conn = None
                time.sleep(0.05)

    writer = threading.Thread(target=write)
    writer.start()
    wait_for(lambda: len(acks) > 50, 30, "50 acknowledged writes")
    instance.fault("primary", "kill")
    wait_for(lambda: len(acks) > 300, 60, "writes after the kill")
    stop.set()
    writer.join(30)
    after = instance.roles()
    assert after["primary"] == before["standby"] and after["replica"] == REPLICA
    with instance.connect() as conn:
        assert conn.execute("SELECT inet_server_port()").fetchone()[0] == instance.ports[after["primary"]]
        stored = {r[0] for r in conn.execute("SELECT id FROM items WHERE id >= 1000")}
    assert [a for a in acks if a not in stored] == []
    whole(instance)
    assert instance.roles()["standby"] == before["primary"]          # the old primary, back as the standby
    with pytest.raises(psycopg.OperationalError, match="pg_hba.conf rejects"):
        instance.connect(instance.ports[before["primary"]]).close()
    wait_for(lambda: instance.replica_has(f"SELECT count(*) FROM items WHERE id >= 1000 AND id <= {max(acks)}",
                                          len(acks)), 20, "every acknowledged write on the replica")


@pytest.mark.local
def test_with_both_hosts_down_the_replica_waits_to_be_promoted_by_hand(instance):
    whole(instance)
    with instance.connect() as conn:
        conn.execute("INSERT INTO items VALUES (5000)")
    wait_for(lambda: instance.replica_has("SELECT count(*) FROM items WHERE id = 5000", 1), 10, "row 5000")
    instance.fault("replica", "detach")
    # detached means no WAL receiver any more, the moment the call returns (it was not: ci19 saw
    # row 5001 reach the replica)
    assert instance.replica_has("SELECT count(*) FROM pg_stat_wal_receiver", 0)
    with instance.connect() as conn:
        conn.execute("INSERT INTO items VALUES (5001)")
    primary = instance.roles()["primary"]
    instance.fault("standby", "stop")
    instance.fault("primary", "kill")
    time.sleep(2.5)
    found = instance.status()
    assert {n["name"]: n["role"] for n in found["nodes"]}[REPLICA] == "replica"
    assert not any(f["to"] == REPLICA for f in found["failovers"])
    with instance.connect(instance.ports["replica"]) as conn:     # as a replica rebuilt by pg_rewind
        conn.execute("ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (host_a)'")   # carries it
        conn.execute("SELECT pg_reload_conf()")
    instance.fault("replica", "promote")
    with instance.connect(instance.ports["replica"]) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is False
        # else its first commit as a standalone instance waits for a standby it will never have
        assert conn.execute("SHOW synchronous_standby_names").fetchone()[0] == ""
        assert conn.execute("SELECT count(*) FROM items WHERE id IN (5000, 5001)").fetchone()[0] == 1  # 5001 lost
        conn.execute("INSERT INTO items VALUES (5002)")                     # a standalone instance now
    instance.fault("standby", "restart")
    instance.fault("replica", "rebuild")
    whole(instance)
    assert instance.roles()["primary"] == primary                           # restarted in place
    assert instance.replica_has("SELECT count(*) FROM items WHERE id IN (5000, 5001, 5002)", 2)


# ---- the service, through labrunner's commands -----------------------------------------------------

def _master(cli):
    """connect(port) as the master user, with the credentials `labrunner env` gives; the instance port."""
    env = {}
    for line in cli("env", "--shell", "sh").out.splitlines():
        if "=" in line:
            key, _, value = line.replace("export ", "", 1).partition("=")
            env[key.strip()] = value.strip().strip("'\"")

    def connect(port):
        return psycopg.connect(host="127.0.0.1", port=port, user=env["PGUSER"], password=env["PGPASSWORD"],
                               dbname=env["PGDATABASE"], connect_timeout=5, autocommit=True)
    return connect, int(env["PGPORT"])


@pytest.fixture
def lab(cli):
    result = cli("run", "rds-postgres-replicas", "--runtime", "local", "--no-input")
    assert result.code == 0, result
    yield
    cli("down", "--all", "--wipe")


@pytest.mark.local
def test_status_failover_and_fault_through_the_cli(cli, lab):
    report = cli("status", "--json").json()["labs"][0]["services"][0]
    roles = {n["name"]: (n["role"], n["zone"]) for n in report["nodes"]}
    assert roles == {"host-a": ("primary", "az-a"), "host-b": ("standby", "az-b"), "replica-1": ("replica", "az-c")}
    connect, _ = _master(cli)                       # right after `run`: the standby is closed already
    with pytest.raises(psycopg.OperationalError, match="pg_hba.conf rejects"):
        connect(next(n["port"] for n in report["nodes"] if n["name"] == "host-b")).close()

    result = cli("failover", "rds-postgres-multiaz", "--target", "replica-1")
    assert result.code != 0 and "not a failover target" in result.err and "Traceback" not in result.err, result

    result = cli("failover", "rds-postgres-multiaz")
    assert result.code == 0 and "host-b is the primary now" in result.out, result
    result = cli("fault", "kill", "rds-postgres-multiaz/primary")
    assert result.code == 0 and "host-b" in result.out and "standby" in result.out, result
    result = cli("check", "--json")                 # at once: the new primary serves
    assert "not answering" not in result.err, result
    assert result.json()["passed"] is False and "no table shop.orders" in result.out


@pytest.mark.docker
def test_on_docker_the_aurora_image_runs_it_on_loopback_with_a_standby_that_refuses(cli, docker_runtime):
    """The same image as aurora-postgresql, started with the Multi-AZ supervisor: every port
    published on 127.0.0.1, the standby's port refuses the master user, a kill moves the
    instance endpoint to the other host."""
    if not os.environ.get("LABRUNNER_IMAGE_AURORA_POSTGRESQL"):
        pytest.skip("LABRUNNER_IMAGE_AURORA_POSTGRESQL is not set (source images/overrides.env)")
    result = cli("run", "rds-postgres-replicas", "--runtime", "docker", "--no-input")
    assert result.code == 0, result
    try:
        containers = docker_runtime.client.containers.list(
            filters={"label": ["org.labrunner.service=rds-postgres-multiaz",
                              f"org.labrunner.home={docker_home_label()}"]})
        assert len(containers) == 1
        bindings = [b for found in containers[0].ports.values() if found for b in found]
        assert len(bindings) == 6 and {b["HostIp"] for b in bindings} == {"127.0.0.1"}, bindings

        connect, instance_port = _master(cli)
        report = cli("status", "--json").json()["labs"][0]["services"][0]
        ports = {n["name"]: n["port"] for n in report["nodes"]}
        roles = {n["role"]: n["name"] for n in report["nodes"]}
        with pytest.raises(psycopg.OperationalError, match="pg_hba.conf rejects"):
            connect(ports[roles["standby"]]).close()
        with connect(instance_port) as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is False
        result = cli("fault", "kill", "rds-postgres-multiaz/primary")
        assert result.code == 0, result

        def moved():
            with connect(instance_port) as conn:
                return conn.execute("SELECT NOT pg_is_in_recovery()").fetchone()[0] and \
                    {n["role"]: n["name"] for n in cli("status", "--json").json()["labs"][0]["services"][0]["nodes"]
                     }["primary"] == roles["standby"]
        wait_for(moved, 30, "the instance endpoint to reach the former standby")
    finally:
        cli("down", "--all", "--wipe")


@pytest.mark.local
def test_promote_through_the_cli_makes_the_replica_standalone_and_new_replica_puts_one_back(cli, lab):
    connect, primary = _master(cli)

    def replica_port():
        report = cli("status", "--json").json()["labs"][0]["services"][0]
        return next(n["port"] for n in report["nodes"] if n["name"] == "replica-1")

    def role():
        report = cli("status", "--json").json()["labs"][0]["services"][0]
        return next(n["role"] for n in report["nodes"] if n["name"] == "replica-1")

    with connect(replica_port()) as conn:           # a replica: a write is refused
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE promoted_here (x int)")
    result = cli("promote", "rds-postgres-multiaz")
    assert result.code == 0 and "promoted replica-1" in result.out and "no longer follows" in result.out, result
    assert role() == "standalone"
    with connect(replica_port()) as conn:           # standalone: it takes writes on its own endpoint
        conn.execute("CREATE TABLE promoted_here (x int)")
    with connect(primary) as conn:                  # and the primary never hears of them
        assert conn.execute("SELECT to_regclass('public.promoted_here')").fetchone()[0] is None
    again = cli("promote", "rds-postgres-multiaz")
    assert again.code != 0 and "already a standalone instance" in again.err and "Traceback" not in again.err
    assert "--new-replica" in again.err and again.err.count("\n") == 1
    solved = cli("solve", "--yes")                  # step 1's check needs a whole instance, replica included
    assert "--new-replica" in solved.out + solved.err and "promoted to a standalone instance" in solved.out + solved.err, solved

    result = cli("promote", "rds-postgres-multiaz", "--new-replica")
    assert result.code == 0 and "new read replica" in result.out, result
    assert role() == "replica"
    with connect(replica_port()) as conn:
        assert conn.execute("SELECT pg_is_in_recovery(), to_regclass('public.promoted_here')").fetchone() == (True, None)
    assert cli("check", "--json").json()["passed"] is True


@pytest.mark.local
def test_promote_on_a_service_without_a_read_replica_is_one_line(cli):
    assert cli("run", "dynamodb-basics", "--runtime", "local", "--no-input").code == 0
    try:
        result = cli("promote", "dynamodb")
        assert result.code != 0 and result.err.count("\n") == 1 and "Traceback" not in result.err
        assert "dynamodb has no read replica to promote" in result.err and "rds-postgres-replicas" in result.err
    finally:
        cli("down", "--all", "--wipe")
