"""The Aurora PostgreSQL stand-in's supervisor, run as its own process against three real
PostgreSQL servers: endpoints, read-only readers, failover without losing acknowledged writes,
rejoin of the old writer, planned failover, restart with roles kept, adoption after SIGKILL."""

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
from pathlib import Path

import psutil
import psycopg
import pytest

from aurora_helpers import NODE_NAMES, SRC, Cluster, Writer, wait_for

pytestmark = pytest.mark.local


# The supervisor, run with one test hook: when DATA/hold-next-start exists, the next node start
# waits that many seconds first (and removes the file). A node restart then leaves the node down
# for longer than the monitor's tick, so a test sees what the monitor does meanwhile; without a
# hold the node is down for microseconds and no tick could ever land in between.
HELD_SUPERVISOR = """
import sys, time
from pathlib import Path
from labrunner.services import aurora_cluster, aurora_node

data = Path(sys.argv[sys.argv.index("--data") + 1])
real_start = aurora_node.Node.start

def start(self, *args, **kwargs):
    hold = data / "hold-next-start"
    if hold.exists():
        seconds = float(hold.read_text())
        hold.unlink()
        time.sleep(seconds)
    return real_start(self, *args, **kwargs)

aurora_node.Node.start = start
sys.exit(aurora_cluster.main(sys.argv[1:]))
"""


class HeldCluster(Cluster):
    def argv(self) -> list[str]:
        return [sys.executable, "-c", HELD_SUPERVISOR, *super().argv()[3:]]

    def hold_next_start(self, seconds: float) -> None:
        (self.data / "hold-next-start").write_text(str(seconds))


@pytest.fixture(scope="module")
def cluster():
    c = HeldCluster()
    try:
        c.start()
        with c.connect() as conn:
            conn.execute("CREATE TABLE items (id bigint PRIMARY KEY, note text)")
        yield c
    finally:
        c.destroy()


def healthy(cluster: Cluster, timeout: float = 60) -> None:
    wait_for(cluster.all_healthy, timeout, "every node to be healthy and streaming")


def test_write_through_the_cluster_endpoint_read_back_through_the_reader_endpoint(cluster):
    healthy(cluster)
    with cluster.connect() as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is False
        conn.execute("INSERT INTO items VALUES (1, 'written to the writer')")
    # Replication is synchronous to ANY 1 reader, so a row may need a moment to reach the other.
    for _ in range(4):
        note = wait_for(lambda: cluster.scalar("SELECT note FROM items WHERE id = 1", cluster.ports["reader"]),
                        10, "the row on a reader")
        assert note == "written to the writer"
    with cluster.connect(cluster.ports["reader"]) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True


def test_a_reader_refuses_writes(cluster):
    healthy(cluster)
    reader = next(n for n in cluster.status()["nodes"] if n["role"] == "reader")
    for port in (cluster.ports["reader"], reader["port"]):       # reader endpoint and instance endpoint
        with cluster.connect(port) as conn:
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction,
                               match="cannot execute INSERT in a read-only transaction"):
                conn.execute("INSERT INTO items VALUES (2, 'refused')")


def test_the_reader_endpoint_spreads_new_connections_over_both_readers(cluster):
    healthy(cluster)
    readers = {n["port"] for n in cluster.status()["nodes"] if n["role"] == "reader"}
    accepted = cluster.status()["connections_accepted"]
    served = []
    for _ in range(6):
        with cluster.connect(cluster.ports["reader"]) as conn:
            served.append(conn.execute("SELECT inet_server_port()").fetchone()[0])
    assert set(served) == readers, served
    assert all(a != b for a, b in zip(served, served[1:])), f"not round-robin: {served}"
    # Each endpoint counts the connections it took (a check tells the cluster endpoint from a
    # hard-coded instance endpoint by this): six through the reader endpoint, none through the
    # cluster endpoint, and a connection straight to a node is no endpoint's.
    with cluster.connect(sorted(readers)[0]):
        pass
    after = cluster.status()["connections_accepted"]
    assert (after["reader"] - accepted["reader"], after["cluster"] - accepted["cluster"]) == (6, 0), (accepted, after)


