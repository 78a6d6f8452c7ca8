"""Child process of checks/answer.py: import the learner's file, call the function, report.

Reads a JSON request on stdin and writes JSON results to request["result_path"]
(never to stdout, which belongs to the learner's prints).
"""

from __future__ import annotations

import decimal
import importlib.util
import json
import os
import sys
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


def _first_argument(request):
    """A boto3 Table (table=...) or a database connection (connect=...), from the env `labrunner env` sets."""
    if request.get("table"):
        import boto3

        return boto3.resource("dynamodb").Table(request["table"])
    if request.get("connect") == "postgres":
        import psycopg

        return psycopg.connect(connect_timeout=5)      # PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE
    return None


def main() -> None:
    request = json.loads(sys.stdin.read())
    results = []
    file_path = os.path.abspath(os.path.join(request["workspace"], request["file"]))
    _record_calls()
    try:
        if not os.path.exists(file_path):
            raise FileNotFoundError(f"{request['file']} is not in your workspace {request['workspace']}")
        sys.path.insert(0, request["workspace"])
        spec = importlib.util.spec_from_file_location("learner_answer", file_path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        function = getattr(module, request["function"], None)
        if not callable(function):
            missing = {"error_type": "MissingFunction",
                       "error_message": f"{request['file']} has no function {request['function']}()"}
            results = [dict(missing) for _ in request["calls"]]
    except BaseException as exc:  # the learner's module failed to import
        err = _error(exc, file_path)
        err["error_message"] = f"importing {request['file']} failed: {err['error_message']}"
        results = [dict(err) for _ in request["calls"]]
    if not results:
        for args in request["calls"]:
            CALLS.clear()
            first = None
            try:
                first = _first_argument(request)
                value = function(first, *args) if first is not None else function(*args)
                results.append({"value": _plain(value), "calls": list(CALLS)})
            except BaseException as exc:
                item = _error(exc, file_path)
                item["calls"] = list(CALLS)
                results.append(item)
            finally:
                close = getattr(first, "close", None)
                if request.get("connect") and close:
                    close()
    with open(request["result_path"], "w", encoding="utf-8") as fh:
        json.dump(results, fh)


if __name__ == "__main__":
    main()
