"""The local runtime: engines as plain processes on 127.0.0.1, no Docker needed.

Each engine gets a data folder under the state dir with a pid file and a log.
Processes are started in their own session/process group so they outlive the
command that started them (the learner works in another terminal), and
`labrunner down` finds them again through the pid files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from labrunner import paths, unprivileged
from labrunner.errors import RuntimeUnavailable, ServiceError
from labrunner.runtimes.base import LOOPBACK, credentials, endpoint_of, ensure_port_free, free_port, port_free
from labrunner.services.base import Service
from labrunner.state import ServiceState

WINDOWS = sys.platform == "win32"
UNPRIVILEGED_USER = unprivileged.USER
TEMP_PREFIX = "labrunner-engine-"      # data folders of engines run as UNPRIVILEGED_USER
DATA_POINTER = "data_dir"              # in run_dir: where such a folder is


def engines_dir() -> Path:
    return paths.state_dir() / "engines"


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _ours(path: Path) -> bool:
    """A folder labrunner made for an engine: under its engines folder, or a temp folder of its
    own naming directly in the system temp dir. Anything else is never deleted."""
    try:
        resolved = path.resolve()
    except OSError:
        return False
    if path.is_symlink():
        return False
    if resolved.is_relative_to(engines_dir().resolve()) and resolved != engines_dir().resolve():
        return True
    return resolved.parent == Path(tempfile.gettempdir()).resolve() and resolved.name.startswith(TEMP_PREFIX)


class LocalRuntime:
    name = "local"

    def launch(self, service: Service, *, lab_id: str, session_id: str, port: int | None,
               workspace: str | None = None) -> ServiceState:
        recipe = service.local
        if recipe is None:
            raise RuntimeUnavailable(
                f"{service.aws_name} has no local stand-in: {service.local_unavailable_reason}",
                "use Docker: install Docker Desktop (or Colima/Podman), then --runtime docker",
            )
        try:
            recipe.find()
        except RuntimeUnavailable as exc:
            raise _without_docker(exc) from None
        if port is None:
            port = free_port()
        else:
            ensure_port_free(port, service.name)
        run_dir = engines_dir() / session_id / service.name      # pid file, log, data pointer
        if run_dir.exists():
            self.remove({"run_dir": str(run_dir)})
        _private_dir(run_dir)
        state = ServiceState(service=service.name, runtime=self.name, host=LOOPBACK, port=port,
                             run_dir=str(run_dir), log=str(run_dir / "engine.log"), standin=recipe.standin,
                             lab=lab_id, session=session_id, workspace=workspace or "", **credentials(service))
        state["ports"] = _extra_ports(service, {port})
        try:
            state["data_dir"] = str(self._data_dir(service, run_dir))
            data_dir = Path(state["data_dir"])
            prepare = getattr(recipe, "prepare", None)
            if prepare:
                def run(argv, input=None):
                    privileges = self._privileges(service, data_dir) or {}   # also hands over new files
                    done = _run_recorded(argv, input, run_dir / "prepare.pid", cwd=data_dir, **privileges)
                    if done.returncode != 0:
                        raise ServiceError(f"could not prepare {service.name}: {Path(argv[0]).name} failed",
                                           "see its output below", log_tail=(done.stdout + done.stderr)[-3000:])
                    return done

                prepare(endpoint_of(state), str(data_dir), run)
                self._privileges(service, data_dir)     # files prepare wrote belong to the engine's user too
            self._spawn(service, state)
        except BaseException:
            self.remove(state)      # nothing half-made stays behind: folders, password file, process
            raise
        return state

    def _data_dir(self, service: Service, run_dir: Path) -> Path:
        """The engine's data folder, private from creation. Under the state folder, unless the
        engine must run as the unprivileged user while labrunner runs as root: that user cannot
        reach root's state folder, so it gets a folder of its own with a random name in the
        system temp dir (never a fixed name another user could create first), recorded in
        run_dir before anything is written in it."""
        if self._privileges(service, None) is None:
            return _private_dir(run_dir / "data")
        session_id = run_dir.parent.name          # in the name, so a sweep or a person can tell whose it is
        data_dir = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{service.name}-{session_id}-"))   # 0700, O_EXCL
        (run_dir / DATA_POINTER).write_text(str(data_dir), encoding="utf-8")
        return data_dir

    def _privileges(self, service: Service, data_dir: Path | None) -> dict | None:
        """Popen arguments that drop root for engines that refuse it (None: not needed).
        With a data_dir, that folder is handed over to the unprivileged user."""
        if WINDOWS or not (service.local.refuses_root and os.geteuid() == 0):
            return None
        return _unprivileged(data_dir)

    def _spawn(self, service: Service, state: dict) -> None:
        recipe = service.local
        data_dir = Path(state["data_dir"])
        if service.extra_ports:
            argv = recipe.argv(int(state["port"]), str(data_dir), dict(state["ports"]))
        else:
            argv = recipe.argv(int(state["port"]), str(data_dir))
        kwargs: dict = {"cwd": data_dir, "stdin": subprocess.DEVNULL, "stderr": subprocess.STDOUT}
        if WINDOWS:
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS
        else:
            kwargs["start_new_session"] = True
            privileges = self._privileges(service, data_dir) or {}      # also hands data_dir over
            if not getattr(recipe, "drops_root_itself", False):
                kwargs.update(privileges)
        with open(state["log"], "ab") as log:
            try:
                process = subprocess.Popen(argv, stdout=log, **kwargs)
            except OSError as exc:
                raise ServiceError(f"could not start {service.name}: {exc.strerror}: {argv[0]}") from None
        state["pid"] = process.pid
        state["started"] = _create_time(process.pid)
        run_dir = Path(state.get("run_dir", state["data_dir"]))
        (run_dir / "engine.pid").write_text(json.dumps({"pid": process.pid, "started": state["started"],
                                                        "data_dir": state["data_dir"]}))

    def alive(self, state: dict) -> bool:
        process = _process(state)
        if process is None:
            return False
        import psutil

        try:
            return process.status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
        except psutil.Error:
            return False

    def paused(self, state: dict) -> bool:
        import psutil

        process = _process(state)
        try:
            return process is not None and process.status() == psutil.STATUS_STOPPED
        except psutil.Error:
            return False

    def logs(self, state: dict, lines: int = 30) -> str:
        try:
            with open(state["log"], "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - 16384))
                return b"\n".join(fh.read().splitlines()[-lines:]).decode("utf-8", "replace")
        except OSError:
            return ""

    def remove(self, state: dict) -> None:
        """Stop the engine and delete its folders: only folders labrunner made (see `_ours`)."""
        self._terminate(state, timeout=5)
        run_dir = Path(state["run_dir"]) if state.get("run_dir") else None
        folders = [Path(state["data_dir"])] if state.get("data_dir") else []
        if run_dir is not None:
            try:
                folders.append(Path((run_dir / DATA_POINTER).read_text(encoding="utf-8").strip()))
            except (OSError, ValueError):
                pass
            folders.append(run_dir)
        for folder in folders:
            if folder.exists() and _ours(folder):
                shutil.rmtree(folder, ignore_errors=True)
        if run_dir is not None and _ours(run_dir.parent):
            try:
                run_dir.parent.rmdir()          # the session's folder, once its last engine is gone
            except OSError:
                pass

    def sweep(self, keep_sessions: set[str]) -> list[str]:
        """Stop and delete what no recorded session owns: engines whose session is gone (a
        crash, a kill while starting). Returns what was stopped."""
        stopped = []
        root = engines_dir()
        for session_dir in sorted(root.iterdir()) if root.is_dir() else []:
            if session_dir.name not in keep_sessions:
                stopped += self.sweep_session(session_dir.name)
        return stopped

    def sweep_session(self, session_id: str) -> list[str]:
        """Stop and delete every engine folder of one session, recorded in it or not."""
        stopped = []
        session_dir = engines_dir() / session_id
        if not session_dir.is_dir() or not _ours(session_dir):
            return stopped
        for run_dir in sorted(p for p in session_dir.iterdir() if p.is_dir() and not p.is_symlink()):
            try:
                info = json.loads((run_dir / "engine.pid").read_text())
            except (OSError, ValueError):
                info = {}
            try:
                preparing = json.loads((run_dir / "prepare.pid").read_text())
            except (OSError, ValueError):
                preparing = {}
            if self.alive(preparing):
                stopped.append(f"{run_dir.name} preparation {preparing.get('pid')}")
                self._terminate(preparing, timeout=3)
            state = {"pid": info.get("pid"), "started": info.get("started"), "run_dir": str(run_dir)}
            if self.alive(state):
                stopped.append(f"{run_dir.name} process {info.get('pid')}")
            self.remove(state)
        shutil.rmtree(session_dir, ignore_errors=True)
        return stopped

    def _terminate(self, state: dict, timeout: float) -> None:
        process = _process(state)
        if process is None:
            return
        import psutil

        try:
            children = process.children(recursive=True)   # e.g. PostgreSQL's backends
        except psutil.Error:
            children = []
        try:
            process.terminate()
            process.wait(timeout)
        except psutil.TimeoutExpired:
            process.kill()                      # and its workers, which would hold the data and port
            for child in children:
                try:
                    child.kill()
                except psutil.Error:
                    pass
            psutil.wait_procs([process, *children], timeout=5)
        except psutil.Error:
            pass

    def signal(self, state: dict, action: str) -> dict:
        process = _process(state)
        import psutil

        if action == "kill":
            if process:
                process.kill()
                _reap(process)
        elif action == "stop":
            self._terminate(state, timeout=10)
        elif action == "pause":
            if process:
                process.suspend()
                _wait_for_status(process, psutil.STATUS_STOPPED)   # SIGSTOP lands a moment later
        elif action == "resume":
            if process:
                process.resume()
        elif action == "restart":
            if process and process.is_running():
                try:
                    process.resume()
                except psutil.Error:
                    pass
                self._terminate(state, timeout=10)
            from labrunner import services

            if not port_free(int(state["port"]), time_wait_is_free=True):
                state["port"] = free_port()       # another program took it while the engine was down
            service = services.get(state["service"])
            taken = {name for name, port in (state["ports"] or {}).items()
                     if not port_free(int(port), time_wait_is_free=True) and not _held_by_own_node(int(port), state)}
            if taken or set(state["ports"] or {}) != set(service.extra_ports):
                kept = {name: port for name, port in (state["ports"] or {}).items() if name not in taken}
                state["ports"] = _extra_ports(service, {int(state["port"]), *kept.values()}, kept)
            self._spawn(service, state)
        return state


def _held_by_own_node(port: int, state: dict) -> bool:
    """Is 127.0.0.1:port held by a process running on this service's own data folder? A cluster
    node outlives its killed supervisor; the next supervisor adopts it on the same port, so the
    port stays the node's instead of moving (and the node being restarted)."""
    import psutil

    data_dir = state.get("data_dir")
    if not data_dir:
        return False
    try:
        pids = {c.pid for c in psutil.net_connections("inet")
                if c.status == psutil.CONN_LISTEN and c.laddr.port == port and c.pid}
    except (psutil.Error, OSError):
        return False
    for pid in pids:
        try:
            if any(arg.startswith(data_dir + os.sep) for arg in psutil.Process(pid).cmdline()):
                return True
        except psutil.Error:
            continue
    return False