def test_status_shows_roles_zones_ports_lag_and_everything_listens_on_loopback_only(cluster):
    healthy(cluster)
    status = cluster.status()
    nodes = {n["name"]: n for n in status["nodes"]}
    assert set(nodes) == set(NODE_NAMES)
    assert {n["zone"] for n in nodes.values()} == {"az-a", "az-b", "az-c"}
    assert [n["name"] for n in nodes.values() if n["role"] == "writer"] == [status["writer"]]
    for name, node in nodes.items():
        assert node["port"] == cluster.ports[name] and node["alive"]
        assert isinstance(node["replay_lag_bytes"], int) and isinstance(node["replay_lag_seconds"], float)
    processes = [psutil.Process(cluster.proc.pid)] + [psutil.Process(cluster.postmaster_pid(n)) for n in NODE_NAMES]
    listening = {(c.laddr.ip, c.laddr.port) for p in processes for c in p.net_connections("inet")
                 if c.status == psutil.CONN_LISTEN}
    assert {ip for ip, _ in listening} == {"127.0.0.1"}
    assert {port for _, port in listening} == {cluster.port, *cluster.ports.values()}
    if os.geteuid() == 0:           # PostgreSQL refuses root: the nodes run as the unprivileged user
        assert all(p.username() != "root" for p in processes[1:])


def test_killing_the_writer_fails_over_without_losing_an_acknowledged_write(cluster):
    healthy(cluster)
    with cluster.connect() as conn:
        conn.execute("CREATE TABLE acks (id bigint PRIMARY KEY)")
    old = cluster.writer()
    client = Writer(cluster, "acks")
    client.start()
    wait_for(lambda: len(client.acked) > 200, 20, "the client to be writing")
    code, reply = cluster.post("/fault", {"node": "writer", "action": "kill"})
    killed = time.monotonic()
    assert code == 200 and reply["node"] == old, reply
    wait_for(lambda: client.first_ack_after(killed) is not None and len(client.acked) > 0, 20,
             "a write accepted after the kill")
    outage = client.first_ack_after(killed)
    wait_for(lambda: client.first_ack_after(killed + 1.0) is not None, 20, "writes going on")
    client.stop()
    new = cluster.writer()
    assert new != old, "the cluster endpoint still names the killed writer"
    assert outage < 10, f"writes were refused for {outage:.1f} s"
    with cluster.connect() as conn:          # the same cluster endpoint reaches the new writer
        assert conn.execute("SELECT inet_server_port(), pg_is_in_recovery()").fetchone() == (
            cluster.ports[new], False)
        stored = {row[0] for row in conn.execute("SELECT id FROM acks")}
    lost = sorted(set(client.acked) - stored)
    assert len(client.acked) > 200 and lost == [], f"{len(lost)} acknowledged writes lost: {lost[:10]}"
    failover = cluster.status()["failovers"][-1]
    assert failover["from"] == old and failover["to"] == new and not failover["planned"]
    # The old writer comes back by itself, as a reader that has every row.
    wait_for(lambda: cluster.roles()[old] == "reader" and cluster.all_healthy(), 60, f"{old} to rejoin as a reader")
    count = len(stored)
    assert wait_for(lambda: cluster.scalar("SELECT count(*) FROM acks", cluster.ports[old]) == count, 20,
                    f"{old} to have all {count} rows")
    assert cluster.scalar("SELECT pg_is_in_recovery()", cluster.ports[old]) is True


def test_a_commit_is_acknowledged_only_once_a_reader_has_it(cluster):
    """Why no acknowledged write is lost: commits wait until ANY 1 reader has flushed them.
    With every reader paused a commit waits; when no reader answers for a few seconds the
    supervisor lets the writer carry on alone (as the status says), and turns it back on."""
    healthy(cluster)
    wait_for(lambda: (cluster.status()["synchronous_standby_names"] or "").startswith("ANY 1 ("), 10,
             "synchronous replication to a reader")
    readers = [n["name"] for n in cluster.status()["nodes"] if n["role"] == "reader"]
    done = threading.Event()

    def insert():
        with cluster.connect() as conn:
            conn.execute("INSERT INTO items VALUES (300, 'while the readers were paused')")
        done.set()

    for name in readers:
        assert cluster.post("/fault", {"node": name, "action": "pause"})[0] == 200
    try:
        threading.Thread(target=insert, daemon=True).start()
        assert not done.wait(1.5), "a commit was acknowledged while no reader could have it"
        assert done.wait(10), "the writer did not carry on alone with every reader paused"
        # the status reads the writer's last probe: it says so within a monitor tick or two
        wait_for(lambda: cluster.status()["synchronous_standby_names"] == "", 5,
                 "the status to say the writer carries on alone")
        # No reader answers: the reader endpoint falls back to the writer, as Aurora's does.
        writer_port = cluster.ports[cluster.writer()]
        assert cluster.scalar("SELECT inet_server_port()", cluster.ports["reader"]) == writer_port
    finally:
        for name in readers:
            cluster.post("/fault", {"node": name, "action": "resume"})
    wait_for(lambda: (cluster.status()["synchronous_standby_names"] or "").startswith("ANY 1 ("), 20,
             "synchronous replication to come back")


