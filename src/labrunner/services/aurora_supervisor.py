"""What every cluster supervisor does whatever its engine: ClusterSupervisor (endpoints, health,
the monitor's tick, workers, the failover's bookkeeping) and the command line around it
(parse_cluster_args, serve). The engine's own part (making and following nodes, probing them,
promoting one) stays in its module: aurora_cluster.py (PostgreSQL), aurora_mysql_cluster.py
(MariaDB), aurora_multiaz.py (RDS Multi-AZ on aurora_cluster's).

Named aurora_* so that the images' prepare.sh copy it with the rest (services/aurora_*.py).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from pathlib import Path

from labrunner.services.aurora_control import ControlError


class Interrupted(Exception):
    """A stop was asked for while the cluster was being made or brought up."""


def close_quietly(conn):
    if conn is not None:
        try:
            conn.close()
        except Exception:
            pass
    return None


class ClusterSupervisor:
    """The engine-neutral half of a supervisor. A subclass sets `log` (a function), the timings
    below, and writes the engine's hooks: _serves_reads, _tick_engine, _candidates, _promote,
    _point_at_writer (and _recover, which the tick spawns)."""

    poll = 0.5              # seconds between health queries of a node
    stale = 2.5             # a node whose last good answer is older than this is not healthy
    hung_writer = 8.0       # a writer that answers nothing for this long is failed over (and fenced)
    restart_delay = 3.0     # a crashed node comes back by itself after this long

    def __init__(self, data: Path, cluster_port: int, ports: dict[str, int], creds: dict[str, str] | None,
                 listen: str = "127.0.0.1"):
        self.data = data
        self.listen = listen
        self.cluster_port = cluster_port
        self.ports = ports
        self.creds = creds
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.state: dict = {}
        self.nodes: dict = {}
        self.router = None
        self.control = None
        self.turn = 0                       # round-robin position of the reader endpoint
        self.workers: dict[str, threading.Thread] = {}

    @staticmethod
    def log(message: str) -> None:
        raise NotImplementedError

    @staticmethod
    def utc_now() -> str:
        raise NotImplementedError

    # ---- state --------------------------------------------------------------------------------

    @property
    def writer(self):
        return self.nodes[self.state["writer"]]

    def _check_interrupt(self) -> None:
        if self.stopping.is_set():
            raise Interrupted("stopping")

    def request_stop(self, *_args) -> None:
        """SIGTERM/SIGINT. Never raises: a start under way stops at its next step (a node
        being waited for stops at once), so no process is left half-made."""
        self.stopping.set()

    def _stop_nodes(self) -> None:
        stoppers = [threading.Thread(target=node.stop) for node in self.nodes.values()]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join(60)

    # ---- endpoints ----------------------------------------------------------------------------

    def _serve(self, router_class, control_class) -> None:
        """Once every node is up: a probe thread per node, the cluster and reader endpoints,
        the control API and the monitor."""
        for node in self.nodes.values():
            threading.Thread(target=self._probe_loop, args=(node,), name=f"probe-{node.name}",
                             daemon=True).start()
        self.router = router_class({
            "cluster": (self.cluster_port, self.pick_writer),
            "reader": (self.ports["reader"], self.pick_reader),
        }, self.listen)
        self.router.start()
        self.control = control_class(self.ports["control"], self, self.listen)
        self.control.start()
        threading.Thread(target=self._monitor_loop, name="monitor", daemon=True).start()

    def _endpoints_said(self) -> str:
        return (f"writer {self.state['writer']}, cluster endpoint {self.listen}:{self.cluster_port}, "
                f"reader endpoint {self.listen}:{self.ports['reader']}, control {self.listen}:{self.ports['control']}")

    def pick_writer(self):
        writer = self.writer
        return (writer.name, writer.port)

    def pick_reader(self):
        readers = [n for n in self.nodes.values() if n is not self.writer and self.healthy(n)
                   and self._serves_reads(n)]
        if not readers:
            return self.pick_writer()
        self.turn += 1
        node = readers[self.turn % len(readers)]
        return (node.name, node.port)

    def _serves_reads(self, node) -> bool:
        """A healthy node's last probe says it is a reader (read-only, replicating)."""
        raise NotImplementedError

    # ---- health -------------------------------------------------------------------------------

    def healthy(self, node) -> bool:
        return (not node.busy and node.alive() and node.probe is not None
                and time.monotonic() - node.probe_at < self.stale)

    def _monitor_loop(self) -> None:
        while not self.stopping.wait(self.poll / 2):
            try:
                self._tick()
            except Exception as exc:          # a failed step is retried on the next tick
                self.log(f"monitor: {type(exc).__name__}: {exc}")

    def _tick(self) -> None:
        now = time.monotonic()
        with self.lock:
            for node in self.nodes.values():
                if node.busy:
                    continue
                if node.alive():
                    node.down_since = None
                elif node.down_since is None:
                    node.down_since = now
                    node.probe = None
                    self.log(f"{node.name} is down")
                    if self.router:
                        self.router.close_node(node.name)
            writer = self.writer
            if not writer.busy and writer.name not in self.workers:
                lost = not writer.alive()
                hung = not lost and now - writer.probe_at > self.hung_writer
                if (lost or hung) and self._candidates(None):
                    self._failover("writer lost" if lost else "writer not answering", planned=False)
            self._restart_due(now)
            self._tick_engine(now)

    def _tick_engine(self, now: float) -> None:
        """The engine's own watch, each tick, with self.lock held (replication settings, stuck readers)."""

    def _restart_due(self, now: float) -> None:
        for node in self.nodes.values():
            if (not node.alive() and node.wanted_up and not node.busy and node.name not in self.workers
                    and node.down_since is not None and now - node.down_since >= self.restart_delay):
                self._spawn(node.name, self._recover, node)

    def _spawn(self, name: str, fn, *args) -> None:
        def work():
            try:
                fn(*args)
            except Exception as exc:
                self.log(f"{name}: {type(exc).__name__}: {exc}")
            finally:
                with self.lock:
                    self.workers.pop(name, None)
        thread = threading.Thread(target=work, name=f"work-{name}", daemon=True)
        self.workers[name] = thread
        thread.start()

    # ---- failover -----------------------------------------------------------------------------

    def _failover(self, reason: str, planned: bool, target: str | None = None) -> dict:
        """Promote the most caught-up reader (or `target`). Called with self.lock held."""
        began, started_at = time.monotonic(), self.utc_now()
        old = self.writer
        candidates = self._candidates(target)
        if not candidates:
            raise ControlError(f"{target} is not a healthy reader" if target else "no healthy reader to promote")
        self.log(f"failover: {reason} ({old.name})")
        old.busy = True
        try:
            chosen = self._promote(old, candidates, planned, target)
            self.state["writer"] = chosen.name
            self.state["nodes"][old.name]["needs_rejoin"] = self._old_writer_rejoins(planned)
            if self.router:
                self.router.close_node(old.name)
            record = {"time": started_at, "from": old.name, "to": chosen.name, "reason": reason,
                      "planned": planned, "seconds": round(time.monotonic() - began, 3)}
            self.state["failovers"].append(record)
            self.save()
            self.log(f"failover: {chosen.name} is the writer ({record['seconds']} s)")
            for node in self.nodes.values():
                if node is not chosen and node is not old and node.alive():
                    try:
                        self._point_at_writer(node)
                    except Exception as exc:
                        self.log(f"could not repoint {node.name} yet ({exc}); it is rebuilt if it does not follow")
            return record
        finally:
            old.busy = False
            if self._old_writer_goes_down(planned):
                old.down_since = time.monotonic()

    def _promote(self, old, candidates: list, planned: bool, target: str | None):
        """Stop (planned) or fence (not planned) the old writer, choose a reader, make it the
        writer; returns it."""
        raise NotImplementedError

    def _old_writer_rejoins(self, planned: bool) -> bool:
        """Whether the old writer must rejoin (be rewound or rebuilt) before it can read."""
        return True

    def _old_writer_goes_down(self, planned: bool) -> bool:
        """Whether the old writer counts as down after the failover (brought back by the tick)."""
        return True

    def _point_at_writer(self, node) -> None:
        """Make a running reader follow the new writer."""
        raise NotImplementedError


