"""The Aurora MySQL stand-in: one supervisor process per cluster of three MariaDB servers.

    python -m labrunner.services.aurora_mysql_cluster --data DIR --port CLUSTER_PORT \\
        --ports '{"reader": P1, "control": P2, "aurora-1": P3, "aurora-2": P4, "aurora-3": P5}'

MariaDB stands in for MySQL (no MySQL server is in any registry this machine reaches).
aurora-1 (az-a) starts as the writer; aurora-2 (az-b) and aurora-3 (az-c) are GTID replicas of
it (CHANGE MASTER TO ... MASTER_USE_GTID=slave_pos, read_only=ON). The cluster endpoint (the
writer) and the reader endpoint (round-robin over healthy readers) are aurora_router's; the
control API (status, faults, planned failover) is aurora_control's.

Durability: semi-synchronous replication (AFTER_SYNC): a commit is acknowledged once a reader
has it in its relay log, so promoting the reader that RECEIVED the most (Gtid_IO_Pos), after it
has applied all it received, loses no acknowledged write. With no reader answering for 3 s the
writer goes on alone (rpl_semi_sync_master_timeout), as Aurora does not stop writes either.

Every node is made from an empty mariadb-install-db and replicates the writer's whole binary log
from the start: a reader rebuilt after a failover (the old writer) needs no copy of anyone's
files, and gets a new server id, so it applies the writes it made itself before.
State: DIR/cluster.json (roles, zones, server ids, writer, failovers), DIR/nodes/<name>,
DIR/logs/<name>.log, DIR/internal.json (root's password on every node, 0600).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import time
from pathlib import Path

from labrunner.services.aurora_control import ControlAPI, ControlError, ControlServer, _said
from labrunner.services.aurora_mysql_node import REPLICATION_USER, Node, drop_root, gtid_seq, hand_over
from labrunner.services.aurora_router import Router
from labrunner.services.aurora_setup import now as utc_now
from labrunner.services.aurora_supervisor import ClusterSupervisor, Interrupted as _Interrupted
from labrunner.services.aurora_supervisor import close_quietly as _close, parse_cluster_args, serve

NODES = (("aurora-1", "az-a"), ("aurora-2", "az-b"), ("aurora-3", "az-c"))
POLL = 0.5
STALE = 2.5
HUNG_WRITER = 8.0
RESTART_DELAY = 2.0
NOT_REPLICATING = 20.0      # a live reader whose replica threads are stopped by an error this long is rebuilt
STANDIN = "MariaDB 10.11 standing in for Aurora MySQL"


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} aurora-mysql: {message}", file=sys.stderr, flush=True)


def quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Supervisor(ClusterSupervisor, ControlAPI):
    poll, stale, hung_writer, restart_delay = POLL, STALE, HUNG_WRITER, RESTART_DELAY
    log = staticmethod(log)
    utc_now = staticmethod(utc_now)

    def __init__(self, data: Path, cluster_port: int, ports: dict[str, int], creds: dict | None,
                 listen: str = "127.0.0.1"):
        super().__init__(data, cluster_port, ports, creds, listen)
        self.nodes: dict[str, Node] = {}
        self.broken_since: dict[str, float] = {}
        self.repl_password = ""

    def save(self) -> None:
        for name, node in self.nodes.items():
            entry = self.state["nodes"][name]
            entry["role"] = "writer" if name == self.state["writer"] else "reader"
            entry["server_id"] = node.server_id
        tmp = self.data / "cluster.tmp"
        tmp.write_text(json.dumps(self.state, indent=2))
        os.replace(tmp, self.data / "cluster.json")

    # ---- start and stop -----------------------------------------------------------------------

    def run(self) -> int:
        try:
            self._load_or_init()
            self._bring_up()
            self._serve(Router, ControlServer)
            log(f"ready ({STANDIN}): {self._endpoints_said()}")
            while not self.stopping.wait(0.5):
                pass
        except (OSError, RuntimeError, _Interrupted) as exc:
            code = 0 if self.stopping.is_set() else 1
            log("interrupted while starting" if code == 0 else f"cannot start: {exc}")
            self.shutdown()
            return code
        self.shutdown()
        return 0

    def _load_or_init(self) -> None:
        internal = self.data / "internal.json"
        for name, zone in NODES:
            self.nodes[name] = Node(name, zone, self.ports[name], self.data, self.listen, self.stopping)
        if (self.data / "cluster.json").exists():
            self.state = json.loads((self.data / "cluster.json").read_text())
            secret = json.loads(internal.read_text())
            for name, node in self.nodes.items():
                node.password = secret["root"]
                node.server_id = self.state["nodes"][name]["server_id"]
            self.repl_password = secret["replication"]
            log(f"existing cluster: writer {self.state['writer']}")
            return
        if self.creds is None:
            raise RuntimeError("no master credentials for a new cluster: write DIR/credentials.json or set "
                               "LABRUNNER_MASTER_USER, LABRUNNER_MASTER_PASSWORD and LABRUNNER_MASTER_DATABASE")
        shutil.rmtree(self.data / "nodes", ignore_errors=True)
        for folder in ("nodes", "logs"):
            (self.data / folder).mkdir(mode=0o700, parents=True, exist_ok=True)
            hand_over(self.data / folder)
        secret = {"root": secrets.token_urlsafe(24), "replication": secrets.token_urlsafe(24)}
        fd = os.open(internal, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w") as fh:
            json.dump(secret, fh)
        self.repl_password = secret["replication"]
        self.state = {"engine": "aurora-mysql", "standin": STANDIN, "writer": "aurora-1", "created": utc_now(),
                      "next_server_id": 4, "failovers": [],
                      "nodes": {name: {"zone": zone, "role": "reader", "needs_rejoin": False, "server_id": i + 1}
                                for i, (name, zone) in enumerate(NODES)}}
        for i, node in enumerate(self.nodes.values()):
            node.password = secret["root"]
            node.server_id = i + 1
        writer = self.writer
        log(f"creating writer {writer.name} (mariadb-install-db)")
        self._make(writer)
        user, password, database = self.creds["user"], self.creds["password"], self.creds["database"]
        with writer.connect(5) as conn, conn.cursor() as cur:
            # What RDS gives its master user: everything but SUPER (and read_only's bypass),
            # so read_only holds it on a reader as on AWS.
            cur.execute(f"CREATE USER {quote(user)}@'%' IDENTIFIED BY {quote(password)}")
            cur.execute(f"GRANT ALL PRIVILEGES ON *.* TO {quote(user)}@'%' WITH GRANT OPTION")
            cur.execute(f"REVOKE SUPER, READ_ONLY ADMIN ON *.* FROM {quote(user)}@'%'")
            cur.execute(f"CREATE USER {REPLICATION_USER}@'%' IDENTIFIED BY {quote(self.repl_password)}")
            cur.execute(f"GRANT REPLICATION SLAVE ON *.* TO {REPLICATION_USER}@'%'")
            cur.execute(f"CREATE DATABASE `{database.replace('`', '``')}`")
            cur.execute("SET GLOBAL read_only = OFF")
        for node in self.nodes.values():
            if node is not writer:
                self._check_interrupt()
                log(f"making reader {node.name} (replicates {writer.name}'s binary log from the start)")
                self._make(node)
                self._follow(node)
        self.save()
        (self.data / "credentials.json").unlink(missing_ok=True)
        log("cluster created")

    def _make(self, node: Node) -> None:
        """An empty server, started, with root's password set on this node only (not logged)."""
        node.install()
        node.start(password="")
        with node.connect(5, password="") as conn, conn.cursor() as cur:
            cur.execute("SET sql_log_bin = 0")
            cur.execute("DROP USER IF EXISTS 'root'@'::1'")
            cur.execute(f"ALTER USER 'root'@'localhost' IDENTIFIED BY {quote(node.password)}")
            cur.execute(f"ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY {quote(node.password)}")

    def _follow(self, node: Node, use: str = "slave_pos") -> None:
        """Make a running node a read-only replica of the current writer."""
        writer = self.writer
        with node.connect(5) as conn, conn.cursor() as cur:
            cur.execute("SET GLOBAL read_only = ON")
            cur.execute("STOP SLAVE")
            cur.execute(f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={writer.port}, "
                        f"MASTER_USER='{REPLICATION_USER}', MASTER_PASSWORD={quote(self.repl_password)}, "
                        f"MASTER_USE_GTID={use}, MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=1")
            cur.execute("START SLAVE")

    def _open_for_writes(self, node: Node) -> None:
        with node.connect(5) as conn, conn.cursor() as cur:
            cur.execute("STOP SLAVE")
            cur.execute("RESET SLAVE ALL")
            cur.execute("SET GLOBAL read_only = OFF")

    def _bring_up(self) -> None:
        writer = self.writer
        for node in self.nodes.values():
            if not node.alive() and node.adopt():
                log(f"adopted running {node.name} (pid {node.pid})")
        if not writer.alive():
            writer.start()
        self._open_for_writes(writer)
        for node in self.nodes.values():
            if node is writer:
                continue
            self._check_interrupt()
            if self.state["nodes"][node.name]["needs_rejoin"]:
                node.stop()
                self._rebuild(node)
                continue
            try:
                if not node.alive():
                    node.start()
                self._follow(node)
            except Exception as exc:
                log(f"{node.name} did not come back as a reader ({exc}); rebuilding it")
                node.stop()
                self._rebuild(node)
            log(f"reader {node.name} up")

    def shutdown(self) -> None:
        self.stopping.set()
        if self.control:
            self.control.stop()
        if self.router:
            self.router.stop()
        for worker in list(self.workers.values()):
            worker.join(60)
        self._stop_nodes()
        if self.state and (self.data / "cluster.json").exists():
            self.save()
        log("stopped")

    # ---- endpoints and health -----------------------------------------------------------------

    def _serves_reads(self, node: Node) -> bool:
        return bool(node.probe["read_only"])

    def _probe_loop(self, node: Node) -> None:
        conn = None
        while not self.stopping.is_set():
            began = time.monotonic()
            if node.alive() and not node.busy:
                try:
                    if conn is None:
                        conn = node.connect(2)
                    with conn.cursor() as cur:
                        cur.execute("SELECT @@read_only, @@gtid_current_pos, @@gtid_slave_pos, @@gtid_binlog_pos")
                        read_only, current, applied, binlog = cur.fetchone()
                        cur.execute("SHOW STATUS LIKE 'Rpl_semi_sync_master_status'")
                        semi = (cur.fetchone() or ("", "OFF"))[1]
                    replica = node.slave_status(conn)
                    node.probe = {
                        "read_only": bool(read_only), "current": current, "applied": applied, "binlog": binlog,
                        "semi_sync": semi == "ON",
                        "io": replica.get("Slave_IO_Running"), "sql": replica.get("Slave_SQL_Running"),
                        "received": replica.get("Gtid_IO_Pos"), "lag": replica.get("Seconds_Behind_Master"),
                        "error": replica.get("Last_SQL_Error") or replica.get("Last_IO_Error") or "",
                    }
                    node.probe_at = time.monotonic()
                except Exception:
                    conn = _close(conn)
            else:
                conn = _close(conn)
            time.sleep(max(0.05, POLL - (time.monotonic() - began)))

    def _tick_engine(self, now: float) -> None:
        self._watch_replicas(now)

    def _watch_replicas(self, now: float) -> None:
        """A reader whose replica threads stopped on an error (say a write made on it as root)
        is rebuilt after NOT_REPLICATING seconds; a reader that is merely paused is left alone."""
        for node in self.nodes.values():
            probe = node.probe
            broken = (node is not self.writer and self.healthy(node) and probe and probe["error"]
                      and (probe["sql"] != "Yes" or probe["io"] != "Yes"))
            if not broken:
                self.broken_since.pop(node.name, None)
                continue
            since = self.broken_since.setdefault(node.name, now)
            if now - since > NOT_REPLICATING and node.name not in self.workers:
                log(f"{node.name} stopped replicating ({probe['error'][:120]}): rebuilding it")
                self.broken_since.pop(node.name, None)
                self.state["nodes"][node.name]["needs_rejoin"] = True
                self._spawn(node.name, self._recover, node)

    def _recover(self, node: Node) -> None:
        node.busy = True
        try:
            if node is self.writer:
                log(f"restarting writer {node.name} in place")
                node.start()
                self._open_for_writes(node)
            elif self.state["nodes"][node.name]["needs_rejoin"]:
                node.stop()
                self._rebuild(node)
            else:
                node.start()
                self._follow(node)
                log(f"reader {node.name} back")
        except Exception:
            node.stop()
            node.down_since = time.monotonic()
            if node is not self.writer:
                self.state["nodes"][node.name]["needs_rejoin"] = True
            raise
        finally:
            node.busy = False

    def _rebuild(self, node: Node) -> None:
        """An empty server with a new server id that replicates the writer's whole binary log:
        what the old writer had and nobody acknowledged is gone, as on Aurora."""
        began = time.monotonic()
        with self.lock:
            node.server_id = self.state["next_server_id"]
            self.state["next_server_id"] += 1
        self._make(node)
        self._follow(node)
        self._catch_up(node)
        with self.lock:
            self.state["nodes"][node.name]["needs_rejoin"] = False
            self.save()
        log(f"{node.name} rejoined as a reader of {self.writer.name} (rebuilt as server {node.server_id}, "
            f"{time.monotonic() - began:.1f} s)")

    def _catch_up(self, node: Node, seconds: float = 120.0) -> None:
        """Until a rebuilt node has applied the writer's history (it stays out of the reader
        endpoint meanwhile: a reader without the master user's grants yet would refuse it)."""
        target = self.writer.execute("SELECT @@global.gtid_binlog_pos", timeout=5)[0][0]
        deadline = time.monotonic() + seconds
        while target and node.execute("SELECT MASTER_GTID_WAIT(%s, 20)", (target,), timeout=5)[0][0] != 0:
            if time.monotonic() > deadline or self.stopping.is_set():
                raise RuntimeError(f"{node.name} did not catch up with {self.writer.name} within {seconds:.0f} s")

    def _rejoin(self, node: Node, fresh: bool = False) -> None:
        """After a planned failover the old writer was shut to writes cleanly: it follows the new
        writer from its own position; otherwise (or if that fails) it is rebuilt."""
        if not fresh and node.alive():
            try:
                self._follow(node, use="current_pos")
                with self.lock:
                    self.state["nodes"][node.name]["needs_rejoin"] = False
                    self.save()
                log(f"{node.name} follows {self.writer.name} as a reader")
                return
            except Exception as exc:
                log(f"{node.name} could not follow {self.writer.name} ({exc}); rebuilding it")
        node.stop()
        self._rebuild(node)

    # ---- failover -----------------------------------------------------------------------------

    def _candidates(self, target: str | None) -> list[Node]:
        return [n for n in self.nodes.values() if n is not self.writer and self.healthy(n)
                and not self.state["nodes"][n.name]["needs_rejoin"] and (target is None or n.name == target)]

    def _promote(self, old: Node, candidates: list[Node], planned: bool, target: str | None) -> Node:
        if planned:
            with old.connect(5) as conn, conn.cursor() as cur:
                cur.execute("SET GLOBAL read_only = ON")
                cur.execute("SELECT @@gtid_binlog_pos")
                final = cur.fetchone()[0]
            if self.router:
                self.router.close_node(old.name)
            chosen = candidates[0] if target else self._most_caught_up(candidates)
            self._apply_all(chosen, final)
        else:
            old.kill()                   # fenced: a hung writer never takes writes again
            chosen = self._most_caught_up(candidates)
            self._apply_all(chosen, None)
        self._open_for_writes(chosen)
        return chosen

    def _old_writer_rejoins(self, planned: bool) -> bool:
        return not planned          # shut to writes cleanly, it follows the new writer from its own position

    def _old_writer_goes_down(self, planned: bool) -> bool:
        return not planned

    def _point_at_writer(self, node: Node) -> None:
        self._follow(node)

    def _most_caught_up(self, candidates: list[Node]) -> Node:
        """The reader that RECEIVED the most (Gtid_IO_Pos): with semi-synchronous replication an
        acknowledged commit is in at least one reader's relay log."""
        best, best_seq = candidates[0], -1
        for node in candidates:
            try:
                with node.connect(2) as conn:
                    status = node.slave_status(conn)
                    with conn.cursor() as cur:
                        cur.execute("SELECT @@gtid_slave_pos")
                        applied = cur.fetchone()[0]
                seq = max(gtid_seq(status.get("Gtid_IO_Pos")), gtid_seq(applied))
            except Exception:
                continue
            if seq > best_seq:
                best, best_seq = node, seq
        return best

    def _apply_all(self, node: Node, position: str | None, seconds: float = 15.0) -> None:
        """Wait until `node` has applied everything it received (or `position`); its applier is
        started first (someone may have stopped it to make the reader fall behind)."""
        with node.connect(2) as conn:
            with conn.cursor() as cur:
                cur.execute("START SLAVE SQL_THREAD")
            if position is None:
                position = node.slave_status(conn).get("Gtid_IO_Pos") or ""
            if position:
                with conn.cursor() as cur:
                    cur.execute("SELECT MASTER_GTID_WAIT(%s, %s)", (position, seconds))

    # ---- the control API's view ------------------------------------------------------------------

    def status(self) -> dict:
        writer = self.writer
        nodes = []
        for node in self.nodes.values():
            probe = node.probe if self.healthy(node) else None
            is_writer = node is writer
            lag = 0.0 if is_writer and probe else None
            if probe and not is_writer and probe["lag"] is not None:
                lag = float(probe["lag"])
            nodes.append({
                "name": node.name, "zone": node.zone, "role": "writer" if is_writer else "reader",
                "port": node.port, "alive": probe is not None, "process": node.alive(), "paused": node.paused,
                "stopped": not node.wanted_up, "rejoining": node.name in self.workers or node.busy,
                "server_id": node.server_id, "read_only": probe["read_only"] if probe else None,
                "replica_io": probe["io"] if probe else None, "replica_sql": probe["sql"] if probe else None,
                "gtid_applied": (probe["binlog"] if is_writer else probe["applied"]) if probe else None,
                "gtid_received": probe["received"] if probe else None,
                "replay_lag_seconds": lag, "replication_error": probe["error"] if probe else "",
            })
        semi = writer.probe["semi_sync"] if writer.probe else False
        return {"writer": writer.name, "engine": STANDIN, "cluster_endpoint": self.cluster_port,
                "reader_endpoint": self.ports["reader"], "semi_sync": semi, "nodes": nodes,
                "failovers": list(self.state["failovers"]),
                "connections_accepted": dict(self.router.accepted)}

    def _restart(self, node: Node) -> dict:
        """Reboot one node (as reboot-db-instance does): the writer stays the writer."""
        with self.lock:
            if node.name in self.workers:
                raise ControlError(f"{node.name} is already being brought back; wait a few seconds")
            node.wanted_up = True
            node.busy = True
        try:
            node.stop()
            if node is self.writer:
                node.start()
                self._open_for_writes(node)
            elif self.state["nodes"][node.name]["needs_rejoin"]:
                self._rebuild(node)
            else:
                node.start()
                self._follow(node)
        finally:
            node.busy = False
        log(f"fault: restart {node.name}")
        writer = node is self.writer
        return {"node": node.name, "action": "restart", "role": "writer" if writer else "reader",
                "said": _said("restart", node.name, writer, self.hung_writer)}


