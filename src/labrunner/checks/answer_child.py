"""Child process of checks/answer.py: run the learner's function, report, and leave nothing behind.

Two processes. This one, the keeper, reads the JSON request on stdin, becomes the reaper of
every orphan below it (Linux: PR_SET_CHILD_SUBREAPER, so a process the learner's code starts
in its own session still comes back to it) and forks the worker. The worker imports the
learner's file, calls the function and writes JSON results to request["result_path"] (never to
stdout, which belongs to the learner's prints). When the worker ends, or labrunner asks the
keeper to stop (SIGTERM, on a timeout), the keeper kills every process still below it and
writes how many were running to request["left_path"].

The clients a function gets first come from the service definitions (Service.learner_client,
"module:function"): only the modules of the services asked for are imported.
"""

from __future__ import annotations

import decimal
import importlib.util
import inspect
import json
import os
import signal
import sys
import time
import traceback

CALLS: list[str] = []
GRACE = 0.3                # seconds a process below may take to end after the worker ends
_PATCHED: list[bool] = []


def _record_calls() -> None:
    """Record the AWS operations a call makes, once botocore is in use (a light child otherwise)."""
    if _PATCHED or "botocore.client" not in sys.modules:
        return
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        index = api_params.get("IndexName") if isinstance(api_params, dict) else None
        CALLS.append(f"{operation_name}[{index}]" if index else operation_name)
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = recording
    _PATCHED.append(True)


def _plain(value):
    """JSON-safe copy: Decimal -> int/float, sets and tuples -> lists."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)


def _capped(value, cap: int) -> dict:
    """{"value": value} when its JSON fits in cap characters; else its size and its first cap
    characters, counted chunk by chunk so a huge value is never built as one string."""
    kept: list[str] = []
    size = 0
    for chunk in json.JSONEncoder().iterencode(value):
        if size < cap:
            kept.append(chunk[: cap - size])
        size += len(chunk)
    if size <= cap:
        return {"value": value}
    return {"error_type": "TooLarge", "error_message": str(size), "value_start": "".join(kept)}


def _error(exc: BaseException, file_path: str) -> dict:
    code = ""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code", "")
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == file_path:
            where = f"{os.path.basename(frame.filename)}:{frame.lineno}"
    message = " ".join(str(exc).split()) or type(exc).__name__
    return {"error_type": code or type(exc).__name__, "error_message": message[:300], "where": where}


def _client(spec: dict):
    """One first argument: the service's learner client, made from its endpoint."""
    from labrunner.services.base import Endpoint, hook

    client = hook(spec["factory"])(Endpoint(**spec["endpoint"]))
    return client.Table(spec["table"]) if spec.get("table") else client


def _first_arguments(request) -> list:
    return [_client(spec) for spec in request.get("connect") or []]


def _close(clients: list) -> None:
    for client in clients:
        close = getattr(client, "close", None)
        if callable(close):
            try:
                close()
            except Exception:
                pass


def _first_names(function, count: int) -> str:
    """The learner's own names for the arguments labrunner passes first (for messages)."""
    if not count:
        return ""
    try:
        names = list(inspect.signature(function).parameters)[:count]
    except (TypeError, ValueError):
        return ""
    return ", ".join(names)


