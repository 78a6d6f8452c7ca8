"""What a cluster node's process handling shares whatever its engine (aurora_node.py for
PostgreSQL, aurora_mysql_node.py for MariaDB): is the process alive, wait for it to exit, forget
it, the tail of its log, and running one of the engine's programs with its output in that log.

Named aurora_* so that the images' prepare.sh copy it with the rest (services/aurora_*.py).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path


class NodeProcess:
    """Mixed into a Node, which sets proc, pid, paused, probe, down_since and log."""

    def alive(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        return self.pid is not None and pid_alive(self.pid)

    def _wait_exit(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self.alive():
                return True
            time.sleep(0.05)
        return not self.alive()

    def _forget(self) -> None:
        if self.proc is not None:
            self.proc.poll()
        self.proc, self.paused = None, False
        self.probe = None
        if self.down_since is None:
            self.down_since = time.monotonic()

    def tail(self, lines: int = 3) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return ""


def run_logged(argv: list[str], log: Path, popen_args: dict, timeout: float, env: dict | None = None,
               input: str | None = None) -> None:
    """Run one of the engine's programs (as the unprivileged user: popen_args), its output
    appended to `log`; a failure raises RuntimeError naming the log."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as fh:
        fh.write(f"--- {Path(argv[0]).name}\n".encode())
        fh.flush()
        done = subprocess.run(argv, env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout, **popen_args,
                              input=input.encode() if input else None,
                              stdin=None if input else subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(argv[0]).name} failed (exit {done.returncode}); see {log}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        try:
            import psutil

            return " ".join(psutil.Process(pid).cmdline())
        except Exception:
            return ""
