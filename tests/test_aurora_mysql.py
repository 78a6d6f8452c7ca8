"""The Aurora MySQL stand-in's supervisor against three real MariaDB servers, on the local runtime
(its own process) and on Docker (its container as labrunner starts it): endpoints, read-only
readers (ERROR 1290), loopback only, a writer kill that fails over without losing an acknowledged
write and rebuilds the old writer as a reader, planned failover, a killed reader coming back."""

from __future__ import annotations

import os
import time

import psutil
import pymysql
import pytest

from aurora_helpers import wait_for
from aurora_mysql_helpers import NODE_NAMES, DockerMysqlCluster, MysqlCluster, Writer


def _start(kind):
    cluster = MysqlCluster() if kind == "local" else DockerMysqlCluster()
    try:
        cluster.start()
        with cluster.connect() as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE items (id BIGINT PRIMARY KEY, note VARCHAR(100))")
    except BaseException:
        cluster.destroy()
        raise
    return cluster


@pytest.fixture(scope="module")
def cluster():
    c = _start("local")
    yield c
    c.destroy()


def healthy(cluster, timeout: float = 90) -> None:
    wait_for(cluster.all_healthy, timeout, "every node healthy and replicating")


def kill_the_writer_under_a_client(cluster, table: str) -> dict:
    """Kill the writer while a client writes; returns what happened (and asserts nothing was lost)."""
    healthy(cluster)
    with cluster.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {table} (id BIGINT PRIMARY KEY)")
    old = cluster.writer()
    client = Writer(cluster, table)
    client.start()
    wait_for(lambda: len(client.acked) > 200, 30, "the client to be writing")
    code, reply = cluster.post("/fault", {"node": "writer", "action": "kill"})
    killed = time.monotonic()
    assert code == 200 and reply["node"] == old, reply
    wait_for(lambda: client.first_ack_after(killed) is not None, 30, "a write sent after the kill acknowledged")
    outage = client.first_ack_after(killed)
    wait_for(lambda: client.first_ack_after(killed + 1.0) is not None, 30, "writes going on")
    client.stop()
    new = cluster.writer()
    assert new != old, "the cluster endpoint still names the killed writer"
    with cluster.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@read_only, @@server_id")
        assert cur.fetchone()[0] == 0
        cur.execute(f"SELECT id FROM {table}")
        stored = {row[0] for row in cur.fetchall()}
    lost = sorted(set(client.acked) - stored)
    assert len(client.acked) > 200 and lost == [], f"{len(lost)} acknowledged writes lost: {lost[:10]}"
    failover = cluster.status()["failovers"][-1]
    assert failover["from"] == old and failover["to"] == new and not failover["planned"]
    # The old writer comes back by itself: rebuilt as a read-only reader holding every row.
    wait_for(lambda: cluster.roles()[old] == "reader" and cluster.all_healthy(), 120, f"{old} to rejoin as a reader")
    node = next(n for n in cluster.status()["nodes"] if n["name"] == old)
    assert node["read_only"] is True and node["replica_sql"] == "Yes"
    return {"old": old, "new": new, "outage": outage, "acked": len(client.acked), "stored": stored,
            "lost": len(lost)}


# ---- local runtime -------------------------------------------------------------------------------

@pytest.mark.local
def test_a_write_through_the_cluster_endpoint_reaches_the_reader_endpoint(cluster):
    healthy(cluster)
    with cluster.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@read_only")
        assert cur.fetchone()[0] == 0
        cur.execute("INSERT INTO items VALUES (1, 'written to the writer')")
    for _ in range(4):           # each new connection may reach the other reader
        note = wait_for(lambda: cluster.scalar("SELECT note FROM items WHERE id = 1", cluster.ports["reader"]),
                        10, "the row on a reader")
        assert note == "written to the writer"
    assert cluster.scalar("SELECT @@read_only", cluster.ports["reader"]) == 1


