"""The warm checker: one small background process per running lab that keeps the lab's
code and its engine clients loaded, so `labrunner check` answers in a fraction of a second
(a cold check spends most of a second importing boto3 and building clients).

It listens on 127.0.0.1 only and answers a request only with the session's token (in the
state dir). It exits when its session ends (`labrunner down`) or after a long idle time.
`labrunner check` falls back to checking in-process whenever the checker does not answer.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time

from labrunner import paths
from labrunner.checks import CheckResult
from labrunner.errors import LabError, LabrunnerError, ServiceError

IDLE_SECONDS = 6 * 3600
ERRORS = {"ServiceError": ServiceError, "LabError": LabError}


def info_file(lab_id: str):
    return paths.state_dir() / "sessions" / f"{lab_id}.checker.json"


def read_info(lab_id: str) -> dict | None:
    try:
        return json.loads(info_file(lab_id).read_text())
    except (OSError, ValueError):
        return None


# ---- the client side (in `labrunner check`) ------------------------------------------

def ask(lab, session, step_id: str, timeout: float = 120.0) -> list[CheckResult] | None:
    """Results from the session's checker, or None when there is none or it did not answer."""
    info = read_info(session.lab)
    if not info or info.get("session") != session.id or info.get("lab_path") != str(lab.path):
        return None
    request = json.dumps({"token": info["token"], "step": step_id}).encode() + b"\n"
    try:
        with socket.create_connection(("127.0.0.1", info["port"]), timeout=1.0) as conn:
            conn.settimeout(timeout)
            conn.sendall(request)
            reply = json.loads(_read_line(conn))
    except (OSError, ValueError):
        return None
    if "error" in reply:
        error = reply["error"]
        raise ERRORS.get(error["kind"], LabrunnerError)(error["message"], error.get("fix"))
    try:
        return [CheckResult(**item) for item in reply["results"]]
    except (KeyError, TypeError):       # a checker of another labrunner version: check in-process
        return None


def _read_line(conn) -> bytes:
    chunks = []
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            break
    return b"".join(chunks)


def spawn(lab, session) -> None:
    """Start the checker for a session in the background (it outlives this command)."""
    info = read_info(session.lab)
    if info and info.get("session") == session.id and info.get("lab_path") == str(lab.path) and _alive(info):
        return
    kwargs: dict = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if sys.platform == "win32":
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS
    else:
        kwargs["start_new_session"] = True
    subprocess.Popen([sys.executable, "-m", "labrunner.warm_checker", str(lab.path), session.id], **kwargs)


def stop(lab_id: str) -> None:
    info = read_info(lab_id)
    info_file(lab_id).unlink(missing_ok=True)
    if info and _alive(info):
        import psutil

        try:
            psutil.Process(info["pid"]).terminate()
        except psutil.Error:
            pass


def _alive(info: dict) -> bool:
    import psutil

    try:
        process = psutil.Process(int(info["pid"]))
        return abs(process.create_time() - float(info.get("started", 0))) < 1.0
    except (psutil.Error, KeyError, ValueError):
        return False


# ---- the server side ---------------------------------------------------------------

class _Warm:
    """The lab and its fixtures, reloaded when a lab file or the session's endpoints change."""

    def __init__(self, lab_path):
        self.path = lab_path
        self.stamp = None
        self.lab = None
        self.shared: dict = {}        # boto3 clients and the like, kept warm between checks
        self.endpoints = None

    def _lab_stamp(self, path) -> tuple:
        # labs/_shared holds code several labs load (labrunner.labs.shared.load): a change there
        # must reload the lab too, or a check keeps running the old shared code.
        files = list(path.glob("*.py")) + list((path.parent / "_shared").glob("*.py"))
        return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in files) +
                     [(str(path / "lab.yaml"), (path / "lab.yaml").stat().st_mtime_ns)])

    def prepare(self, session) -> None:
        """Load the lab and build its engine clients (what makes a cold check slow)."""
        from labrunner import services
        from labrunner.checks.fixtures import fixtures_for
        from labrunner.labs.loader import load_code, parse_lab

        stamp = self._lab_stamp(self.path)
        endpoints = session.endpoints()
        if stamp != self.stamp or endpoints != self.endpoints:
            self.lab = load_code(parse_lab(self.path))      # a teacher's edit is picked up
            self.shared = {}
            with fixtures_for(self.lab, session, shared=self.shared) as fixtures:
                for name in self.lab.services:
                    for fixture in services.get(name).shared_fixtures:
                        fixtures.get(fixture)
            self.stamp, self.endpoints = stamp, endpoints

    def results(self, session, step_id: str) -> list[CheckResult]:
        from labrunner import lifecycle
        from labrunner.checks import runner
        from labrunner.checks.fixtures import fixtures_for

        self.prepare(session)
        lifecycle.ensure_ready(session)
        with fixtures_for(self.lab, session, shared=self.shared) as fixtures:
            return runner.run_step(self.lab, self.lab.step(step_id), fixtures)


def serve(lab_path: str, session_id: str) -> None:
    from pathlib import Path

    import psutil

    from labrunner import sessions
    from labrunner.sessions import _write_atomic

    from labrunner import sessions as _sessions

    warm = _Warm(Path(lab_path))
    session = _sessions.find(Path(lab_path).name)
    if session is None or session.id != session_id:
        return
    try:
        warm.prepare(session)          # before announcing itself: no check ever waits on a cold checker
    except Exception:
        pass                           # the first request tries again and reports what is wrong
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(1.0)
    token = secrets.token_hex(16)
    lab_id = Path(lab_path).name
    info = {"pid": os.getpid(), "started": psutil.Process().create_time(), "port": server.getsockname()[1],
            "token": token, "session": session_id, "lab_path": lab_path}
    _write_atomic(info_file(lab_id), json.dumps(info))
    try:
        os.chmod(info_file(lab_id), 0o600)
    except OSError:
        pass
    last_used = time.monotonic()
    while True:
        session = sessions.find(lab_id)
        if session is None or session.id != session_id or session.stopped or read_info(lab_id) != info:
            break                                   # the session ended or another checker took over
        if time.monotonic() - last_used > IDLE_SECONDS:
            break
        try:
            conn, _ = server.accept()
        except socket.timeout:
            continue
        last_used = time.monotonic()
        with conn:
            conn.settimeout(10)
            try:
                request = json.loads(_read_line(conn))
            except (OSError, ValueError):
                continue
            if not secrets.compare_digest(str(request.get("token", "")), token):
                continue
            # Read the session again: since the loop last did (up to a second ago), a
            # `fault restart` may have moved a container's port.
            session = sessions.find(lab_id)
            if session is None or session.id != session_id or session.stopped:
                break                               # the client checks in-process instead
            try:
                reply = {"results": [r.__dict__ for r in warm.results(session, request["step"])]}
            except LabrunnerError as exc:
                kind = "ServiceError" if isinstance(exc, ServiceError) else type(exc).__name__
                reply = {"error": {"kind": kind, "message": exc.message, "fix": exc.fix}}
            except Exception as exc:  # keep serving; the client falls back on its own
                reply = {"error": {"kind": "LabrunnerError", "message": f"the checker failed: {exc}"}}
            try:
                conn.sendall(json.dumps(reply).encode() + b"\n")
            except OSError:
                pass
    if read_info(lab_id) == info:
        info_file(lab_id).unlink(missing_ok=True)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
