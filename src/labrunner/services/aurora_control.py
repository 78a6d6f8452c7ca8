"""The Aurora stand-in's control API: plain HTTP + JSON on 127.0.0.1.

GET  /status                      -> {"writer", "nodes": [...], "failovers": [...], ...}
POST /fault    {"node", "action"}  -> kill | stop | pause | resume | restart a node ("writer" = the current one)
POST /failover {"target"?}         -> a planned failover, as `aws rds failover-db-cluster`
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
            else:
                self._reply(404, {"error": f"no such path {self.path}; use POST /fault or POST /failover"})
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
