"""The Aurora (PostgreSQL-compatible) stand-in: one supervisor process per cluster.

    python -m labrunner.services.aurora_cluster --data DIR --port CLUSTER_PORT \\
        --ports '{"reader": P1, "control": P2, "aurora-1": P3, "aurora-2": P4, "aurora-3": P5, "restored": P6}'

It runs three real PostgreSQL servers (aurora-1 in az-a starts as the writer; aurora-2 in az-b
and aurora-3 in az-c are streaming readers made with pg_basebackup -R, one replication slot
each), the cluster endpoint (always the writer) on CLUSTER_PORT, the reader endpoint
(round-robin over healthy readers, else the writer) on ports["reader"], and a control API
(aurora_control.py) on ports["control"]. The node ports are the instance endpoints; ports["restored"]
(optional) is where a point-in-time restore starts its new server (aurora_restore.py).

Durability: commits wait for ANY 1 reader to flush their WAL (synchronous replication), so a
failover to the most caught-up reader loses no acknowledged write; when no reader streams the
writer carries on alone (the supervisor clears the setting) rather than stopping writes.
Aurora gets the same promise from its six-copy storage quorum, which a laptop cannot show.

Credentials: DIR/credentials.json {"user", "password", "database"} (read once), else the
environment LABRUNNER_MASTER_USER / LABRUNNER_MASTER_PASSWORD / LABRUNNER_MASTER_DATABASE.
State: DIR/cluster.json (roles, zones, writer, failovers), DIR/nodes/<name> (data),
DIR/archive (WAL archive), DIR/backups (base backup), DIR/restored (the point-in-time restored
server), DIR/logs/<name>.log, DIR/internal.json (the supervisor's own superuser password, 0600).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

from labrunner.services.aurora_control import ControlAPI, ControlServer
from labrunner.services.aurora_node import ADMIN_USER, Node, bin_dir, drop_root, hand_over, lsn_int, slot_name
from labrunner.services.aurora_restore import RestoreAPI
from labrunner.services.aurora_router import Router
from labrunner.services.aurora_setup import base_backup, create_writer, log, read_credentials
from labrunner.services.aurora_setup import now as utc_now
from labrunner.services.aurora_supervisor import ClusterSupervisor, Interrupted as _Interrupted
from labrunner.services.aurora_supervisor import close_quietly as _close, parse_cluster_args, serve

NODES = (("aurora-1", "az-a"), ("aurora-2", "az-b"), ("aurora-3", "az-c"))
POLL = 0.5                  # seconds between health queries of a node
STALE = 2.5                 # a node whose last good answer is older than this is not healthy
HUNG_WRITER = 8.0           # a writer that answers nothing for this long is failed over (and fenced)
RESTART_DELAY = 3.0         # a crashed node comes back by itself after this long
NOT_STREAMING = 20.0        # a live reader that does not stream for this long is rebuilt

PROBE_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END,
       pg_last_wal_receive_lsn()::text,
       pg_last_wal_replay_lsn()::text,
       current_setting('synchronous_standby_names'),
       (SELECT rolsuper AND rolreplication AND rolcanlogin FROM pg_roles WHERE rolname = current_user),
       (SELECT coalesce(json_agg(json_build_object(
                  'name', application_name, 'state', state,
                  'lag_bytes', CASE WHEN pg_is_in_recovery() THEN NULL
                                    ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) END,
                  'lag_seconds', extract(epoch FROM replay_lag))), '[]'::json)
          FROM pg_stat_replication)
"""


