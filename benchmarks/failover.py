"""Failover time of the Aurora PostgreSQL stand-in, and its memory.

    python benchmarks/failover.py [--runs N] [--runtime local|docker]

local (the default): starts one cluster supervisor (three real PostgreSQL nodes) on free ports
in a temp folder. docker: starts the aurora-postgresql container as `labrunner run --runtime
docker` does (source images/overrides.env first), its ports published on 127.0.0.1.
Each run: wait until every node is healthy and streaming, start a client that inserts rows
through the cluster endpoint as fast as it can (reconnecting with retries), kill the writer
through the control API, and measure writer killed -> first write acknowledged through the
same cluster endpoint; then count the acknowledged ids missing from the table (lost writes)
and the time until the old writer has rejoined as a reader.
Prints median and max of the outage, lost writes in total, and the memory of the three nodes
plus the supervisor: RSS summed over every process, and PSS (shared pages divided among the
processes that share them, a fairer total for PostgreSQL's shared buffers).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "src"))
from aurora_helpers import NODE_NAMES, Cluster, Writer, wait_for  # noqa: E402


def memory(cluster: Cluster) -> tuple[float, float]:
    """(RSS sum, PSS sum) in MB over the supervisor (router, control) and every process of the
    three nodes; on Docker, every process of the container."""
    from labrunner.services import aurora_doctor

    if hasattr(cluster, "root_pid"):
        pids = aurora_doctor.family([cluster.root_pid()])
    else:
        pids = aurora_doctor.cluster_pids(cluster.proc.pid, cluster.data)
    figure = aurora_doctor.measure(pids)
    return figure["rss_mb"], figure["pss_mb"]


def synchronous(cluster: Cluster) -> bool:
    return cluster.all_healthy() and (cluster.status()["synchronous_standby_names"] or "").startswith("ANY 1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--runtime", choices=("local", "docker"), default="local")
    args = parser.parse_args()
    if args.runtime == "docker":
        import tempfile

        os.environ.setdefault("LABRUNNER_HOME", tempfile.mkdtemp(prefix="labrunner-failover-"))
        from aurora_docker import DockerCluster

        cluster = DockerCluster()
    else:
        cluster = Cluster()
    print(f"runtime: {args.runtime}")
    began = time.monotonic()
    try:
        cluster.start()
        print(f"cluster created and ready in {time.monotonic() - began:.1f} s")
        wait_for(cluster.all_healthy, 60, "every node streaming")
        with cluster.connect() as conn:
            conn.execute("CREATE TABLE acks (id bigint PRIMARY KEY)")
        wait_for(lambda: synchronous(cluster), 30, "synchronous replication")
        rss, pss = memory(cluster)
        print(f"memory, idle: RSS sum {rss:.0f} MB, PSS sum {pss:.0f} MB (3 nodes + supervisor)")
        outages, rejoins, lost_total, acked_total, next_id = [], [], 0, 0, 0
        for run in range(1, args.runs + 1):
            wait_for(lambda: synchronous(cluster), 90, "a healthy cluster")
            old = cluster.writer()
            client = Writer(cluster, "acks", start_id=next_id)
            client.start()
            wait_for(lambda: len(client.acked) > 100, 20, "the client to be writing")
            code, reply = cluster.post("/fault", {"node": "writer", "action": "kill"})
            killed = time.monotonic()
            assert code == 200, reply
            wait_for(lambda: client.first_ack_after(killed) is not None, 60, "a write after the kill")
            outage = client.first_ack_after(killed)
            time.sleep(1.0)
            client.stop()
            next_id = client.next_id + 1
            with cluster.connect() as conn:
                stored = {row[0] for row in conn.execute("SELECT id FROM acks WHERE id >= %s",
                                                         (client.acked[0],))}
            lost = len(set(client.acked) - stored)
            wait_for(lambda: cluster.roles()[old] == "reader" and synchronous(cluster), 90, f"{old} to rejoin")
            rejoin = time.monotonic() - killed
            new = cluster.writer()
            outages.append(outage)
            rejoins.append(rejoin)
            lost_total += lost
            acked_total += len(client.acked)
            print(f"run {run:2d}: {old} killed -> {new} took a write after {outage:.2f} s; "
                  f"{len(client.acked)} acknowledged, {lost} lost; {old} back as a reader after {rejoin:.1f} s")
        rss, pss = memory(cluster)
        print(f"\nwriter killed -> first write through the cluster endpoint, {len(outages)} runs: "
              f"median {statistics.median(outages):.2f} s, max {max(outages):.2f} s")
        print(f"old writer back as a reader: median {statistics.median(rejoins):.1f} s, max {max(rejoins):.1f} s")
        print(f"acknowledged writes lost: {lost_total} of {acked_total}")
        print(f"memory after the runs: RSS sum {rss:.0f} MB, PSS sum {pss:.0f} MB (3 nodes + supervisor)")
        failovers = cluster.status()["failovers"]
        print(f"supervisor's own failover time (detect -> promoted): median "
              f"{statistics.median(f['seconds'] for f in failovers):.2f} s")
        return 1 if lost_total else 0
    finally:
        if cluster.proc and cluster.proc.poll() is None:
            cluster.stop()           # SIGTERM first: the supervisor stops its nodes itself
        cluster.destroy()


if __name__ == "__main__":
    sys.exit(main())