def test_a_reset_that_drops_the_supervisors_role_and_parameters_is_repaired(cluster):
    """A lab reset (or a learner) may drop every role and reset every parameter on the writer:
    the supervisor puts its role and synchronous replication back, and failover still works."""
    healthy(cluster)
    with cluster.connect() as conn:
        conn.execute("ALTER SYSTEM RESET ALL")
        conn.execute("SELECT pg_reload_conf()")
        conn.execute("DROP ROLE rdsadmin")
    wait_for(lambda: cluster.scalar("SELECT count(*) FROM pg_roles WHERE rolname = 'rdsadmin'") == 1, 15,
             "the supervisor's role to be restored")
    wait_for(lambda: cluster.scalar("SHOW synchronous_standby_names").startswith("ANY 1 ("), 15,
             "synchronous replication to be set again")
    old = cluster.writer()
    code, record = cluster.post("/failover", {})
    assert code == 200 and record["from"] == old, record
    wait_for(cluster.all_healthy, 60, "every node healthy after the failover")


def test_a_killed_reader_comes_back_by_itself(cluster):
    healthy(cluster)
    reader = next(n["name"] for n in cluster.status()["nodes"] if n["role"] == "reader")
    before = cluster.postmaster_pid(reader)
    code, _ = cluster.post("/fault", {"node": reader, "action": "kill"})
    assert code == 200
    wait_for(lambda: not psutil.pid_exists(before) or psutil.Process(before).status() == psutil.STATUS_ZOMBIE,
             5, "the reader's postmaster to die")
    wait_for(lambda: cluster.postmaster_pid(reader) not in (None, before) and cluster.all_healthy(), 40,
             f"{reader} to come back")
    assert cluster.roles()[reader] == "reader"


def test_planned_failover_promotes_the_target_and_rejoins_the_old_writer(cluster):
    healthy(cluster)
    old = cluster.writer()
    target = next(n for n in NODE_NAMES if n != old)
    with cluster.connect() as conn:
        conn.execute("INSERT INTO items VALUES (100, 'before the planned failover')")
    code, record = cluster.post("/failover", {"target": target})
    assert code == 200 and record["from"] == old and record["to"] == target and record["planned"], record
    assert cluster.writer() == target and cluster.roles()[old] == "reader"
    # The old writer is already a running reader when the call returns.
    assert cluster.scalar("SELECT pg_is_in_recovery()", cluster.ports[old]) is True
    with cluster.connect() as conn:
        assert conn.execute("SELECT inet_server_port()").fetchone()[0] == cluster.ports[target]
        assert conn.execute("SELECT note FROM items WHERE id = 100").fetchone()[0] == "before the planned failover"
        conn.execute("INSERT INTO items VALUES (101, 'after')")
    wait_for(lambda: cluster.scalar("SELECT count(*) FROM items WHERE id = 101", cluster.ports[old]) == 1, 20,
             f"{old} to replicate from {target}")
    code, reply = cluster.post("/failover", {"target": target})
    assert code == 400 and "already the writer" in reply["error"]
    code, reply = cluster.post("/fault", {"node": "nowhere", "action": "kill"})
    assert code == 400 and "unknown node" in reply["error"]


