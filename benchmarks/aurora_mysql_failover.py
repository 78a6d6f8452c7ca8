"""Failover time of the Aurora MySQL stand-in (three MariaDB nodes), and acknowledged writes lost.

    python benchmarks/aurora_mysql_failover.py [--runs N] [--runtime local|docker]

local (the default): one cluster supervisor on free ports in a temp folder. docker: the
aurora-mysql container as `labrunner run --runtime docker` starts it (source images/overrides.env
first). Each run: wait until every node is healthy and replicating, start a client that inserts
rows through the cluster endpoint as fast as it can (reconnecting on any error), kill the writer
through the control API, and measure writer killed -> first write (sent after the kill)
acknowledged through the same cluster endpoint; count the acknowledged ids missing from the table
(lost writes) and the time until the old writer is back as a reader (rebuilt and caught up).
Prints median and max. Exit status 1 if any acknowledged write was lost.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "src"))
from aurora_helpers import wait_for  # noqa: E402
from aurora_mysql_helpers import DockerMysqlCluster, MysqlCluster, Writer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--runtime", choices=("local", "docker"), default="local")
    args = parser.parse_args()
    if args.runtime == "docker":
        os.environ.setdefault("LABRUNNER_HOME", tempfile.mkdtemp(prefix="labrunner-failover-"))
        cluster = DockerMysqlCluster()
    else:
        cluster = MysqlCluster()
    print(f"runtime: {args.runtime}")
    began = time.monotonic()
    try:
        cluster.start()
        print(f"cluster created and ready in {time.monotonic() - began:.1f} s")
        wait_for(cluster.all_healthy, 90, "every node replicating")
        with cluster.connect() as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE acks (id BIGINT PRIMARY KEY)")
        outages, rejoins, lost_total, acked_total, next_id = [], [], 0, 0, 0
        for run in range(1, args.runs + 1):
            wait_for(lambda: cluster.all_healthy() and cluster.status()["semi_sync"], 120, "a healthy cluster")
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
            with cluster.connect() as conn, conn.cursor() as cur:
                cur.execute("SELECT id FROM acks WHERE id >= %s", (client.acked[0],))
                stored = {row[0] for row in cur.fetchall()}
            lost = len(set(client.acked) - stored)
            wait_for(lambda: cluster.roles()[old] == "reader" and cluster.all_healthy(), 180, f"{old} to rejoin")
            rejoin = time.monotonic() - killed
            new = cluster.writer()
            outages.append(outage)
            rejoins.append(rejoin)
            lost_total += lost
            acked_total += len(client.acked)
            print(f"run {run:2d}: {old} killed -> {new} took a write after {outage:.2f} s; "
                  f"{len(client.acked)} acknowledged, {lost} lost; {old} back as a reader after {rejoin:.1f} s",
                  flush=True)
        print(f"\nwriter killed -> first write through the cluster endpoint, {len(outages)} runs: "
              f"median {statistics.median(outages):.2f} s, max {max(outages):.2f} s")
        print(f"old writer back as a reader (rebuilt, caught up): median {statistics.median(rejoins):.1f} s, "
              f"max {max(rejoins):.1f} s")
        print(f"acknowledged writes lost: {lost_total} of {acked_total}")
        failovers = cluster.status()["failovers"]
        print(f"supervisor's own failover time (detected -> promoted): median "
              f"{statistics.median(f['seconds'] for f in failovers):.2f} s, max {max(f['seconds'] for f in failovers):.2f} s")
        return 1 if lost_total else 0
    finally:
        if cluster.proc and cluster.proc.poll() is None:
            cluster.stop()
        cluster.destroy()


if __name__ == "__main__":
    sys.exit(main())
