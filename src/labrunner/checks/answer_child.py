"""Child process of checks/answer.py: import the learner's file, call the function, report.

Reads a JSON request on stdin and writes JSON results to request["result_path"]
(never to stdout, which belongs to the learner's prints).
"""

from __future__ import annotations

import decimal
import importlib.util
import inspect
import json
import os
import sys
import time
import traceback

CALLS: list[str] = []


def _record_calls() -> None:
    try:
        from botocore.client import BaseClient
    except ImportError:
        return
    original = BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        index = api_params.get("IndexName") if isinstance(api_params, dict) else None
        CALLS.append(f"{operation_name}[{index}]" if index else operation_name)
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = recording


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


def _error(exc: BaseException, file_path: str) -> dict:
    code = ""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code", "")
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == file_path:
            where = f"{os.path.basename(frame.filename)}:{frame.lineno}"
    message = str(exc).strip() or type(exc).__name__
    return {"error_type": code or type(exc).__name__, "error_message": message[:300], "where": where}


def _connect(spec: dict):
    if spec["kind"] == "postgres":
        import psycopg

        return psycopg.connect(connect_timeout=5)      # PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE
    import valkey

    return valkey.Valkey.from_url(spec["url"], decode_responses=True, socket_connect_timeout=3, socket_timeout=10)


def _first_arguments(request) -> list:
    """A boto3 Table (table=...) or a client per request["connect"], from what `labrunner env` sets."""
    if request.get("table"):
        import boto3

        return [boto3.resource("dynamodb").Table(request["table"])]
    return [_connect(spec) for spec in request.get("connect") or []]


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
        started = time.perf_counter()
        value = function(*clients, *args)
        item = {"value": _plain(value), "seconds": time.perf_counter() - started}
    except BaseException as exc:
        item = _error(exc, file_path)
    finally:
        if shared is None and request.get("connect"):
            _close(clients)
    item["calls"] = list(CALLS)
    if first:
        item["first"] = first
    return item


def main() -> None:
    request = json.loads(sys.stdin.read())
    file_path = os.path.abspath(os.path.join(request["workspace"], request["file"]))
    _record_calls()
    module, error = _load(request, file_path)
    if error:
        results = [dict(error) for _ in request["calls"]]
    else:
        shared = None
        try:
            if request.get("shared"):
                shared = _first_arguments(request)
        except BaseException as exc:
            results = [_error(exc, file_path) for _ in request["calls"]]
        else:
            results = [_call(module, request, file_path, name, args, shared) for name, args in request["calls"]]
        finally:
            if shared is not None and request.get("connect"):
                _close(shared)
    with open(request["result_path"], "w", encoding="utf-8") as fh:
        json.dump(results, fh)


if __name__ == "__main__":
    main()
