"""One node of the Aurora MySQL stand-in cluster: a real MariaDB server in DIR/nodes/<name>.

The node knows its folder, port, server id and process; it can be made (mariadb-install-db),
started, stopped, killed, paused and resumed, and asked SQL as the supervisor's root account.
Which node is the writer is the supervisor's business (aurora_mysql_cluster.py).

Every node starts read-only (--read-only) and with the replica threads stopped
(--skip-slave-start): the supervisor opens the writer for writes and points the readers at it,
so a node that comes back on its own never takes writes it should not.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from labrunner import unprivileged
from labrunner.errors import RuntimeUnavailable
from labrunner.services.aurora_process import NodeProcess, cmdline, pid_alive, run_logged

REPLICATION_USER = "rdsrepl"        # what the readers log in to the writer as (replicated to every node)


def drop_root() -> dict:
    """Popen arguments that run mariadbd as the unprivileged user when the supervisor runs as
    root (mariadbd refuses root); {} otherwise."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return {}
    try:
        return unprivileged.popen_args()
    except RuntimeUnavailable as exc:
        raise SystemExit(f"aurora-mysql: {exc.message}; {exc.fix}") from None


def hand_over(path: Path) -> None:
    ids = drop_root()
    if ids and path.exists():
        unprivileged.hand_over(path, ids)


def server_binary() -> str:
    for name in ("mariadbd", "mysqld"):
        found = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
        if found:
            return found
    raise SystemExit("aurora-mysql: no MariaDB server is installed here; install it "
                     "(apt-get install mariadb-server), or use --runtime docker")


def install_binary() -> str:
    found = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    if not found:
        raise SystemExit("aurora-mysql: mariadb-install-db is missing; install mariadb-server")
    return found


def gtid_seq(position: str | None) -> int:
    """'0-1-57,1-3-4' -> 61: how far a GTID position has got (sequence numbers grow within a
    domain whichever server wrote them, so the sum orders positions of one cluster)."""
    total = 0
    for part in (position or "").split(","):
        part = part.strip()
        if part.count("-") == 2:
            total += int(part.rsplit("-", 1)[1])
    return total


class Node(NodeProcess):
    def __init__(self, name: str, zone: str, port: int, data: Path, listen: str = "127.0.0.1",
                 halt: "threading.Event | None" = None):
        self.name = name
        self.zone = zone
        self.port = port
        self.folder = data / "nodes" / name
        self.datadir = self.folder / "data"
        self.log = data / "logs" / f"{name}.log"
        self.listen = listen
        self.halt = halt or threading.Event()
        self.password = ""              # root's, set by the supervisor
        self.server_id = 0
        self.proc: subprocess.Popen | None = None
        self.pid: int | None = None
        self.paused = False
        self.busy = False               # the supervisor is stopping, rebuilding or starting it
        self.wanted_up = True           # False after a `stop` fault, until `restart`
        self.down_since: float | None = None
        self.probe: dict | None = None
        self.probe_at = 0.0

    # ---- SQL ---------------------------------------------------------------------------------

    def connect(self, timeout: int = 2, password: str | None = None):
        import pymysql

        return pymysql.connect(host="127.0.0.1", port=self.port, user="root",
                               password=self.password if password is None else password,
                               autocommit=True, connect_timeout=timeout, read_timeout=30, write_timeout=30)

    def execute(self, sql: str, args=None, timeout: int = 2) -> list:
        conn = self.connect(timeout)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall() or [])
        finally:
            conn.close()

    def slave_status(self, conn) -> dict:
        import pymysql.cursors

        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SHOW SLAVE STATUS")
            return cur.fetchone() or {}

    # ---- process -----------------------------------------------------------------------------

    def argv(self) -> list[str]:
        f = self.folder
        return [server_binary(), "--no-defaults", f"--datadir={self.datadir}", f"--port={self.port}",
                f"--bind-address={self.listen}", f"--socket={f / 'mysqld.sock'}", f"--pid-file={f / 'mysqld.pid'}",
                f"--tmpdir={f / 'tmp'}", "--skip-name-resolve", "--local-infile=1",
                f"--server-id={self.server_id}", f"--log-bin={f / 'binlog'}", f"--relay-log={f / 'relay'}",
                "--log-slave-updates=ON", "--binlog-format=ROW", "--read-only=ON", "--skip-slave-start",
                "--rpl-semi-sync-master-enabled=ON", "--rpl-semi-sync-slave-enabled=ON",
                "--rpl-semi-sync-master-timeout=3000", "--rpl-semi-sync-master-wait-point=AFTER_SYNC",
                "--slave-net-timeout=4", "--userstat=ON", "--innodb-buffer-pool-size=32M",
                "--innodb-log-file-size=16M", "--innodb-log-buffer-size=4M", "--key-buffer-size=8M",
                "--aria-pagecache-buffer-size=8M", "--max-connections=80", "--performance-schema=OFF"]

    def install(self) -> None:
        """A fresh, empty data folder (mariadb-install-db): root, no data, no binary log."""
        if self.folder.exists():
            shutil.rmtree(self.folder)
        (self.folder / "tmp").mkdir(parents=True)
        hand_over(self.folder)
        run([install_binary(), "--no-defaults", f"--datadir={self.datadir}", "--auth-root-authentication-method=normal",
             "--skip-test-db", f"--tmpdir={self.folder / 'tmp'}"], self.log)

    def adopt(self) -> bool:
        """Take over a mariadbd a previous supervisor left running for this node."""
        try:
            pid = int((self.folder / "mysqld.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return False
        if not pid_alive(pid) or str(self.datadir) not in cmdline(pid) or f"--port={self.port}" not in cmdline(pid):
            return False
        self.proc, self.pid, self.paused = None, pid, False
        try:
            os.kill(pid, signal.SIGCONT)
        except OSError:
            pass
        self.probe_at = time.monotonic()
        return True

    def start(self, timeout: float = 60.0, password: str | None = None) -> None:
        """Start mariadbd and wait until root can log in over TCP."""
        if self.halt.is_set():
            raise RuntimeError(f"not starting {self.name}: the supervisor is stopping")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        (self.folder / "tmp").mkdir(parents=True, exist_ok=True)
        hand_over(self.folder / "tmp")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True, **drop_root())
        self.pid, self.paused = self.proc.pid, False
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited while starting (see {self.log.name}): {self.tail()}")
            try:
                self.connect(2, password).close()
                self.down_since = None
                self.probe_at = time.monotonic()
                return
            except Exception:
                if self.halt.is_set():
                    self.stop()
                    raise RuntimeError(f"stopped starting {self.name}: the supervisor is stopping")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s: {self.tail()}")
                time.sleep(0.2)

    def stop(self, timeout: float = 30.0) -> None:
        """A clean shutdown (SIGTERM), then SIGKILL."""
        if not self.alive():
            self._forget()
            return
        if self.paused:
            self.resume()
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                break
            if self._wait_exit(wait):
                break
        self._forget()

    def kill(self) -> None:
        """SIGKILL, as a crashed host would lose it."""
        if self.alive():
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._wait_exit(5.0)
        self._forget()

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.paused = False


def run(argv: list[str], log: Path, timeout: float = 120) -> None:
    run_logged(argv, log, drop_root(), timeout)
