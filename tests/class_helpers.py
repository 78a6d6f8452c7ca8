"""Run `labrunner class serve` as its own process, and simulate a room of learners through the
real client code (join, outbox, sender). Used by tests/test_class*.py and benchmarks/class_load.py."""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path


class Dashboard:
    """`labrunner class serve` on 127.0.0.1; `stop()` then `start()` restarts it on the same port."""

    def __init__(self, home: Path, code: str = "ROOM42", port: int = 0):
        self.home, self.code, self.port = Path(home), code, port
        self.home.mkdir(parents=True, exist_ok=True)
        self.db = self.home / "dashboard.db"
        self.proc = None
        self.url = self.key = None
        self.starts = 0

    def start(self, timeout: float = 30) -> "Dashboard":
        self.starts += 1
        out = self.home / f"serve-{self.starts}.out"
        env = {**os.environ, "LABRUNNER_HOME": str(self.home / "teacher")}
        with open(out, "w") as fh:
            self.proc = subprocess.Popen([sys.executable, "-m", "labrunner", "class", "serve", "--port", str(self.port),
                                          "--code", self.code, "--db", str(self.db)],
                                         stdout=fh, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = out.read_text()
            join = re.search(r"class join (http://\S+)", text)
            key = re.search(r"\?key=(\S+)", text)
            if join and key:
                self.url, self.key = join.group(1), key.group(1)
                self.port = int(self.url.rsplit(":", 1)[1])
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"class serve exited: {text}")
            time.sleep(0.05)
        raise RuntimeError(f"class serve did not start: {out.read_text()}")

    def output(self) -> str:
        return (self.home / f"serve-{self.starts}.out").read_text()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def received(self) -> dict[str, float]:
        """result id -> when the server stored it, read from the server's own file."""
        with sqlite3.connect(self.db, timeout=30) as db:
            return dict(db.execute("SELECT id, received_at FROM results").fetchall())


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def simulate(workdir: Path, learners: int, duration: float, interval: float, down_at: float, down_for: float,
             drain_timeout: float = 90, say=lambda line: None) -> dict:
    """`learners` learners, each queueing a result every `interval` s for `duration` s through
    the real outbox, each with a real Sender thread draining it; the server is stopped at
    `down_at` for `down_for` s and restarted on the same port. Returns the figures."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from labrunner.classroom import client, outbox, sender

    workdir = Path(workdir)
    server = Dashboard(workdir).start()
    say(f"server up at {server.url}")
    members = []
    for n in range(learners):
        where = workdir / "learners" / f"l{n:03d}"
        where.mkdir(parents=True, mode=0o700)
        status, reply = client.join(server.url, f"learner {n:03d}", server.code)
        assert status == 200, reply
        outbox.save_membership(where, {"url": server.url, "name": f"learner {n:03d}", **reply})
        members.append(where)
    say(f"{learners} learners joined")

    post_times: list[float] = []
    real_submit = client.submit

    def timed_submit(member, seq, results):          # the real call, timed
        started = time.perf_counter()
        status, reply = real_submit(member, seq, results)
        if status == 200:
            post_times.append(time.perf_counter() - started)
        return status, reply

    client.submit = timed_submit
    stop = threading.Event()
    senders = [sender.Sender(where) for where in members]
    threads = [threading.Thread(target=s.run, kwargs={"stop": stop, "idle_exit": None, "poll": 1.0}, daemon=True)
               for s in senders]
    for t in threads:
        t.start()

    queued_at: dict[str, float] = {}
    enqueue_times: list[float] = []
    offsets = [random.uniform(0, interval) for _ in members]
    start = time.monotonic()
    down = {"stopped_at": None, "restarted_at": None, "queued_at_restart": 0}

    def outage():
        time.sleep(down_at)
        server.stop()
        down["stopped_at"] = time.time()
        say(f"server stopped at t={time.monotonic() - start:.0f}s for {down_for:.0f}s")
        time.sleep(down_for)
        down["queued_at_restart"] = sum(outbox.Outbox(w).count() for w in members)
        server.start()
        down["restarted_at"] = time.time()
        say(f"server restarted at t={time.monotonic() - start:.0f}s; {down['queued_at_restart']} results queued")

    outage_thread = threading.Thread(target=outage, daemon=True)
    outage_thread.start()
    ticks = 0
    # a plain schedule: learner n sends at offsets[n] + k * interval
    schedule = sorted((offsets[n] + k * interval, n) for n in range(learners)
                      for k in range(int(duration // interval)) if offsets[n] + k * interval < duration)
    for due, n in schedule:
        wait = due - (time.monotonic() - start)
        if wait > 0:
            time.sleep(wait)
        result = {"id": uuid.uuid4().hex, "lab": "dynamodb-basics", "step": f"step-{ticks % 7}", "passed": bool(ticks % 3),
                  "status": "passed" if ticks % 3 else "attempted", "check_runs": 1 + ticks % 5, "failed_runs": ticks % 2,
                  "hints": ticks % 3, "time_on_step": 12.5, "at": time.time()}
        ticks += 1
        t0 = time.perf_counter()
        outbox.Outbox(members[n]).add(result)
        enqueue_times.append(time.perf_counter() - t0)
        queued_at[result["id"]] = time.time()
        senders[n].wake.set()
    outage_thread.join()
    say(f"{len(queued_at)} results queued; draining")
    deadline = time.monotonic() + drain_timeout
    while time.monotonic() < deadline and sum(outbox.Outbox(w).count() for w in members):
        time.sleep(0.5)
    left_queued = sum(outbox.Outbox(w).count() for w in members)
    stop.set()
    for t in threads:
        t.join(15)
    client.submit = real_submit
    received = server.received()
    server.stop()
    lost = [i for i in queued_at if i not in received]
    restarted = down["restarted_at"]
    survived = sum(1 for i, at in queued_at.items() if at < restarted and received.get(i, 0) >= restarted)
    end_to_end = [received[i] - at for i, at in queued_at.items()
                  if i in received and not down["stopped_at"] - 1 <= at <= restarted + 30]
    return {"learners": learners, "duration_s": duration, "interval_s": interval, "down_for_s": down_for,
            "sent": len(queued_at), "received": sum(1 for i in queued_at if i in received), "lost": len(lost),
            "unexpected_on_server": len(set(received) - set(queued_at)), "still_queued": left_queued,
            "queued_at_restart": down["queued_at_restart"], "survived_restart_via_queue": survived,
            "post_p50_ms": 1000 * percentile(post_times, 50), "post_p99_ms": 1000 * percentile(post_times, 99),
            "posts": len(post_times),
            "enqueue_p50_ms": 1000 * percentile(enqueue_times, 50), "enqueue_p99_ms": 1000 * percentile(enqueue_times, 99),
            "end_to_end_p50_ms": 1000 * percentile(end_to_end, 50), "end_to_end_p99_ms": 1000 * percentile(end_to_end, 99)}
