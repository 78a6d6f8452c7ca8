"""The RDS for PostgreSQL Multi-AZ stand-in: the Aurora supervisor, arranged as RDS arranges a
Multi-AZ DB instance with one read replica.

    python -m labrunner.services.aurora_multiaz --data DIR --port INSTANCE_PORT \\
        --ports '{"replica": P1, "control": P2, "host-a": P3, "host-b": P4, "replica-1": P5}'

host-a (az-a) starts as the primary and host-b (az-b) is its Multi-AZ standby: one DB instance on
two hosts. The standby is fed by synchronous replication (a commit returns once host-b has flushed
it, while host-b streams) and accepts no connection but the supervisor's own (its pg_hba.conf
rejects every other role): it serves no reads, as on RDS. replica-1 (az-c) is a read replica: a
separate DB instance fed by asynchronous streaming replication, readable, with its own endpoint,
never chosen by a failover, promoted only by hand (the `promote` action).

INSTANCE_PORT is the instance endpoint, always the primary host (RDS flips the DNS name; the
router plays that); ports["replica"] is the replica's endpoint. There is no reader endpoint.
Everything else (health, failover, rejoin, state files) is aurora_cluster.Supervisor's.
"""

from __future__ import annotations

import sys
import time

from psycopg import sql

from labrunner.services import aurora_cluster
from labrunner.services.aurora_control import ACTIONS, ControlError
from labrunner.services.aurora_node import ADMIN_USER, drop_root, hand_over, slot_name
from labrunner.services.aurora_setup import log, read_credentials
from labrunner.services.aurora_supervisor import parse_cluster_args, serve

HOSTS = (("host-a", "az-a"), ("host-b", "az-b"))
REPLICA = ("replica-1", "az-c")
EXTRA_ACTIONS = ("pause-replay", "resume-replay", "detach", "attach", "promote", "rebuild")

OPEN_HBA = f"""# labrunner: this host serves clients (the primary, or a read replica)
local all all trust
host all all all scram-sha-256
host replication {ADMIN_USER} all scram-sha-256
"""
CLOSED_HBA = f"""# labrunner: the Multi-AZ standby serves no clients, only the supervisor
local all {ADMIN_USER} trust
host all {ADMIN_USER} all scram-sha-256
host replication {ADMIN_USER} all scram-sha-256
host all all all reject
"""


