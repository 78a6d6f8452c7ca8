"""Run the learner's answer (a function in a workspace file) in a child process.

The child has a timeout and a cap on what it may print, so learner code that
hangs or floods costs a failed check, not a stuck terminal. It records which
AWS operations the function called, so a check can say "this used Scan".

    result = answer.call("query_songs.py", "songs_by_artist", "Acme Band", "Blue", table="Music")
    titles = result.value_or_fail()
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field

from labrunner.checks import CheckFailed
from labrunner.errors import LabError

OUTPUT_CAP = 4000          # characters of the learner's printing kept for messages
DEFAULT_TIMEOUT = 15.0


@dataclass
class AnswerResult:
    file: str
    function: str
    args: tuple
    value: object = None
    error_type: str = ""         # exception class or AWS error code; "Timeout"; "" when it returned
    error_message: str = ""
    where: str = ""              # file:line in the learner's code where it raised
    calls: list = field(default_factory=list)   # AWS operations, e.g. ["Query"]
    output: str = ""
    seconds: float = 0.0         # the call's wall time, measured in the child

    @property
    def ok(self) -> bool:
        return not self.error_type

    def used(self, operation: str, index: str | None = None) -> bool:
        """Did the function call this AWS operation (on this index)? Calls read "Query[GenreIndex]"."""
        wanted = f"{operation}[{index}]" if index else operation
        return any(call == wanted or (index is None and call.split("[")[0] == operation) for call in self.calls)

    first: str = "table"         # what the learner's function gets first ("table", its own names, or "")

    def describe_call(self) -> str:
        shown = ", ".join([self.first] * bool(self.first) + [repr(a) for a in self.args])
        return f"{self.function}({shown})"

    def value_or_fail(self):
        if self.ok:
            return self.value
        raise CheckFailed(self.failure())

    def failure(self) -> str:
        call = f"{self.describe_call()} in {self.file}"
        if self.error_type == "NotImplementedError":
            return f"{self.function}() in {self.file} is not written yet (it still raises NotImplementedError)"
        if self.error_type == "Timeout":
            return f"{call} did not finish within {self.error_message} s — look for a loop that never ends"
        if self.error_type == "MissingFunction":
            return self.error_message
        where = f" at {self.where}" if self.where else ""
        return f"{call} raised {self.error_type}{where}: {self.error_message}"


class AnswerRunner:
    def __init__(self, workspace, session):
        self.workspace = workspace
        self.session = session

    def env(self) -> dict:
        from labrunner import services

        env = dict(os.environ)
        for name in self.session.services:
            env.update(services.get(name).exports(self.session.endpoint(name)))
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def call(self, file: str, function: str, *args, table: str | None = None, connect=None,
             shared: bool = False, timeout: float = DEFAULT_TIMEOUT) -> AnswerResult:
        return self.run(file, [(function, args)], table=table, connect=connect, shared=shared, timeout=timeout)[0]

    def call_many(self, file: str, function: str, arg_lists: list, *, table: str | None = None, connect=None,
                  shared: bool = False, timeout: float = DEFAULT_TIMEOUT) -> list[AnswerResult]:
        """Several calls of one function in one child process (one interpreter start)."""
        return self.run(file, [(function, args) for args in arg_lists], table=table, connect=connect,
                        shared=shared, timeout=timeout)

    def run(self, file: str, calls: list, *, table: str | None = None, connect=None, shared: bool = False,
            timeout: float = DEFAULT_TIMEOUT) -> list[AnswerResult]:
        """Call (function, args) pairs from one file, in order, in one child process.

        The function's first arguments are made in the child: `table="Music"` gives a boto3
        DynamoDB Table; `connect` names one service or a list of them, each giving a client:
        "postgres" a psycopg connection (not autocommit), a Valkey service (or "valkey") a
        valkey client with decode_responses=True. They are fresh for every call, or made once
        and passed to every call with `shared=True` (what a timing needs). Each result has the
        call's wall time in `seconds`, measured in the child around the function alone."""
        request = {"workspace": str(self.workspace.path), "file": file,
                   "calls": [[function, list(args)] for function, args in calls], "table": table,
                   "connect": self._connections(connect), "shared": shared}
        with tempfile.TemporaryDirectory(prefix="labrunner-answer-") as tmp:
            result_path = os.path.join(tmp, "result.json")
            request["result_path"] = result_path
            proc = subprocess.Popen(
                [sys.executable, "-m", "labrunner.checks.answer_child"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                cwd=str(self.workspace.path), env=self.env(),
            )
            output = _CappedReader(proc.stdout)
            proc.stdin.write(json.dumps(request).encode())
            proc.stdin.close()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                output.join()
                return [AnswerResult(file, function, tuple(args), error_type="Timeout",
                                     error_message=f"{timeout:g}", output=output.text())
                        for function, args in calls]
            output.join()
            try:
                with open(result_path, encoding="utf-8") as fh:
                    raw = json.load(fh)
            except (OSError, ValueError):
                text = output.text().strip().splitlines()
                last = text[-1] if text else f"exit code {proc.returncode}"
                return [AnswerResult(file, function, tuple(args), error_type="Crash",
                                     error_message=f"the Python process running {file} ended early: {last}",
                                     output=output.text()) for function, args in calls]
        first = "table" if table else ""
        return [AnswerResult(file, function, tuple(args), output=output.text(),
                             first=item.pop("first", "") or first, **item)
                for (function, args), item in zip(calls, raw)]

    def _connections(self, connect) -> list[dict]:
        """What the child should connect to, by service name: [{"kind": ..., "url": ...}]."""
        from labrunner import services

        names = [connect] if isinstance(connect, str) else list(connect or [])
        specs = []
        for name in names:
            if name == "postgres":
                specs.append({"kind": "postgres"})
                continue
            if name in ("valkey", "redis"):
                valkeys = [n for n in self.session.services if services.get(n).scheme == "valkey"]
                name = valkeys[0] if len(valkeys) == 1 else name
            if name not in self.session.services or services.get(name).scheme != "valkey":
                raise LabError(f"answer: connect={name!r} names no PostgreSQL or Valkey service of this lab")
            url = services.get(name).exports(self.session.endpoint(name))[f"{name.upper()}_URL"]
            specs.append({"kind": "valkey", "url": url})
        return specs


class _CappedReader:
    """Drain a pipe on a thread, keeping only the first OUTPUT_CAP characters."""

    def __init__(self, pipe):
        self._chunks: list[bytes] = []
        self._kept = 0
        self._thread = threading.Thread(target=self._run, args=(pipe,), daemon=True)
        self._thread.start()

    def _run(self, pipe) -> None:
        while True:
            chunk = pipe.read(65536)
            if not chunk:
                break
            if self._kept < OUTPUT_CAP:
                self._chunks.append(chunk[: OUTPUT_CAP - self._kept])
                self._kept += len(self._chunks[-1])

    def join(self) -> None:
        self._thread.join(5)

    def text(self) -> str:
        return b"".join(self._chunks).decode("utf-8", "replace")
