"""The Aurora stand-in's control API: plain HTTP + JSON on 127.0.0.1 (ControlServer), and the
supervisor's methods it calls (ControlAPI).

GET  /status                      -> {"writer", "nodes": [...], "failovers": [...], ...}
POST /fault    {"node", "action"}  -> kill | stop | pause | resume | restart a node ("writer" = the current one)
POST /failover {"target"?}         -> a planned failover, as `aws rds failover-db-cluster`
POST /restore  {"time"}            -> a new server recovered to that time (aurora_restore.py)
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from labrunner.services.aurora_node import Node, slot_name
from labrunner.services.aurora_setup import log

ACTIONS = ("kill", "stop", "pause", "resume", "restart")


class ControlError(Exception):
    """A bad request: the message goes back as {"error": ...} with status 400."""


class ControlServer:
    def __init__(self, port: int, supervisor, listen: str = "127.0.0.1"):
        handler = type("Handler", (_Handler,), {"supervisor": supervisor})
        self.httpd = ThreadingHTTPServer((listen, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="aurora-control", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    supervisor = None

    def log_message(self, format, *args):      # quiet: the supervisor logs what matters
        pass

    def do_GET(self):
        if self.path.rstrip("/") == "/status":
            self._reply(200, self.supervisor.status())
        else:
            self._reply(404, {"error": f"no such path {self.path}; use GET /status"})

    def do_POST(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}") if length else {}
            if not isinstance(body, dict):
                raise ControlError("the body must be a JSON object")
            if self.path.rstrip("/") == "/fault":
                result = self.supervisor.fault(body.get("node"), body.get("action"))
            elif self.path.rstrip("/") == "/failover":
                result = self.supervisor.planned_failover(body.get("target"))
            elif self.path.rstrip("/") == "/restore":
                result = self.supervisor.restore_to_time(body.get("time"))
            else:
                self._reply(404, {"error": f"no such path {self.path}; use POST /fault, /failover or /restore"})
                return
        except json.JSONDecodeError:
            self._reply(400, {"error": "the body is not JSON"})
            return
        except ControlError as exc:
            self._reply(400, {"error": str(exc)})
            return
        except Exception as exc:              # reported, not a traceback in the learner's terminal
            self._reply(500, {"error": f"{type(exc).__name__}: {exc}"})
            return
        self._reply(200, result)

    def _reply(self, code: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ControlAPI:
    """What the control server calls, mixed into the Supervisor (aurora_cluster.py), whose
    nodes, roles, lock and failover these methods use."""


    def status(self) -> dict:
        writer = self.writer
        replication = {}
        if writer.probe and self.healthy(writer):
            replication = {r["name"]: r for r in writer.probe["replication"] or []}
        nodes = []
        for node in self.nodes.values():
            is_writer = node is writer
            row = replication.get(slot_name(node.name))
            lag_bytes = lag_seconds = None
            if is_writer:
                lag_bytes, lag_seconds = 0, 0.0
            elif row and row["state"] == "streaming":
                lag_bytes = int(row["lag_bytes"] or 0)
                lag_seconds = float(row["lag_seconds"] or 0.0)
            nodes.append({
                "name": node.name, "zone": node.zone, "role": "writer" if is_writer else "reader",
                "port": node.port, "alive": self.healthy(node), "process": node.alive(),
                "paused": node.paused, "stopped": not node.wanted_up,
                "rejoining": node.name in self.workers or node.busy,
                "replay_lag_bytes": lag_bytes, "replay_lag_seconds": lag_seconds,
            })
        return {"writer": writer.name, "cluster_endpoint": self.cluster_port, "reader_endpoint": self.ports["reader"],
                "synchronous_standby_names": self.sync_applied, "nodes": nodes,
                "failovers": list(self.state["failovers"]),
                "connections_accepted": dict(self.router.accepted), "restore": self.restore_status()}

    def fault(self, name, action) -> dict:
        if action not in ACTIONS:
            raise ControlError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
        if name == "writer":
            name = self.state["writer"]
        if name not in self.nodes:
            raise ControlError(f"unknown node {name!r}; use writer or one of {', '.join(self.nodes)}")
        node = self.nodes[name]
        if action == "restart":
            return self._restart(node)
        with self.lock:
            was_writer = node is self.writer
            if action == "kill":
                node.kill()
            elif action == "stop":
                node.wanted_up = False
                node.busy = True
                try:
                    node.stop()
                finally:
                    node.busy = False
            elif action == "pause":
                if not node.alive():
                    raise ControlError(f"{name} is not running; restart it first")
                node.pause()
            elif action == "resume":
                node.resume()
            log(f"fault: {action} {name}")
            return {"node": name, "action": action, "role": "writer" if node is self.writer else "reader",
                    "said": _said(action, name, was_writer, self.hung_writer)}

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
                self.sync_applied = None
            elif self.state["nodes"][node.name]["needs_rejoin"] or not node.is_standby():
                self._rejoin(node)
            else:
                node.set_standby_of(self.writer)
                node.start()
        finally:
            node.busy = False
        log(f"fault: restart {node.name}")
        writer = node is self.writer
        return {"node": node.name, "action": "restart", "role": "writer" if writer else "reader",
                "said": _said("restart", node.name, writer, self.hung_writer)}

    def planned_failover(self, target) -> dict:
        if target is not None and target not in self.nodes:
            raise ControlError(f"unknown node {target!r}; use one of {', '.join(self.nodes)}")
        with self.lock:
            if target == self.state["writer"]:
                raise ControlError(f"{target} is already the writer")
            if self.workers:
                raise ControlError(f"{', '.join(self.workers)} is being brought back; try again in a few seconds")
            old = self.writer
            record = self._failover("planned failover", planned=True, target=target)
            old.busy = True
        try:
            self._rejoin(old)
        finally:
            old.busy = False
        return record


def _said(action: str, name: str, writer: bool, hung_after: float) -> str:
    """One sentence for the learner: what was done and what the cluster does next."""
    if action == "kill":
        return (f"killed {name}, the writer: the cluster fails over to the most caught-up reader and "
                f"{name} comes back as a reader" if writer else
                f"killed {name}, a reader: it comes back by itself in a few seconds")
    if action == "stop":
        return (f"stopped {name}, the writer: the cluster fails over to a reader; {name} stays down until restart"
                if writer else f"stopped {name}: it stays down until restart")
    if action == "pause":
        return (f"paused {name}, the writer: writes hang; after {hung_after:.0f} s without an answer the "
                f"cluster fails over and {name} is shut out" if writer else
                f"paused {name}: its connections hang and the reader endpoint stops choosing it")
    if action == "resume":
        return f"resumed {name}"
    return (f"restarted {name}; it is still the writer (a reboot does not fail over)" if writer
            else f"restarted {name}, a reader")