def test_a_stopped_writer_fails_over_and_stays_down_until_restarted(cluster):
    healthy(cluster)
    old = cluster.writer()
    code, reply = cluster.post("/fault", {"node": "writer", "action": "stop"})
    assert code == 200 and reply["node"] == old
    wait_for(lambda: cluster.writer() != old, 15, "a failover from the stopped writer")
    time.sleep(6)                                    # longer than a crashed node takes to come back
    node = next(n for n in cluster.status()["nodes"] if n["name"] == old)
    assert node["stopped"] and not node["alive"] and not node["process"], node
    code, reply = cluster.post("/fault", {"node": old, "action": "restart"})
    assert code == 200 and reply["role"] == "reader", reply
    assert cluster.scalar("SELECT pg_is_in_recovery()", cluster.ports[old]) is True
    healthy(cluster)


def test_restarting_the_writer_keeps_it_the_writer(cluster):
    """A reboot is not a failover: while the writer restarts, the monitor must leave it alone.
    The restart is held down for 2 s (8 of the monitor's 0.25 s ticks) between stop and start,
    long enough that a monitor not told about the restart fails over to a reader."""
    from labrunner.services.aurora_cluster import POLL

    healthy(cluster)
    writer = cluster.writer()
    before = cluster.postmaster_pid(writer)
    failovers = len(cluster.status()["failovers"])
    hold = 2.0
    assert hold > 4 * (POLL / 2), "the hold must span several monitor ticks"
    cluster.hold_next_start(hold)
    began = time.monotonic()
    code, reply = cluster.post("/fault", {"node": "writer", "action": "restart"})
    assert time.monotonic() - began >= hold, "the restart was not held down: the test proves nothing"
    assert not (cluster.data / "hold-next-start").exists()
    assert code == 200 and (reply["node"], reply["action"], reply["role"]) == (writer, "restart", "writer"), reply
    assert "still the writer" in reply["said"]
    assert cluster.postmaster_pid(writer) != before and cluster.writer() == writer
    assert len(cluster.status()["failovers"]) == failovers, cluster.status()["failovers"][failovers:]
    with cluster.connect() as conn:
        conn.execute("INSERT INTO items VALUES (400, 'after a reboot')")


def test_a_hung_writer_is_failed_over_and_fenced(cluster):
    healthy(cluster)
    old = cluster.writer()
    paused = cluster.postmaster_pid(old)
    assert cluster.post("/fault", {"node": "writer", "action": "pause"})[0] == 200
    wait_for(lambda: cluster.writer() != old, 20, "a failover from the paused writer")
    wait_for(lambda: not psutil.pid_exists(paused) or psutil.Process(paused).status() == psutil.STATUS_ZOMBIE, 5,
             "the paused writer to be fenced (killed)")
    wait_for(lambda: cluster.roles()[old] == "reader" and cluster.all_healthy(), 60, f"{old} to rejoin")
    assert cluster.scalar("SELECT pg_is_in_recovery()", cluster.ports[old]) is True


def test_the_base_backup_and_wal_archive_restore_to_a_point_in_time(cluster, tmp_path):
    """What point-in-time restore is built on: the base backup taken at creation plus the WAL
    archive (across every failover so far) recover a copy to the second before a bad DELETE."""
    from aurora_helpers import free_ports
    from labrunner.services.aurora_node import bin_dir, drop_root, hand_over, set_auto_conf

    healthy(cluster)
    with cluster.connect() as conn:
        conn.execute("CREATE TABLE ledger (id int PRIMARY KEY, amount int)")
        conn.execute("INSERT INTO ledger SELECT g, g * 7 FROM generate_series(1, 57) g")
        time.sleep(1.1)
        target = conn.execute("SELECT clock_timestamp()").fetchone()[0]
        time.sleep(1.1)
        conn.execute("DELETE FROM ledger WHERE id > 5")
        segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]
    archive = cluster.data / "archive"
    wait_for(lambda: (archive / segment).exists(), 30, f"{segment} in the archive")
    backups = json.loads((cluster.data / "cluster.json").read_text())["backups"]
    assert backups, "no base backup was taken when the cluster was created"
    copy = Path(tempfile.mkdtemp(prefix="labrunner-aurora-pitr-"))
    try:
        shutil.copytree(cluster.data / backups[0]["path"], copy / "pgdata")
        pgdata = copy / "pgdata"
        pgdata.chmod(0o700)
        (pgdata / "postmaster.pid").unlink(missing_ok=True)
        set_auto_conf(pgdata, {"restore_command": f"cp {archive}/%f %p", "recovery_target_time": target.isoformat(),
                               "recovery_target_action": "promote", "recovery_target_timeline": "latest"})
        (pgdata / "recovery.signal").touch()
        hand_over(copy)
        port = free_ports(1)[0]
        server = subprocess.Popen([os.path.join(bin_dir(), "postgres"), "-D", str(pgdata), "-p", str(port),
                                   "-c", "archive_mode=off", "-c", "synchronous_standby_names="],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **drop_root())
        try:
            restored = wait_for(lambda: cluster.scalar("SELECT NOT pg_is_in_recovery() AND true", port), 60,
                                "the restored copy to finish recovery")
            assert restored
            assert cluster.scalar("SELECT count(*) FROM ledger", port) == 57
            assert cluster.scalar("SELECT sum(amount) FROM ledger", port) == 7 * 57 * 58 // 2
        finally:
            server.terminate()
            server.wait(30)
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    assert cluster.scalar("SELECT count(*) FROM ledger") == 5          # the cluster itself is untouched