@pytest.mark.local
def test_a_reader_refuses_writes_with_error_1290_even_for_the_master_user(cluster):
    healthy(cluster)
    reader = next(n for n in cluster.status()["nodes"] if n["role"] == "reader")
    for port in (cluster.ports["reader"], reader["port"]):     # reader endpoint and instance endpoint
        with cluster.connect(port) as conn, conn.cursor() as cur:
            with pytest.raises(pymysql.err.OperationalError) as refused:
                cur.execute("INSERT INTO items VALUES (2, 'refused')")
            assert refused.value.args[0] == 1290 and "--read-only" in refused.value.args[1]
            with pytest.raises(pymysql.err.OperationalError):       # and it cannot lift read_only
                cur.execute("SET GLOBAL read_only = 0")


@pytest.mark.local
def test_the_reader_endpoint_spreads_new_connections_over_both_readers(cluster):
    healthy(cluster)
    readers = {n["port"] for n in cluster.status()["nodes"] if n["role"] == "reader"}
    accepted = cluster.status()["connections_accepted"]
    served = [cluster.scalar("SELECT @@port", cluster.ports["reader"]) for _ in range(6)]
    assert set(served) == readers, served
    assert all(a != b for a, b in zip(served, served[1:])), f"not round-robin: {served}"
    cluster.scalar("SELECT 1", sorted(readers)[0])           # an instance endpoint: no endpoint's count
    after = cluster.status()["connections_accepted"]
    assert (after["reader"] - accepted["reader"], after["cluster"] - accepted["cluster"]) == (6, 0), (accepted, after)


@pytest.mark.local
def test_status_shows_roles_zones_and_lag_and_everything_listens_on_loopback_only(cluster):
    healthy(cluster)
    status = cluster.status()
    assert "MariaDB" in status["engine"] and "Aurora MySQL" in status["engine"]
    nodes = {n["name"]: n for n in status["nodes"]}
    assert set(nodes) == set(NODE_NAMES)
    assert {n["zone"] for n in nodes.values()} == {"az-a", "az-b", "az-c"}
    assert [n["name"] for n in nodes.values() if n["role"] == "writer"] == [status["writer"]]
    for name, node in nodes.items():
        assert node["port"] == cluster.ports[name] and node["alive"]
        assert isinstance(node["replay_lag_seconds"], float)
    processes = cluster.processes()
    assert len(processes) == 4
    listening = {(c.laddr.ip, c.laddr.port) for p in processes for c in p.net_connections("inet")
                 if c.status == psutil.CONN_LISTEN}
    assert {ip for ip, _ in listening} == {"127.0.0.1"}
    assert {cluster.port, *cluster.ports.values()} <= {port for _, port in listening}
    if os.geteuid() == 0:        # mariadbd refuses root: the nodes run as the unprivileged user
        assert all(p.username() != "root" for p in processes[1:])


@pytest.mark.local
def test_killing_the_writer_fails_over_without_losing_an_acknowledged_write(cluster):
    happened = kill_the_writer_under_a_client(cluster, "acks")
    assert happened["outage"] < 10, f"writes were refused for {happened['outage']:.1f} s"
    count = len(happened["stored"])
    old_port = cluster.ports[happened["old"]]
    assert wait_for(lambda: cluster.scalar("SELECT COUNT(*) FROM acks", old_port) == count, 30,
                    f"{happened['old']} to have all {count} rows")


@pytest.mark.local
def test_a_commit_is_acknowledged_only_once_a_reader_has_it(cluster):
    """Why no acknowledged write is lost: semi-synchronous replication. With both readers paused
    a commit waits (up to 3 s, then the writer goes on alone, as the status says) instead of
    being acknowledged at once; with a reader back, commits are acknowledged at once again."""
    healthy(cluster)
    wait_for(lambda: cluster.status()["semi_sync"], 20, "semi-synchronous replication on")
    readers = [n["name"] for n in cluster.status()["nodes"] if n["role"] == "reader"]
    for name in readers:
        assert cluster.post("/fault", {"node": name, "action": "pause"})[0] == 200
    try:
        began = time.monotonic()
        with cluster.connect() as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO items VALUES (300, 'while the readers were paused')")
        waited = time.monotonic() - began
        assert waited > 2.5, f"a commit was acknowledged after {waited:.2f} s while no reader could have it"
        assert waited < 10
        wait_for(lambda: not cluster.status()["semi_sync"], 10, "the writer to say it goes on alone")
    finally:
        for name in readers:
            cluster.post("/fault", {"node": name, "action": "resume"})
    healthy(cluster)
    wait_for(lambda: cluster.status()["semi_sync"], 20, "semi-synchronous replication back")