class Supervisor(ClusterSupervisor, ControlAPI, RestoreAPI):
    poll, stale, hung_writer, restart_delay = POLL, STALE, HUNG_WRITER, RESTART_DELAY
    log = staticmethod(log)
    utc_now = staticmethod(utc_now)
    layout = NODES              # (name, zone) of every node, the first writer first (a subclass may differ)
    engine = "aurora-postgresql"
    def __init__(self, data: Path, cluster_port: int, ports: dict[str, int], creds: dict[str, str] | None,
                 listen: str = "127.0.0.1"):
        super().__init__(data, cluster_port, ports, creds, listen)
        self.nodes: dict[str, Node] = {}
        self.sync_applied: str | None = None
        self.not_streaming_since: dict[str, float] = {}
        self.up = False
        self.repaired_at = 0.0
        self.sync_applied_at = 0.0

    # ---- state file ------------------------------------------------------------------------

    def save(self) -> None:
        for name in self.nodes:
            self.state["nodes"][name]["role"] = "writer" if name == self.state["writer"] else "reader"
        path = self.data / "cluster.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=2))
        os.replace(tmp, path)

    # ---- start --------------------------------------------------------------------------------

    def run(self) -> int:
        try:
            self._load_or_init()
            self._bring_up()
            self.bring_up_restored()
            self._serve(Router, ControlServer)
            self.up = True
            log(f"ready: {self._endpoints_said()}")
            while not self.stopping.wait(0.5):
                pass
        except _Interrupted:
            log("interrupted while starting")
        except OSError as exc:
            log(f"cannot start: {exc}")
            self.shutdown()
            return 1
        except RuntimeError as exc:
            if self.stopping.is_set():
                log("interrupted while starting")
                self.shutdown()
                return 0
            log(f"cannot start: {exc}")
            self.shutdown()
            return 1
        self.shutdown()
        return 0

    def _load_or_init(self) -> None:
        internal = self.data / "internal.json"
        for name, zone in self.layout:
            self.nodes[name] = Node(name, zone, self.ports[name], self.data, "", halt=self.stopping,
                                    listen=self.listen)
        if (self.data / "cluster.json").exists():
            self.state = json.loads((self.data / "cluster.json").read_text())
            password = json.loads(internal.read_text())["password"]
            for node in self.nodes.values():
                node.admin_password = password
            log(f"existing cluster: writer {self.state['writer']}")
            return
        # No cluster.json: the cluster never finished its first start, so nothing of the
        # learner's is here. Begin again from nothing.
        if self.creds is None:
            raise RuntimeError("no master credentials for a new cluster: write DIR/credentials.json "
                               "or set LABRUNNER_MASTER_USER, LABRUNNER_MASTER_PASSWORD and LABRUNNER_MASTER_DATABASE")
        for folder in ("nodes", "archive"):
            shutil.rmtree(self.data / folder, ignore_errors=True)
        for folder in ("nodes", "archive", "logs"):
            (self.data / folder).mkdir(mode=0o700, parents=True, exist_ok=True)
            hand_over(self.data / folder)
        password = secrets.token_urlsafe(24)
        fd = os.open(internal, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w") as fh:
            json.dump({"user": ADMIN_USER, "password": password}, fh)
        for node in self.nodes.values():
            node.admin_password = password
        first = self.layout[0][0]
        create_writer(self.nodes[first], self.data, self.creds)
        self._check_interrupt()
        self.state = {
            "engine": self.engine, "writer": first, "created": utc_now(),
            "nodes": {name: {"zone": zone, "role": "reader", "needs_rejoin": False} for name, zone in self.layout},
            "failovers": [], "backups": [],
        }
        for name, _ in self.layout[1:]:
            self._check_interrupt()
            log(f"making reader {name} (pg_basebackup -R)")
            self.nodes[name].base_backup_from(self.nodes[first], create_slot=True)
            self.nodes[name].start()
        self._check_interrupt()
        self.state["backups"].append(base_backup(self.writer, self.data))
        self.save()
        # The password now lives in the database; the file is not needed again.
        (self.data / "credentials.json").unlink(missing_ok=True)
        log("cluster created")

    def _bring_up(self) -> None:
        """Start (or adopt) every node with its recorded role."""
        writer = self.writer
        for node in self.nodes.values():
            if not node.alive() and node.adopt():
                log(f"adopted running {node.name} (pid {node.pid})")
        self._check_interrupt()
        if not writer.alive():
            writer.start()
            log(f"started writer {writer.name}")
        if writer.is_standby():       # a failover was cut short: finish the promotion
            writer.execute("SELECT pg_promote(true, 60)", timeout=5)
            self._after_promotion(writer)
        self._ensure_slots(writer)
        for node in self.nodes.values():
            if node is writer:
                continue
            self._check_interrupt()
            if self.state["nodes"][node.name]["needs_rejoin"] or not node.is_standby():
                node.stop()
                self._rejoin(node)
            elif node.alive():
                self._repoint(node)
            else:
                node.set_standby_of(writer)
                try:
                    node.start()
                except RuntimeError as exc:
                    log(f"{node.name} did not start as a reader ({exc}); rebuilding it")
                    node.stop()
                    self.state["nodes"][node.name]["needs_rejoin"] = True
                    self._rejoin(node, fresh=True)
            log(f"reader {node.name} up")

    # ---- stop ---------------------------------------------------------------------------------

    def shutdown(self) -> None:
        self.stopping.set()
        if self.control:
            self.control.stop()
        if self.router:
            self.router.stop()
        self._stop_nodes()
        for worker in list(self.workers.values()):     # a rejoin under way may have started a node
            worker.join(60)
        self._stop_nodes()
        if self.restored is not None:
            self.restored.stop()
        if self.state and (self.data / "cluster.json").exists():    # a first start cut short saves nothing
            self.save()
        log("stopped")

    # ---- endpoints and health -----------------------------------------------------------------

    def _serves_reads(self, node: Node) -> bool:
        return bool(node.probe and node.probe["in_recovery"])

    def _probe_loop(self, node: Node) -> None:
        """Ask the node a real query every POLL seconds. A node that does not answer (paused,
        hung) leaves this thread blocked; the monitor sees its answers grow old."""
        conn = None
        while not self.stopping.is_set():
            began = time.monotonic()
            if node.alive() and not node.busy:
                try:
                    if conn is None or conn.closed:
                        conn = node.connect(2)
                    rec, current, received, replayed, sync, role_ok, replication = conn.execute(
                        PROBE_SQL).fetchone()
                    node.probe = {"in_recovery": rec, "current": current, "received": received,
                                  "replayed": replayed, "sync": sync, "replication": replication}
                    node.probe_at = time.monotonic()
                    node.auth_failed = not role_ok      # dropped or stripped while we were connected
                except psycopg.OperationalError as exc:
                    conn = _close(conn)
                    if _refused_login(exc):     # it answered: alive, but our role is gone or changed
                        node.probe_at = time.monotonic()
                        node.auth_failed = True
                except Exception:
                    conn = _close(conn)
            else:
                conn = _close(conn)
            time.sleep(max(0.05, POLL - (time.monotonic() - began)))

    def _tick_engine(self, now: float) -> None:
        if any(n.auth_failed for n in self.nodes.values()) and now - self.repaired_at > 5:
            self.repaired_at = now
            self._repair_admin()
        self._sync_replication()
        self._watch_streaming(now)

    def _recover(self, node: Node) -> None:
        """Bring a node that is down back: the writer in place (no reader could take over),
        a former writer by rejoining it as a reader, a reader as it was."""
        node.busy = True
        try:
            if node is self.writer:
                log(f"restarting writer {node.name} in place")
                node.start()
                self.sync_applied = None
                self._ensure_slots(node)
            elif self.state["nodes"][node.name]["needs_rejoin"] or not node.is_standby():
                self._rejoin(node)
            else:
                node.set_standby_of(self.writer)
                node.start()
                log(f"reader {node.name} back")
        except Exception:
            node.stop()
            node.down_since = time.monotonic()
            if node is not self.writer:
                self.state["nodes"][node.name]["needs_rejoin"] = True
            raise
        finally:
            node.busy = False

    def _rejoin(self, node: Node, fresh: bool = False) -> None:
        """A node that was writer (or lost its way) becomes a reader of the current writer:
        pg_rewind, else a fresh pg_basebackup."""
        writer = self.writer
        self._ensure_slots(writer)
        began = time.monotonic()
        how = "pg_rewind"
        if fresh or not node.rewind_from(writer):
            fresh = True
        else:
            try:
                node.start(timeout=30)
            except RuntimeError as exc:
                log(f"{node.name} did not come up after pg_rewind ({exc}); making a fresh copy")
                node.stop()
                fresh = True
        if fresh:
            how = "pg_basebackup"
            node.base_backup_from(writer, create_slot=False)
            node.start()
        with self.lock:
            self.state["nodes"][node.name]["needs_rejoin"] = False
            self.save()
        log(f"{node.name} rejoined as a reader of {writer.name} ({how}, {time.monotonic() - began:.1f} s)")

    def _repair_admin(self) -> None:
        """Someone dropped or changed the supervisor's role (a reset that drops every role, say):
        put it back on the writer with the master user's credentials; the readers get it by
        replication."""
        writer = self.writer
        if self.creds is None:
            log(f"the {ADMIN_USER} role was dropped or changed on {writer.name}; it cannot be restored "
                "without the master credentials (start the supervisor with them to repair it)")
            return
        query = sql.SQL("{} ROLE {} WITH SUPERUSER REPLICATION LOGIN PASSWORD {}")
        try:
            with psycopg.connect(host="127.0.0.1", port=writer.port, user=self.creds["user"],
                                 password=self.creds["password"], dbname=self.creds["database"],
                                 connect_timeout=2, autocommit=True) as conn:
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ADMIN_USER,)).fetchone()
                conn.execute(query.format(sql.SQL("ALTER" if exists else "CREATE"), sql.Identifier(ADMIN_USER),
                                          sql.Literal(writer.admin_password)))
            log(f"the {ADMIN_USER} role was missing or changed on {writer.name}: restored")
        except psycopg.Error as exc:
            log(f"the {ADMIN_USER} role was dropped or changed and cannot be restored with the master "
                f"user's credentials ({exc}); replication and failover cannot work until it is")

    def _ensure_slots(self, writer: Node) -> None:
        for name in self.nodes:
            if name != writer.name:
                writer.execute("SELECT pg_create_physical_replication_slot(%s, true) WHERE NOT EXISTS "
                               "(SELECT 1 FROM pg_replication_slots WHERE slot_name = %s)",
                               (slot_name(name), slot_name(name)))

    def _repoint(self, node: Node) -> None:
        """Make a running reader follow the current writer (primary_conninfo is reloadable)."""
        with node.connect(2) as conn:
            conn.execute(sql.SQL("ALTER SYSTEM SET primary_conninfo = {}").format(
                sql.Literal(node.primary_conninfo(self.writer))))
            conn.execute(sql.SQL("ALTER SYSTEM SET primary_slot_name = {}").format(
                sql.Literal(slot_name(node.name))))
            conn.execute("SELECT pg_reload_conf()")

    def _sync_replication(self) -> None:
        """Commits wait for ANY 1 reader while one streams; the writer goes on alone otherwise."""
        writer = self.writer
        if not self.healthy(writer):
            return
        streaming = [r["name"] for r in writer.probe["replication"] or [] if r["state"] == "streaming"
                     and any(slot_name(n.name) == r["name"] and self.healthy(n) for n in self.nodes.values())]
        others = ", ".join(slot_name(n) for n in self.nodes if n != writer.name)
        want = f"ANY 1 ({others})" if streaming else ""
        # Also put it back when someone reset the writer's parameters behind the supervisor's back.
        differs = (_normal(writer.probe["sync"]) != _normal(want)
                   and writer.probe_at - self.sync_applied_at > 1.0)
        if want != self.sync_applied or differs:
            with writer.connect(2) as conn:
                conn.execute(sql.SQL("ALTER SYSTEM SET synchronous_standby_names = {}").format(sql.Literal(want)))
                conn.execute("SELECT pg_reload_conf()")
            if want != self.sync_applied and (self.sync_applied is not None or not want):
                log(f"synchronous replication: {want or 'off (no reader streams)'}")
            self.sync_applied = want
            self.sync_applied_at = time.monotonic()

    def _watch_streaming(self, now: float) -> None:
        writer = self.writer
        if not self.healthy(writer):
            self.not_streaming_since.clear()
            return
        streaming = {r["name"] for r in writer.probe["replication"] or [] if r["state"] == "streaming"}
        for node in self.nodes.values():
            if node is writer or not self.healthy(node) or slot_name(node.name) in streaming:
                self.not_streaming_since.pop(node.name, None)
                continue
            since = self.not_streaming_since.setdefault(node.name, now)
            if now - since > NOT_STREAMING and node.name not in self.workers:
                log(f"{node.name} has not streamed from {writer.name} for {NOT_STREAMING:.0f} s: rebuilding it")
                self.not_streaming_since.pop(node.name, None)
                self.state["nodes"][node.name]["needs_rejoin"] = True
                node.busy = True
                try:
                    node.stop()
                finally:
                    node.busy = False
                node.down_since = now - RESTART_DELAY

    # ---- failover -----------------------------------------------------------------------------

    def _candidates(self, target: str | None) -> list[Node]:
        return [n for n in self.nodes.values() if n is not self.writer and self.healthy(n)
                and n.probe["in_recovery"] and (target is None or n.name == target)]

    def _promote(self, old: Node, candidates: list[Node], planned: bool, target: str | None) -> Node:
        if planned:
            chosen = candidates[0] if target else self._most_caught_up(candidates)
            old.stop()
            self._wait_caught_up(chosen, old)
        else:
            old.kill()                 # fence it: a hung writer must never take writes again
            chosen = self._most_caught_up(candidates)
        chosen.execute("SELECT pg_promote(true, 30)", timeout=5)
        self._after_promotion(chosen)
        return chosen

    def _point_at_writer(self, node: Node) -> None:
        self._repoint(node)

    def _most_caught_up(self, candidates: list[Node]) -> Node:
        """The reader holding the most WAL. Received (flushed) WAL counts, not only replayed:
        promotion replays all of it, and with synchronous commit an acknowledged commit is
        flushed on at least one reader, so this one has every acknowledged write."""
        best, best_lsn = candidates[0], -1
        for node in candidates:
            try:
                received, replayed = node.execute(
                    "SELECT pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text", timeout=2)[0]
            except Exception:
                continue
            lsn = max(lsn_int(received) or 0, lsn_int(replayed) or 0)
            if lsn > best_lsn:
                best, best_lsn = node, lsn
        return best

    def _wait_caught_up(self, chosen: Node, old: Node, seconds: float = 15.0) -> None:
        """After a clean stop of the old writer: wait until `chosen` replayed its shutdown checkpoint."""
        out = _controldata(old)
        final = lsn_int(out.get("Latest checkpoint location"))
        deadline = time.monotonic() + seconds
        while final is not None and time.monotonic() < deadline:
            replayed = chosen.execute("SELECT pg_last_wal_replay_lsn()::text", timeout=2)[0][0]
            if (lsn_int(replayed) or 0) >= final:
                return
            time.sleep(0.1)

    def _after_promotion(self, node: Node) -> None:
        with node.connect(2) as conn:
            conn.execute("ALTER SYSTEM SET synchronous_standby_names = ''")
            conn.execute("ALTER SYSTEM RESET primary_conninfo")
            conn.execute("ALTER SYSTEM RESET primary_slot_name")
            conn.execute("SELECT pg_reload_conf()")
        self.sync_applied = ""
        self._ensure_slots(node)