def read_credentials(data: Path) -> dict | None:
    path = data / "credentials.json"
    if path.exists():
        try:
            creds = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise SystemExit(f"aurora-mysql: {path.name} is not readable JSON ({exc})")
    else:
        creds = {"user": os.environ.get("LABRUNNER_MASTER_USER"),
                 "password": os.environ.get("LABRUNNER_MASTER_PASSWORD"),
                 "database": os.environ.get("LABRUNNER_MASTER_DATABASE")}
    missing = [k for k in ("user", "password", "database") if not creds.get(k)]
    if len(missing) == 3 and (data / "cluster.json").exists():
        return None
    if missing:
        raise SystemExit(f"aurora-mysql: no master {', '.join(missing)}; write DIR/credentials.json or set "
                         "LABRUNNER_MASTER_USER, LABRUNNER_MASTER_PASSWORD and LABRUNNER_MASTER_DATABASE")
    if creds["user"] in ("root", REPLICATION_USER):
        raise SystemExit(f"aurora-mysql: the master user cannot be named {creds['user']} (the supervisor's own)")
    return {k: str(creds[k]) for k in ("user", "password", "database")}


def parse_args(argv=None):
    return parse_cluster_args(argv, "python -m labrunner.services.aurora_mysql_cluster",
                              "Run an Aurora MySQL stand-in cluster (MariaDB).",
                              ["reader", "control"] + [name for name, _ in NODES], helps={
                                  "ports": 'JSON: {"reader": P, "control": P, "aurora-1": P, "aurora-2": P, "aurora-3": P}'})


def main(argv=None) -> int:
    return serve(parse_args(argv), lambda data, port, ports, listen: Supervisor(
        data, port, ports, read_credentials(data), listen), drop_root, hand_over, ("nodes",))


if __name__ == "__main__":
    sys.exit(main())