def test_stop_and_start_keeps_data_and_roles(cluster):
    healthy(cluster)
    if cluster.writer() == "aurora-1":          # make the roles differ from a fresh cluster's
        assert cluster.post("/failover", {"target": "aurora-3"})[0] == 200
    roles = cluster.roles()
    rows = cluster.scalar("SELECT count(*) FROM items")
    # The master password was needed once, to create the cluster; the file is gone.
    assert not (cluster.data / "credentials.json").exists()
    assert cluster.stop() == 0
    assert all(cluster.postmaster_pid(n) is None or not psutil.pid_exists(cluster.postmaster_pid(n))
               for n in NODE_NAMES), "a node still runs after SIGTERM"
    cluster.start()
    assert "existing cluster" in cluster.tail(8) and "initdb" not in cluster.tail(8)
    assert cluster.roles() == roles
    assert cluster.scalar("SELECT count(*) FROM items") == rows
    writer = next(name for name, role in roles.items() if role == "writer")
    assert cluster.scalar("SELECT inet_server_port()") == cluster.ports[writer]


def test_a_sigkilled_supervisor_is_restarted_and_adopts_its_running_nodes(cluster):
    healthy(cluster)
    pids = {n: cluster.postmaster_pid(n) for n in NODE_NAMES}
    writer = cluster.writer()
    cluster.proc.send_signal(signal.SIGKILL)
    cluster.proc.wait(10)
    assert all(psutil.pid_exists(pid) for pid in pids.values()), "nodes died with the supervisor"
    cluster.start()
    assert {n: cluster.postmaster_pid(n) for n in NODE_NAMES} == pids, "nodes were restarted, not adopted"
    assert cluster.writer() == writer
    with cluster.connect() as conn:
        conn.execute("INSERT INTO items VALUES (200, 'after adoption')")
    # The adopted writer is still watched: killing it now fails over as before.
    assert cluster.post("/fault", {"node": "writer", "action": "kill"})[0] == 200
    wait_for(lambda: cluster.writer() != writer, 15, "a failover from the adopted writer")
    assert cluster.scalar("SELECT note FROM items WHERE id = 200") == "after adoption"


def test_bad_arguments_and_missing_credentials_are_one_line_errors(tmp_path):
    env = {**os.environ, "PYTHONPATH": SRC}
    for key in ("LABRUNNER_MASTER_USER", "LABRUNNER_MASTER_PASSWORD", "LABRUNNER_MASTER_DATABASE"):
        env.pop(key, None)
    base = [sys.executable, "-m", "labrunner.services.aurora_cluster", "--data", str(tmp_path), "--port", "1"]
    done = subprocess.run(base + ["--ports", '{"reader": 2}'], capture_output=True, text=True, env=env)
    assert done.returncode != 0 and "--ports needs an integer port for each of" in done.stderr
    assert "Traceback" not in done.stderr
    ports = json.dumps({"reader": 2, "control": 3, "aurora-1": 4, "aurora-2": 5, "aurora-3": 6})
    done = subprocess.run(base + ["--ports", ports], capture_output=True, text=True, env=env)
    assert done.returncode != 0 and "LABRUNNER_MASTER_USER" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
