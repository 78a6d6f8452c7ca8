"""Drains the outbox to the dashboard, with retries and backoff while the network is down.

`ensure_running(folder)` starts one detached sender process (`python -m
labrunner.classroom.sender FOLDER`) unless one already holds the folder's lock; it
exits after a quiet spell with nothing queued. A `Sender` also runs in a thread (the
load test runs two hundred of them).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

from labrunner.classroom import client, outbox, wire

LOCK = "sender.lock"
STARTED = "sender.started"       # touched when a sender is started: one start at a time
STARTING = 3.0                   # seconds a new sender has to take the lock
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 10.0
IDLE_EXIT = 30.0                 # seconds with nothing queued before a detached sender exits


class Sender:
    def __init__(self, where: Path):
        self.where = where
        self.box = outbox.Outbox(where)
        self.wake = threading.Event()        # set to send now rather than at the next poll
        self.failures = 0

    def drain_once(self) -> str:
        """Send one batch. "empty", "sent", "retry" (try again later) or "stop" (membership gone)."""
        member = outbox.load_membership(self.where)
        if member is None:
            return "stop"
        batch = self.box.pending(wire.MAX_BATCH)
        if not batch:
            return "empty"
        try:
            status, reply = client.submit(member, self.box.next_seq(), batch)
        except client.Unreachable as exc:
            self.box.note("last_error", f"{time.time()}|dashboard not reachable: {exc}")
            return "retry"
        if status == 200:
            self.box.remove([item["id"] for item in batch])
            return "sent"
        error = reply.get("error", f"HTTP {status}")
        self.box.note("last_error", f"{time.time()}|{error}")
        if status in (401, 403):             # token revoked or wrong: nothing will get through
            return "stop"
        if status == 409 and isinstance(reply.get("last_seq"), int):
            self.box.note("seq", str(reply["last_seq"]))     # our count fell behind (a restored outbox)
        return "retry"                       # 409 (a sequence already used), 429, 5xx: later

    def run(self, stop: threading.Event | None = None, idle_exit: float | None = IDLE_EXIT,
            poll: float = 0.5) -> None:
        stop = stop or threading.Event()
        idle_since = time.monotonic()
        while not stop.is_set():
            outcome = self.drain_once()
            if outcome == "stop":
                return
            if outcome == "sent":
                self.failures = 0
                idle_since = time.monotonic()
                continue
            if outcome == "retry":
                self.failures += 1
                idle_since = time.monotonic()
                delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (self.failures - 1))
                stop.wait(delay * random.uniform(0.5, 1.0))
                continue
            if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                return
            self.wake.wait(poll)
            self.wake.clear()


# ---- one detached process per learner ------------------------------------------------------

def _try_lock(path: Path):
    """An open file holding the lock, or None when another process holds it."""
    fh = open(path, "a+b")
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        return None
    return fh


def running(where: Path) -> bool:
    held = _try_lock(where / LOCK)
    if held is None:
        return True
    held.close()
    return False


def ensure_running(where: Path) -> None:
    """Start a detached sender unless one runs (or was started in the last few seconds and is
    still coming up). Costs a lock probe, plus a fork when none runs."""
    if running(where):
        return
    stamp = where / STARTED
    try:
        if time.time() - stamp.stat().st_mtime < STARTING:
            return
    except FileNotFoundError:
        pass
    stamp.touch()
    flags = {"start_new_session": True} if os.name != "nt" else \
        {"creationflags": subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP}
    subprocess.Popen([sys.executable, "-m", "labrunner.classroom.sender", str(where)],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     close_fds=True, **flags)


def main(argv: list[str]) -> int:
    where = Path(argv[0])
    held = _try_lock(where / LOCK)
    if held is None:
        return 0                             # another sender has it
    try:
        Sender(where).run()
    finally:
        held.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
