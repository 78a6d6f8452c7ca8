"""`labrunner class serve`: the teacher's dashboard, a Flask app served by waitress.

Routes: POST /api/join (the class code), POST /api/results and /api/leave (a learner's
token and signature), and for the teacher, with the key printed at start: GET / (the
page), /api/grid (its JSON) and /export.csv.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections import deque
from importlib import resources

from flask import Flask, Response, jsonify, request
from waitress import create_server

from labrunner.classroom import grid, wire
from labrunner.classroom.store import Rejected, Store

JOIN_FAILURES_PER_ADDRESS = 5        # wrong codes from one address per minute, then 429
JOIN_FAILURES_TOTAL = 30             # wrong codes from everyone per minute, then 429
WINDOW = 60.0


class JoinLimiter:
    """Counts wrong class codes in the last minute, per address and in all."""

    def __init__(self):
        self.lock = threading.Lock()
        self.failures: deque[tuple[float, str]] = deque()

    def _trim(self, now):
        while self.failures and self.failures[0][0] < now - WINDOW:
            self.failures.popleft()

    def blocked(self, address: str) -> bool:
        with self.lock:
            now = time.monotonic()
            self._trim(now)
            mine = sum(1 for _, a in self.failures if a == address)
            return mine >= JOIN_FAILURES_PER_ADDRESS or len(self.failures) >= JOIN_FAILURES_TOTAL

    def failed(self, address: str) -> None:
        with self.lock:
            self.failures.append((time.monotonic(), address))


def create_app(store: Store, code: str, teacher_key: str) -> Flask:
    app = Flask("labrunner.classroom")
    app.config["MAX_CONTENT_LENGTH"] = wire.MAX_BODY
    limiter = JoinLimiter()
    page = resources.files("labrunner.classroom").joinpath("dashboard.html").read_text(encoding="utf-8")

    def refuse(status: int, error: str, **extra):
        return jsonify({"error": error, **extra}), status

    def body_json() -> tuple[bytes, dict]:
        raw = request.get_data(cache=True)           # MAX_CONTENT_LENGTH: 413 beyond it
        try:
            data = json.loads(raw)
        except ValueError:
            raise Rejected(400, "the body is not JSON") from None
        if not isinstance(data, dict):
            raise Rejected(400, "the body is a JSON object")
        return raw, data

    def teacher() -> bool:
        given = request.args.get("key") or request.headers.get("X-Labrunner-Key") or ""
        return hmac.compare_digest(given, teacher_key)

    @app.errorhandler(Rejected)
    def rejected(exc: Rejected):
        return refuse(exc.status, exc.error, **exc.extra)

    @app.errorhandler(413)
    def too_large(_exc):
        return refuse(413, f"the body is larger than {wire.MAX_BODY} bytes")

    @app.post("/api/join")
    def join():
        address = request.remote_addr or "?"
        if limiter.blocked(address):
            return refuse(429, "too many wrong class codes; wait a minute and check the code with your teacher")
        _raw, data = body_json()
        given = data.get("code")
        if not isinstance(given, str) or not hmac.compare_digest(given.strip().upper().encode(), code.upper().encode()):
            limiter.failed(address)
            return refuse(401, "wrong class code")
        name = data.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > wire.NAME_MAX \
                or not name.strip().isprintable():
            return refuse(400, f"a name is 1 to {wire.NAME_MAX} printable characters")
        return jsonify(store.join(name.strip()))

    def signed() -> tuple[str, dict]:
        raw, data = body_json()
        learner = store.authenticate(request.headers.get(wire.TOKEN_HEADER, ""), raw,
                                     request.headers.get(wire.SIGNATURE_HEADER, ""), data)
        return learner, data

    @app.post("/api/results")
    def results():
        learner, data = signed()
        items = data.get("results")
        if not isinstance(items, list) or not 1 <= len(items) <= wire.MAX_BATCH or set(data) != {"learner", "seq", "results"}:
            raise Rejected(400, f"results is a list of 1 to {wire.MAX_BATCH} results, and nothing else is sent")
        for item in items:
            problem = wire.result_problem(item)
            if problem:
                raise Rejected(400, problem)
        stored = store.add_results(learner, data["seq"], items)
        return jsonify({"stored": stored, "seq": data["seq"]})

    @app.post("/api/leave")
    def leave():
        learner, data = signed()
        store.leave(learner, data["seq"])
        return jsonify({"left": True})

    @app.get("/")
    def dashboard():
        if not teacher():
            return Response("The dashboard needs the teacher's key: open the URL `labrunner class serve` printed.\n",
                            status=403, mimetype="text/plain")
        return Response(page, mimetype="text/html",
                        headers={"Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
                                                            "script-src 'unsafe-inline'; img-src data:",
                                 "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    @app.get("/api/grid")
    def grid_json():
        if not teacher():
            return refuse(403, "the teacher's key is missing or wrong")
        return jsonify(grid.build(store))

    @app.get("/export.csv")
    def export():
        if not teacher():
            return refuse(403, "the teacher's key is missing or wrong")
        stamp = time.strftime("%Y%m%d-%H%M", time.localtime())
        return Response(grid.to_csv(grid.build(store)), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="class-{stamp}.csv"'})

    return app


def make_server(store: Store, code: str, teacher_key: str, host: str, port: int):
    """A waitress server bound to host:port (port 0: any free one); `.effective_port`, `.run()`."""
    app = create_app(store, code, teacher_key)
    return create_server(app, host=host, port=port, threads=8, max_request_body_size=wire.MAX_BODY,
                         connection_limit=1000, channel_timeout=30, ident="labrunner-class")