def _extra_ports(service: Service, used: set[int], kept: dict | None = None) -> dict[str, int]:
    """A free 127.0.0.1 port for each of the service's named endpoints (those in `kept` stay),
    none equal to another's."""
    ports = dict(kept or {})
    for name in service.extra_ports:
        while name not in ports:
            port = free_port()
            if port not in used and port not in ports.values():
                ports[name] = port
    return {name: ports[name] for name in service.extra_ports}


def _run_recorded(argv, input, pid_file: Path, **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run, with the child's pid and start time in pid_file while it runs, so a
    labrunner killed meanwhile (initdb takes seconds) leaves `down` a process to stop."""
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, **kwargs)
    pid_file.write_text(json.dumps({"pid": process.pid, "started": _create_time(process.pid)}))
    try:
        out, err = process.communicate(input)
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        pid_file.unlink(missing_ok=True)
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


def _without_docker(exc: RuntimeUnavailable) -> RuntimeUnavailable:
    """A local engine is missing: propose Docker only where a Docker daemon answers."""
    from labrunner.runtimes import docker

    if not exc.fix or "--runtime docker" not in exc.fix or docker.available():
        return exc
    fix = re.sub(r"\s*(—|,)?\s*or use (Docker: )?(install Docker Desktop \(or Colima/Podman\), then )?"
                 r"--runtime docker", "", exc.fix).rstrip(" —,")
    return RuntimeUnavailable(exc.message, fix or None)


def _create_time(pid: int) -> float:
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return 0.0


def _process(state: dict):
    """The engine's process, if it is still the one we started (pids get reused)."""
    import psutil

    pid, started = state.get("pid"), state.get("started")
    if not pid or not started:
        return None       # never signal a pid without knowing it is the process we started
    try:
        process = psutil.Process(int(pid))
        if abs(process.create_time() - float(started)) > 1.0:
            return None
        return process
    except (psutil.Error, TypeError, ValueError):
        return None


def _wait_for_status(process, status: str, seconds: float = 3.0) -> None:
    import time

    import psutil

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if process.status() == status:
                return
        except psutil.Error:
            return
        time.sleep(0.01)


def _reap(process) -> None:
    import psutil

    try:
        process.wait(2)
    except psutil.Error:
        pass


def _unprivileged(data_dir: Path | None) -> dict:
    """Popen arguments to run as the unprivileged user (created if missing), owning data_dir."""
    ids = unprivileged.popen_args()
    if data_dir is not None:
        unprivileged.hand_over(data_dir, ids)
    return ids
