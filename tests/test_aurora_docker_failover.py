"""The Aurora stand-in on the Docker runtime loses no acknowledged write when its writer is killed
under a write load (the local runtime's twin is in test_aurora_cluster.py)."""

from __future__ import annotations

import time

import pytest

from aurora_helpers import Writer, wait_for


@pytest.fixture
def cluster(docker_runtime):
    from aurora_docker import DockerCluster

    c = DockerCluster()
    try:
        c.start()
        yield c
    finally:
        c.destroy()


def test_a_killed_writer_in_the_container_fails_over_without_losing_an_acknowledged_write(cluster):
    wait_for(cluster.all_healthy, 60, "every node healthy and streaming")
    wait_for(lambda: (cluster.status()["synchronous_standby_names"] or "").startswith("ANY 1 ("), 30,
             "synchronous replication to a reader")
    with cluster.connect() as conn:
        conn.execute("CREATE TABLE acks (id bigint PRIMARY KEY)")
    old = cluster.writer()
    client = Writer(cluster, "acks")
    client.start()
    wait_for(lambda: len(client.acked) > 200, 30, "the client to be writing")
    code, reply = cluster.post("/fault", {"node": "writer", "action": "kill"})
    killed = time.monotonic()
    assert code == 200 and reply["node"] == old, reply
    wait_for(lambda: client.first_ack_after(killed) is not None, 30, "a write accepted after the kill")
    outage = client.first_ack_after(killed)
    wait_for(lambda: client.first_ack_after(killed + 1.0) is not None, 20, "writes going on")
    client.stop()
    new = cluster.writer()
    assert new != old and outage < 10, (old, new, outage)
    with cluster.connect() as conn:          # the same published cluster endpoint reaches the new writer
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is False
        stored = {row[0] for row in conn.execute("SELECT id FROM acks")}
    lost = sorted(set(client.acked) - stored)
    assert len(client.acked) > 200 and lost == [], f"{len(lost)} acknowledged writes lost: {lost[:10]}"
    wait_for(lambda: cluster.roles()[old] == "reader" and cluster.all_healthy(), 90, f"{old} to rejoin as a reader")
    assert wait_for(lambda: cluster.scalar("SELECT count(*) FROM acks", cluster.ports[old]) == len(stored), 20,
                    f"{old} to have every row")
