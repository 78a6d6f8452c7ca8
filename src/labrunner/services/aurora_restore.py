"""Point-in-time restore for the Aurora stand-in: a NEW server recovered to a chosen second.

The supervisor (aurora_cluster.py) mixes RestoreAPI in. POST /restore {"time": ISO-8601 UTC}:

1. the time must lie between the earliest restorable time (the end of the base backup taken when
   the cluster was created) and now, else a one-line error naming both ends of the window;
2. on the writer, one small transaction commits (recovery stops at the first commit after the
   target, so one must exist) and the WAL segment is switched and waited for in DIR/archive;
3. the base backup is copied to DIR/restored/pgdata with recovery.signal, restore_command
   reading the archive, recovery_target_time, recovery_target_action = promote, archive_mode off
   and no synchronous standbys, and started on ports["restored"];
4. once it has promoted it is recorded in cluster.json["restored"].

A second restore replaces the first. The cluster's own nodes are never touched: the restored
server reads the archive and writes nothing there. As Aurora's restore-db-cluster-to-point-in-time
makes a new cluster from continuous backup and leaves the source alone.
"""

from __future__ import annotations

import shutil
import threading
import time
from datetime import datetime, timezone

from labrunner.services.aurora_control import ControlError
from labrunner.services.aurora_node import Node, hand_over, set_auto_conf
from labrunner.services.aurora_setup import log
from labrunner.services.aurora_setup import now as utc_now

NAME = "restored"
ARCHIVE_WAIT = 30.0         # seconds for the writer's last segment to reach the archive
RECOVERY_WAIT = 180.0       # seconds for the restored server to replay and promote