@pytest.mark.local
def test_failover_promotes_the_reader_that_received_most_after_it_applied_all_of_it(cluster):
    """One reader stopped replicating altogether; the other receives but does not apply (its
    applier stopped). The writer is killed: the second must be promoted, and apply what it had
    received before it takes writes, or acknowledged rows are lost."""
    healthy(cluster)
    with cluster.connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE received (id BIGINT PRIMARY KEY)")
    healthy(cluster)
    old = cluster.writer()
    ahead, behind = [n for n in NODE_NAMES if n != old]
    with cluster.connect(cluster.ports[behind]) as conn, conn.cursor() as cur:
        cur.execute("STOP SLAVE")
    with cluster.connect(cluster.ports[ahead]) as conn, conn.cursor() as cur:
        cur.execute("STOP SLAVE SQL_THREAD")
    with cluster.connect() as conn, conn.cursor() as cur:
        for i in range(40):
            cur.execute("INSERT INTO received VALUES (%s)", (i,))
    assert cluster.scalar("SELECT COUNT(*) FROM received", cluster.ports[ahead]) == 0    # received, not applied
    code, _ = cluster.post("/fault", {"node": "writer", "action": "kill"})
    assert code == 200
    wait_for(lambda: cluster.writer() != old, 20, "a failover")
    assert cluster.writer() == ahead, f"promoted {cluster.writer()}, which had received less than {ahead}"
    assert cluster.scalar("SELECT COUNT(*) FROM received") == 40
    wait_for(lambda: cluster.scalar("SELECT COUNT(*) FROM received", cluster.ports[behind]) == 40, 30,
             f"{behind} to follow the new writer")
    wait_for(lambda: cluster.roles()[old] == "reader" and cluster.all_healthy(), 120, f"{old} to rejoin")


@pytest.mark.local
def test_a_killed_reader_comes_back_by_itself_as_a_reader(cluster):
    healthy(cluster)
    reader = next(n["name"] for n in cluster.status()["nodes"] if n["role"] == "reader")
    before = cluster.node_pid(reader)
    code, _ = cluster.post("/fault", {"node": reader, "action": "kill"})
    assert code == 200
    wait_for(lambda: not psutil.pid_exists(before), 5, "the reader's mariadbd to die")
    wait_for(lambda: cluster.node_pid(reader) not in (None, before) and cluster.all_healthy(), 60,
             f"{reader} to come back")
    assert cluster.roles()[reader] == "reader"
    assert cluster.scalar("SELECT @@read_only", cluster.ports[reader]) == 1


@pytest.mark.local
def test_a_stopped_writer_stays_down_until_restart_and_a_restarted_writer_stays_the_writer(cluster):
    healthy(cluster)
    old = cluster.writer()
    code, reply = cluster.post("/fault", {"node": "writer", "action": "stop"})
    assert code == 200 and "stays down until restart" in reply["said"]
    wait_for(lambda: cluster.writer() != old, 20, "a failover")
    time.sleep(4)                                  # longer than a killed node takes to come back
    node = next(n for n in cluster.status()["nodes"] if n["name"] == old)
    assert node["stopped"] and not node["process"]
    assert cluster.post("/fault", {"node": old, "action": "restart"})[0] == 200
    healthy(cluster)
    assert cluster.roles()[old] == "reader"
    writer = cluster.writer()
    code, reply = cluster.post("/fault", {"node": "writer", "action": "restart"})
    assert code == 200 and reply["role"] == "writer"
    healthy(cluster)
    assert cluster.writer() == writer and cluster.scalar("SELECT @@read_only") == 0