class MultiAZSupervisor(aurora_cluster.Supervisor):
    layout = (*HOSTS, REPLICA)
    engine = "rds-postgres-multiaz"

    # ---- who is who ---------------------------------------------------------------------------

    def standby(self):
        return next(self.nodes[name] for name, _ in HOSTS if name != self.state["writer"])

    def replica(self):
        return self.replica_node

    detached = False                     # the replica's stream is cut (the detach action)

    def _load_or_init(self) -> None:
        super()._load_or_init()
        self.replica_node = self.nodes[REPLICA[0]]

    def promoted(self) -> bool:
        return bool(self.state.get("nodes", {}).get(REPLICA[0], {}).get("promoted"))

    def role_of(self, node) -> str:
        if node is self.writer:
            return "primary"
        if node.name == REPLICA[0]:
            return "standalone" if self.promoted() else "replica"
        return "standby"

    # ---- endpoints: the instance endpoint follows the primary; the replica has its own --------

    def pick_reader(self):
        replica = self.replica()
        return (replica.name, replica.port)

    # ---- failover never chooses the replica -----------------------------------------------------

    def _candidates(self, target):
        return [n for n in super()._candidates(target) if n.name != REPLICA[0]]

    def planned_failover(self, target) -> dict:
        if target == REPLICA[0]:
            raise ControlError(f"{REPLICA[0]} is a read replica: a failover only ever moves to the Multi-AZ "
                               "standby; promoting the replica (promote) is a separate, manual step")
        if target in ("standby", None, ""):
            target = self.standby().name
        return super().planned_failover(target)

    # ---- replication: synchronous to the standby only ---------------------------------------------

    def _sync_replication(self) -> None:
        writer = self.writer
        if not self.healthy(writer):
            return
        standby = self.standby()
        streaming = any(r["state"] == "streaming" and r["name"] == slot_name(standby.name)
                        for r in writer.probe["replication"] or []) and self.healthy(standby)
        want = f"FIRST 1 ({slot_name(standby.name)})" if streaming else ""
        differs = (aurora_cluster._normal(writer.probe["sync"]) != aurora_cluster._normal(want)
                   and writer.probe_at - self.sync_applied_at > 1.0)
        if want != self.sync_applied or differs:
            with writer.connect(2) as conn:
                conn.execute(sql.SQL("ALTER SYSTEM SET synchronous_standby_names = {}").format(sql.Literal(want)))
                conn.execute("SELECT pg_reload_conf()")
            if want != self.sync_applied and (self.sync_applied is not None or not want):
                log(f"synchronous replication: {want or 'off (the standby does not stream)'}")
            self.sync_applied = want
            self.sync_applied_at = time.monotonic()

    # ---- the standby refuses clients -----------------------------------------------------------

    def _tick(self) -> None:
        super()._tick()
        with self.lock:
            for node in self.nodes.values():
                if node.alive() and not node.busy and node.name not in self.workers:
                    self._guard(node)

    def _guard(self, node) -> None:
        """pg_hba.conf as the node's role wants it. pg_basebackup and pg_rewind copy the primary's
        file onto a host that rejoins as the standby, so this is checked on every tick."""
        want = CLOSED_HBA if self.role_of(node) == "standby" else OPEN_HBA
        path = node.pgdata / "pg_hba.conf"
        try:
            if path.read_text() == want:
                return
        except OSError:
            return
        path.write_text(want)
        hand_over(path)
        try:
            node.execute("SELECT pg_reload_conf()")
            log(f"{node.name} ({self.role_of(node)}): client access {'closed' if want is CLOSED_HBA else 'open'}")
        except Exception as exc:
            log(f"{node.name}: pg_hba.conf written, reload failed ({exc})")

    # ---- a promoted replica is left alone ------------------------------------------------------

    def _watch_streaming(self, now: float) -> None:
        """A replica that was promoted or cut off does not stream, on purpose: never rebuild it for
        that (its clock of not streaming is kept at zero)."""
        quiet = self.promoted() or self.detached
        if quiet:
            self.not_streaming_since.pop(REPLICA[0], None)
        super()._watch_streaming(now)
        if quiet:
            self.not_streaming_since.pop(REPLICA[0], None)

    def _recover(self, node) -> None:
        if node.name == REPLICA[0] and self.promoted():
            node.busy = True
            try:
                node.start()
                log(f"{node.name} (standalone) back")
            finally:
                node.busy = False
            return
        super()._recover(node)

    def _bring_up(self) -> None:
        """At start (no other thread runs yet, so the node table may be changed): a promoted
        replica is started as the standalone instance it is, not rejoined. The standby is closed
        to clients before any endpoint opens."""
        if not self.promoted():
            super()._bring_up()
        else:
            replica = self.nodes.pop(REPLICA[0])
            try:
                super()._bring_up()
            finally:
                self.nodes[REPLICA[0]] = replica
            if not replica.alive() and not replica.adopt():
                replica.start()
        for node in self.nodes.values():
            if node.alive():
                self._guard(node)

    def _rejoin(self, node, fresh: bool = False) -> None:
        """A host that rejoins as the standby got the primary's pg_hba.conf: close it at once."""
        super()._rejoin(node, fresh)
        if node.alive():
            self._guard(node)

    # ---- control: aliases, replay pause, promotion, a new replica --------------------------------

    def fault(self, name, action) -> dict:
        if name == "primary":
            name = "writer"
        elif name == "standby":
            name = self.standby().name
        elif name == "replica":
            name = REPLICA[0]
        if action not in EXTRA_ACTIONS:
            if action not in ACTIONS:
                raise ControlError(f"unknown action {action!r}; use one of {', '.join(ACTIONS + EXTRA_ACTIONS)}")
            if action == "restart" and name == REPLICA[0] and self.promoted():
                replica = self.replica()
                replica.wanted_up, replica.busy = True, True
                try:
                    replica.stop()
                    replica.start()
                finally:
                    replica.busy = False
                return {"node": name, "action": action, "role": "standalone", "said": f"restarted {name}"}
            return super().fault(name, action)
        if name != REPLICA[0]:
            raise ControlError(f"{action} acts on the read replica ({REPLICA[0]}), not on {name!r}")
        replica = self.replica()
        if action == "rebuild":
            return self._rebuild_replica()
        if not self.healthy(replica):
            raise ControlError(f"{REPLICA[0]} is not answering; restart it first")
        if action == "promote":
            return self._promote_replica()
        if action in ("detach", "attach"):
            return self._detach(action == "detach")
        if self.promoted():
            raise ControlError(f"{REPLICA[0]} was promoted: it replays nothing any more")
        call = "pg_wal_replay_pause()" if action == "pause-replay" else "pg_wal_replay_resume()"
        replica.execute(f"SELECT {call}", timeout=5)
        log(f"fault: {action} {REPLICA[0]}")
        return {"node": REPLICA[0], "action": action, "role": "replica",
                "said": f"{REPLICA[0]} {'stopped' if action == 'pause-replay' else 'resumed'} replaying the "
                        "primary's changes (it still receives them)"}

    def _detach(self, detach: bool) -> dict:
        """Cut the replica off from the primary's WAL (stream and archive), as a network
        partition would, or join it again. It stays a replica: readable, not promoted."""
        replica = self.replica()
        with self.lock:
            if self.promoted():
                raise ControlError(f"{REPLICA[0]} was promoted: it follows no primary any more")
            with replica.connect(2) as conn:
                if detach:
                    conn.execute("ALTER SYSTEM SET primary_conninfo = ''")
                    conn.execute("ALTER SYSTEM SET restore_command = ''")
                else:
                    conn.execute("ALTER SYSTEM RESET restore_command")
                conn.execute("SELECT pg_reload_conf()")
                # The reload reaches the WAL receiver a moment later; until it has stopped, the
                # primary's next change may still arrive, so a detach returns only after that.
                deadline = time.monotonic() + 10
                while detach and conn.execute("SELECT count(*) FROM pg_stat_wal_receiver").fetchone()[0]:
                    if time.monotonic() > deadline:
                        raise ControlError(f"{REPLICA[0]} still receives the primary's changes 10 s after "
                                           "its primary_conninfo was cleared")
                    time.sleep(0.05)
            if not detach:
                self._repoint(replica)
            self.detached = detach
        log(f"fault: {'detach' if detach else 'attach'} {REPLICA[0]}")
        return {"node": REPLICA[0], "action": "detach" if detach else "attach", "role": "replica",
                "said": f"{REPLICA[0]} {'no longer receives' if detach else 'receives again'} the primary's changes"}

    def _promote_replica(self) -> dict:
        with self.lock:
            replica = self.replica()
            if self.promoted():
                raise ControlError(f"{REPLICA[0]} is already a standalone instance")
            replica.execute("SELECT pg_wal_replay_resume() WHERE pg_is_wal_replay_paused()", timeout=5)
            # Its new timeline must not reach the archive the instance shares: a replica made later
            # would follow that timeline instead of the primary's.
            # Nor may it wait for a synchronous standby it will never have: a replica rebuilt by
            # pg_rewind carries the primary's synchronous_standby_names, and its first commit as a
            # standalone instance would hang.
            with replica.connect(2) as conn:
                conn.execute("ALTER SYSTEM SET archive_command = 'true'")
                conn.execute("ALTER SYSTEM SET synchronous_standby_names = ''")
                conn.execute("SELECT pg_reload_conf()")
            time.sleep(0.2)
            replica.execute("SELECT pg_promote(true, 60)", timeout=70)
            with replica.connect(2) as conn:
                conn.execute("ALTER SYSTEM RESET primary_conninfo")
                conn.execute("ALTER SYSTEM RESET primary_slot_name")
                conn.execute("SELECT pg_reload_conf()")
            self.state["nodes"][REPLICA[0]]["promoted"] = True
            self.detached = False
            self.save()
        log(f"{REPLICA[0]} promoted: a standalone instance, replication from {self.state['writer']} ended")
        return {"node": REPLICA[0], "action": "promote", "role": "standalone",
                "said": f"promoted {REPLICA[0]}: it takes writes on its own endpoint and no longer follows "
                        f"the primary ({self.state['writer']})"}

    def _rebuild_replica(self) -> dict:
        """A fresh read replica in place of the old one (as deleting it and creating another)."""
        replica = self.replica()
        deadline = time.monotonic() + 60          # a primary restarting in place must answer first
        while not self.healthy(self.writer) and time.monotonic() < deadline:
            time.sleep(0.2)
        with self.lock:
            if replica.name in self.workers:
                raise ControlError(f"{replica.name} is already being brought back; wait a few seconds")
            replica.busy = True
            replica.wanted_up = True
        try:
            replica.stop()
            self._rejoin(replica, fresh=True)
            with self.lock:
                self.state["nodes"][REPLICA[0]]["promoted"] = False
                self.save()
        finally:
            replica.busy = False
        log(f"{REPLICA[0]} rebuilt as a read replica of {self.state['writer']}")
        return {"node": REPLICA[0], "action": "rebuild", "role": "replica",
                "said": f"{REPLICA[0]} is a new read replica of {self.state['writer']}"}

    def status(self) -> dict:
        found = super().status()
        found.pop("reader_endpoint", None)
        found["instance_endpoint"] = self.cluster_port
        found["replica_endpoint"] = self.ports["reader"]
        found["primary"] = self.state["writer"]
        for row in found["nodes"]:
            node = self.nodes[row["name"]]
            row["role"] = self.role_of(node)
            row["synchronous"] = row["role"] == "standby"
            if row["role"] == "standalone":
                row["replay_lag_bytes"] = row["replay_lag_seconds"] = None
        return found


def parse_args(argv: list[str] | None = None):
    data, port, ports, listen = parse_cluster_args(
        argv, "python -m labrunner.services.aurora_multiaz",
        "Run an RDS for PostgreSQL Multi-AZ stand-in with a read replica.",
        ["replica", "control"] + [name for name, _ in MultiAZSupervisor.layout], helps={
            "data": "the instance's folder", "port": "the instance endpoint's port",
            "ports": 'JSON: {"replica": P, "control": P, "host-a": P, "host-b": P, "replica-1": P}',
            "listen": "address of every endpoint and host (0.0.0.0 only inside a container)"},
        quote_free=True)
    mapped = {k: v for k, v in ports.items() if k != "replica"}
    mapped["reader"] = ports["replica"]          # the supervisor's second route is the replica's endpoint
    return data, port, mapped, listen


def main(argv: list[str] | None = None) -> int:
    return serve(parse_args(argv), lambda data, port, ports, listen: MultiAZSupervisor(
        data, port, ports, read_credentials(data), listen), drop_root, hand_over, ("nodes", "archive"),
        aurora_cluster.bin_dir)


if __name__ == "__main__":
    sys.exit(main())