def iso(at: datetime) -> str:
    """2026-11-30T19:10:35.118Z"""
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def parse_utc(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise ControlError(f"{text!r} is not an ISO-8601 time; send e.g. 2026-11-30T19:10:35Z") from None
    if at.tzinfo is None:
        raise ControlError(f"{text!r} has no time zone; send UTC, e.g. 2026-11-30T19:10:35Z")
    return at.astimezone(timezone.utc)


class RestoreAPI:
    """Mixed into the Supervisor: uses self.data, self.ports, self.state, self.lock, self.writer,
    self.stopping, self.listen and self.save()."""

    restored: Node | None = None
    restore_lock = threading.Lock()

    # ---- the window ----------------------------------------------------------------------------

    def earliest_restorable(self) -> datetime | None:
        """The end of the first base backup: recovery cannot stop before the backup is consistent."""
        backups = self.state.get("backups") or []
        if not backups:
            return None
        first = backups[0]
        if first.get("finished"):
            return parse_utc(first["finished"])
        manifest = self.data / first["path"] / "backup_manifest"     # written when the backup ended
        try:
            return datetime.fromtimestamp(manifest.stat().st_mtime, timezone.utc)
        except OSError:
            return parse_utc(first["time"])

    def restore_status(self) -> dict:
        earliest = self.earliest_restorable()
        record = dict(self.state.get(NAME) or {})
        if record:
            record["alive"] = bool(self.restored and self.restored.alive())
        return {"earliest_restorable_time": iso(earliest) if earliest else None,
                "latest_restorable_time": iso(datetime.now(timezone.utc)),
                "restored": record or None, "available": NAME in self.ports}

    # ---- restore -------------------------------------------------------------------------------

    def restore_to_time(self, text) -> dict:
        if NAME not in self.ports:
            raise ControlError("this cluster was started without a port for a restored server; "
                               "stop it and start it again (`labrunner down` then `labrunner run`)")
        target = parse_utc(text)
        earliest, latest = self.earliest_restorable(), datetime.now(timezone.utc)
        if earliest is None:
            raise ControlError("the cluster has no base backup yet, so nothing can be restored")
        if not earliest <= target <= latest:
            raise ControlError(f"the restore time {iso(target)} is outside the restorable window: earliest "
                               f"restorable time {iso(earliest)}, latest restorable time {iso(latest)} (now)")
        if not self.restore_lock.acquire(blocking=False):
            raise ControlError("a restore is already under way; wait for it to finish")
        try:
            return self._restore(target)
        finally:
            self.restore_lock.release()

    def _restore(self, target: datetime) -> dict:
        began = time.monotonic()
        self._seal_archive()
        self.stop_restored()
        folder = self.data / NAME
        shutil.rmtree(folder, ignore_errors=True)
        with self.lock:
            self.state.pop(NAME, None)
            self.save()
        backup = self.state["backups"][0]
        node = self._restored_node()
        folder.mkdir(mode=0o700)
        shutil.copytree(self.data / backup["path"], node.pgdata, symlinks=True)
        node.pgdata.chmod(0o700)
        for stale in ("postmaster.pid", "standby.signal", "recovery.signal"):
            (node.pgdata / stale).unlink(missing_ok=True)
        archive = str(self.data / "archive")
        set_auto_conf(node.pgdata, {
            "restore_command": f"cp '{archive}'/%f %p",
            "recovery_target_time": iso(target).replace("Z", "+00"),
            "recovery_target_action": "promote",
            "recovery_target_timeline": "latest",
            "archive_mode": "off",
            "synchronous_standby_names": "",
            "primary_conninfo": "",
            "primary_slot_name": "",
        })
        (node.pgdata / "recovery.signal").touch()
        hand_over(folder)
        log(f"restore: a new server recovering to {iso(target)} from {backup['path']}")
        try:
            node.start(timeout=RECOVERY_WAIT)
            self._wait_promoted(node, began)
        except (RuntimeError, ControlError) as exc:
            node.stop()
            raise ControlError(f"the restore did not finish: {exc}") from None
        self.restored = node
        record = {"time": iso(target), "port": node.port, "created": utc_now(), "backup": backup["path"],
                  "seconds": round(time.monotonic() - began, 3)}
        with self.lock:
            self.state[NAME] = record
            self.save()
        log(f"restore: {NAME} is up on port {node.port}, as of {iso(target)} ({record['seconds']} s)")
        return record

    def _seal_archive(self) -> None:
        """One commit after the target (recovery stops before the first commit later than it),
        then a WAL switch, and wait until that segment is in the archive."""
        time.sleep(0.01)
        with self.lock:
            writer = self.writer
        try:
            with writer.connect(5) as conn:
                conn.autocommit = False
                conn.execute("SELECT pg_current_xact_id()")     # an xid: its COMMIT is a WAL record
                conn.commit()
                conn.autocommit = True
                segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]
        except Exception as exc:
            raise ControlError(f"the writer {writer.name} is not answering ({exc}); "
                               "try again once `labrunner status` shows a writer") from None
        path = self.data / "archive" / segment
        deadline = time.monotonic() + ARCHIVE_WAIT
        while not path.exists():
            if time.monotonic() > deadline:
                raise ControlError(f"WAL segment {segment} has not reached the archive after {ARCHIVE_WAIT:.0f} s; "
                                   f"see the writer's log ({writer.log.name})")
            time.sleep(0.1)

    def _wait_promoted(self, node: Node, began: float) -> None:
        deadline = began + RECOVERY_WAIT
        while True:
            if not node.alive():
                raise ControlError(f"the restored server stopped: {node.tail()}")
            try:
                if not node.execute("SELECT pg_is_in_recovery()", timeout=2)[0][0]:
                    return
            except Exception:
                pass
            if time.monotonic() > deadline or self.stopping.is_set():
                raise ControlError(f"the restored server did not finish recovery within {RECOVERY_WAIT:.0f} s")
            time.sleep(0.1)

    def _restored_node(self) -> Node:
        node = Node(NAME, "", self.ports[NAME], self.data, self.writer.admin_password, halt=self.stopping,
                    listen=self.listen)
        node.pgdata = self.data / NAME / "pgdata"
        node.log = self.data / "logs" / f"{NAME}.log"
        return node

    # ---- lifetime ------------------------------------------------------------------------------

    def bring_up_restored(self) -> None:
        """At start: the restored server of an earlier run comes back on its data (or is adopted)."""
        if not self.state.get(NAME) or NAME not in self.ports:
            return
        node = self._restored_node()
        if not (node.pgdata / "PG_VERSION").exists():
            self.state.pop(NAME, None)
            return
        try:
            if not node.adopt():
                node.start(timeout=RECOVERY_WAIT)
            self.restored = node
            self.state[NAME]["port"] = node.port
            log(f"restored server up on port {node.port} (as of {self.state[NAME]['time']})")
        except RuntimeError as exc:
            node.stop()
            log(f"the restored server did not start ({exc}); restore again to replace it")

    def stop_restored(self) -> None:
        if self.restored is not None:
            self.restored.stop()
            self.restored = None
        else:       # one an earlier supervisor left running
            node = self._restored_node() if NAME in self.ports else None
            if node is not None and node.adopt():
                node.stop()