# ---- the command line ------------------------------------------------------------------------

def parse_cluster_args(argv, prog: str, description: str, need: list[str], helps: dict | None = None,
                       optional: tuple[str, ...] = (), quote_free: bool = False):
    """--data, --port, --ports (JSON, an integer port for each name in `need`, and for each in
    `optional` that is given; all different) and --listen. `helps`: the help text of each option."""
    helps = helps or {}
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--data", required=True, help=helps.get("data"))
    parser.add_argument("--port", required=True, type=int, help=helps.get("port"))
    parser.add_argument("--ports", required=True, help=helps.get("ports"))
    parser.add_argument("--listen", default="127.0.0.1", help=helps.get("listen"))
    args = parser.parse_args(argv)
    try:
        ports = json.loads(args.ports)
    except ValueError:
        parser.error("--ports is not JSON")
    need = list(need)
    if not isinstance(ports, dict) or any(not isinstance(ports.get(k), int) for k in need):
        parser.error(f"--ports needs an integer port for each of {', '.join(need)}")
    need += [k for k in optional if isinstance(ports.get(k), int)]
    every = [args.port] + [ports[k] for k in need]
    if len(set(every)) != len(every):
        parser.error("--port and --ports must all be different ports")
    if quote_free and "'" in args.data:
        parser.error("--data must not contain a single quote")
    return Path(args.data).resolve(), args.port, {k: ports[k] for k in need}, args.listen


def reap_as_init() -> int | None:
    """As a container's PID 1, orphans (the processes of a killed node) become our children and
    must be reaped. The supervisor then runs as a child and this process only reaps and forwards
    SIGTERM/SIGINT. Returns the child's exit code here, None in the child."""
    child = os.fork()
    if child == 0:
        return None
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda number, _frame: os.kill(child, number))
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 0
        if pid == child:
            return os.waitstatus_to_exitcode(status)


def serve(args, make, drop_root, hand_over, folders: tuple[str, ...], check=None) -> int:
    """main() of a supervisor: args from parse_cluster_args; make(data, port, ports, listen) ->
    the supervisor. As PID 1 it reaps; as root the engine runs as the unprivileged user, who
    must reach DIR and DIR/<folders>. `check()` fails early when the engine is missing."""
    data, port, ports, listen = args
    if os.name == "posix" and os.getpid() == 1:
        code = reap_as_init()
        if code is not None:
            return code
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    if check is not None:
        check()
    ids = drop_root()
    if ids:
        os.lchown(data, ids["user"], ids["group"])
        for folder in folders:
            hand_over(data / folder)
    supervisor = make(data, port, ports, listen)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    return supervisor.run()