def _normal(setting: str | None) -> str:
    return "".join((setting or "").split()).lower()


def _refused_login(exc: Exception) -> bool:
    text = str(exc)
    return "password authentication failed" in text or (
        f'role "{ADMIN_USER}" does not exist' in text) or "is not permitted to log in" in text


def _controldata(node: Node) -> dict[str, str]:
    import subprocess

    out = subprocess.run([os.path.join(bin_dir(), "pg_controldata"), "-D", str(node.pgdata)],
                         capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"}).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def parse_args(argv: list[str] | None = None):
    return parse_cluster_args(
        argv, "python -m labrunner.services.aurora_cluster", "Run an Aurora PostgreSQL stand-in cluster.",
        ["reader", "control"] + [name for name, _ in NODES], helps={
            "data": "the cluster's folder", "port": "the cluster (writer) endpoint's port",
            "ports": 'JSON: {"reader": P, "control": P, "aurora-1": P, "aurora-2": P, "aurora-3": P}',
            "listen": "address of every endpoint and node (0.0.0.0 only inside a container)"},
        optional=("restored",),         # the point-in-time restored server
        quote_free=True)


def main(argv: list[str] | None = None) -> int:
    # As root, PostgreSQL's programs run as the unprivileged user: they must reach DIR/nodes and DIR/archive.
    return serve(parse_args(argv), lambda data, port, ports, listen: Supervisor(
        data, port, ports, read_credentials(data), listen), drop_root, hand_over, ("nodes", "archive"), bin_dir)


if __name__ == "__main__":
    sys.exit(main())