@pytest.mark.local
def test_planned_failover_promotes_the_target_and_the_old_writer_follows_it(cluster):
    healthy(cluster)
    old = cluster.writer()
    target = next(n for n in NODE_NAMES if n != old)
    with cluster.connect() as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO items VALUES (100, 'before the planned failover')")
    code, record = cluster.post("/failover", {"target": target})
    assert code == 200 and record["from"] == old and record["to"] == target and record["planned"], record
    assert cluster.writer() == target
    with cluster.connect() as conn, conn.cursor() as cur:     # the same cluster endpoint, the new writer
        cur.execute("SELECT @@port, @@read_only")
        assert cur.fetchone() == (cluster.ports[target], 0)
        cur.execute("INSERT INTO items VALUES (101, 'after the planned failover')")
    healthy(cluster)
    assert wait_for(lambda: cluster.scalar("SELECT COUNT(*) FROM items WHERE id IN (100, 101)",
                                           cluster.ports[old]) == 2, 20, f"{old} to follow {target}")
    assert cluster.scalar("SELECT @@read_only", cluster.ports[old]) == 1
    code, reply = cluster.post("/failover", {"target": target})
    assert code == 400 and "already the writer" in reply["error"]


@pytest.mark.local
def test_a_stopped_supervisor_leaves_no_server_and_starts_again_with_its_roles():
    c = MysqlCluster()
    try:
        c.start()
        code, _ = c.post("/failover", {"target": "aurora-3"})
        assert code == 200
        pids = [c.node_pid(n) for n in NODE_NAMES]
        assert c.stop() == 0
        assert not any(pid and psutil.pid_exists(pid) for pid in pids)
        c.start()
        assert c.writer() == "aurora-3" and c.scalar("SELECT @@read_only") == 0
        healthy(c)
    finally:
        c.destroy()


@pytest.mark.local
def test_a_supervisor_killed_outright_is_replaced_and_adopts_its_running_nodes():
    """`run` after the supervisor (router, control) died alone: the nodes kept running and keep
    their data; the new supervisor takes them over instead of starting second copies."""
    c = MysqlCluster()
    try:
        c.start()
        with c.connect() as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE kept (id INT PRIMARY KEY)")
            cur.execute("INSERT INTO kept VALUES (1)")
        pids = {n: c.node_pid(n) for n in NODE_NAMES}
        c.proc.kill()
        c.proc.wait(10)
        assert all(psutil.pid_exists(pid) for pid in pids.values())
        c.start()
        assert {n: c.node_pid(n) for n in NODE_NAMES} == pids
        assert "adopted running aurora-1" in c.log.read_text()
        healthy(c)
        assert c.scalar("SELECT COUNT(*) FROM kept") == 1 and c.writer() == "aurora-1"
    finally:
        c.destroy()


# ---- Docker runtime -----------------------------------------------------------------------------

@pytest.mark.docker
def test_on_docker_the_container_publishes_loopback_only_and_fails_over_without_loss(docker_runtime):
    c = _start("docker")
    try:
        bindings = c.container().attrs["NetworkSettings"]["Ports"]
        published = [b for spec in bindings.values() for b in (spec or [])]
        assert published and {b["HostIp"] for b in published} == {"127.0.0.1"}
        assert {int(b["HostPort"]) for b in published} == {c.port, *c.ports.values()}
        assert "MariaDB" in c.status()["engine"]
        with c.connect(c.ports["reader"]) as conn, conn.cursor() as cur:
            with pytest.raises(pymysql.err.OperationalError) as refused:
                cur.execute("INSERT INTO items VALUES (1, 'refused')")
            assert refused.value.args[0] == 1290
        happened = kill_the_writer_under_a_client(c, "acks")
        assert happened["lost"] == 0 and happened["outage"] < 10
    finally:
        c.destroy()