def _load(request, file_path: str):
    """The learner's module, or an error result to repeat for every call."""
    try:
        if not os.path.exists(file_path):
            raise FileNotFoundError(f"{request['file']} is not in your workspace {request['workspace']}")
        sys.path.insert(0, request["workspace"])
        spec = importlib.util.spec_from_file_location("learner_answer", file_path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module          # so its functions pickle (multiprocessing with fork)
        spec.loader.exec_module(module)
        return module, None
    except BaseException as exc:  # the learner's module failed to import
        err = _error(exc, file_path)
        err["error_message"] = f"importing {request['file']} failed: {err['error_message']}"
        return None, err


def _call(module, request, file_path: str, name: str, args: list, shared: list | None) -> dict:
    function = getattr(module, name, None)
    if not callable(function):
        return {"error_type": "MissingFunction", "error_message": f"{request['file']} has no function {name}()"}
    CALLS.clear()
    clients: list = []
    first = _first_names(function, len(request.get("connect") or []))
    try:
        clients = shared if shared is not None else _first_arguments(request)
        _record_calls()
        started = time.perf_counter()
        value = function(*clients, *args)
        seconds = time.perf_counter() - started
        item = _capped(_plain(value), request["result_cap"])
        item["seconds"] = seconds
    except BaseException as exc:
        item = _error(exc, file_path)
    finally:
        if shared is None:
            _close(clients)
    item["calls"] = list(CALLS)
    if first:
        item["first"] = first
    return item


def work(request) -> None:
    """The worker: import the learner's file, make the clients, call, write the results."""
    file_path = os.path.abspath(os.path.join(request["workspace"], request["file"]))
    module, error = _load(request, file_path)
    if error:
        results = [dict(error) for _ in request["calls"]]
    else:
        _record_calls()
        shared = None
        try:
            if request.get("shared"):
                shared = _first_arguments(request)
        except BaseException as exc:
            results = [_error(exc, file_path) for _ in request["calls"]]
        else:
            results = [_call(module, request, file_path, name, args, shared) for name, args in request["calls"]]
        finally:
            if shared is not None:
                _close(shared)
    with open(request["result_path"], "w", encoding="utf-8") as fh:
        json.dump(results, fh)


# --- the keeper ---------------------------------------------------------------------------

class _Stop(Exception):
    """labrunner asked the keeper to end everything (the call timed out)."""


_WAITING = [True]
_KEEPER: list[int] = []


def _stop(signum, frame):
    if _WAITING and _KEEPER == [os.getpid()]:
        raise _Stop


def _become_reaper() -> None:
    """Linux: orphans below this process are re-parented to it instead of to init."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)     # PR_SET_CHILD_SUBREAPER
        except (OSError, AttributeError):
            pass


def _below(root: int) -> list[tuple[int, str]]:
    """(pid, state) of every process below root; state "Z" for one that has ended."""
    if os.path.isdir("/proc/self/task"):
        children: dict[int, list[tuple[int, str]]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    fields = fh.read().rpartition(b")")[2].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append((int(entry), fields[0].decode()))
        found, todo = [], [root]
        while todo:
            for pid, state in children.get(todo.pop(), []):
                found.append((pid, state))
                todo.append(pid)
        return found
    import psutil

    try:
        procs = psutil.Process(root).children(recursive=True)
    except psutil.Error:
        return []
    found = []
    for proc in procs:
        try:
            found.append((proc.pid, "Z" if proc.status() == psutil.STATUS_ZOMBIE else "R"))
        except psutil.Error:
            pass
    return found


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _grace(seconds: float) -> None:
    """Let helpers that end with their parent (multiprocessing's forkserver and resource tracker)
    end on their own before what is still running is counted as left behind."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _reap()
        if not any(state != "Z" for _, state in _below(os.getpid())):
            return
        time.sleep(0.01)


def end_all_below() -> int:
    """Kill every process below this one, round after round (a killed process's children come
    back to us, a forking one may have made more); returns how many were running at first."""
    me = os.getpid()
    first = None
    for _ in range(500):
        running = [pid for pid, state in _below(me) if state != "Z"]
        if first is None:
            first = len(running)
        if not running:
            break
        for pid in running:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        _reap()
        time.sleep(0.002)
    for _ in range(100):            # the ended ones come back to us as zombies: read them
        _reap()
        if not _below(me):
            break
        time.sleep(0.002)
    return first or 0


def _worker(request) -> None:
    """The forked worker: run the calls, then end without running anything of the keeper's."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    code = 0
    try:
        work(request)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


def main() -> None:
    request = json.loads(sys.stdin.read())
    if not hasattr(os, "fork"):                  # Windows: no keeper, the parent ends what it can
        work(request)
        return
    _become_reaper()
    _KEEPER.append(os.getpid())
    signal.signal(signal.SIGTERM, _stop)
    status = None
    try:
        worker = os.fork()
        if worker == 0:
            _worker(request)
        _, status = os.waitpid(worker, 0)
        _WAITING.clear()
    except _Stop:
        pass
    _WAITING.clear()
    if status is not None:
        _grace(GRACE)
    left = end_all_below()
    if status is None:
        os._exit(1)
    with open(request["left_path"], "w", encoding="utf-8") as fh:
        fh.write(str(left))
    code = os.waitstatus_to_exitcode(status)
    os._exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
