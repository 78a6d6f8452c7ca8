"""Run the learner's answer (a function in a workspace file) in a child process.

The child has a timeout and caps on what it may print and return, so learner code that
hangs or floods costs a failed check, not a stuck terminal; it runs in a process group of
its own, and every process it starts is ended with the call (see answer_child). It records
which AWS operations the function called, so a check can say "this used Scan".

    result = answer.call("query_songs.py", "songs_by_artist", "Acme Band", "Blue", table="Music")
    titles = result.value_or_fail()
"""

from __future__ import annotations

import dataclasses
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

from labrunner.checks import CheckFailed
from labrunner.errors import LabError

OUTPUT_CAP = 4000          # characters of the learner's printing kept for messages
RESULT_CAP = 256 * 1024    # characters of a returned value's JSON kept
DEFAULT_TIMEOUT = 15.0
TABLE_SERVICE = "dynamodb"   # table="Music": that service's learner client, .Table("Music")
WINDOWS = sys.platform == "win32"
NO_ANSWER = ("NotImplementedError", "MissingFunction", "Timeout", "Crash", "TooLarge", "LeftRunning")


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
    value_start: str = ""        # the first RESULT_CAP characters of a value too large to keep

    @property
    def ok(self) -> bool:
        return not self.error_type

    @property
    def no_answer(self) -> bool:
        """The call gave nothing to judge (unwritten, missing, timed out, crashed, a value too
        large, processes left running): a check should fail with failure(), whatever it expected."""
        return self.error_type in NO_ANSWER

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
        if self.error_type == "Crash":
            return f"{call}: {self.error_message}"
        if self.error_type == "TooLarge":
            return (f"{call} returned {int(self.error_message):,} bytes (as JSON); labrunner keeps the first "
                    f"{RESULT_CAP:,} — return only what the step asks for")
        if self.error_type == "LeftRunning":
            count = int(self.error_message)
            return (f"{call} returned but left {count} process{'es' if count > 1 else ''} running; labrunner "
                    f"stopped {'them' if count > 1 else 'it'} — wait for what your function starts before it returns")
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

        The function's first arguments are made in the child, each by its service's
        `learner_client`: `table="Music"` gives a boto3 DynamoDB Table; `connect` names one
        service or a list of them ("postgres": a psycopg connection, not autocommit;
        "mysql"/"mariadb": a PyMySQL connection, not autocommit; "elasticache"/"memorydb", or
        "valkey"/"redis" in a lab with one of them: a redis-py client, decode_responses=True;
        "dynamodb": a boto3 DynamoDB resource). They are fresh for every call, or made once
        and passed to every call with `shared=True` (what a timing needs). Each result has the
        call's wall time in `seconds`, measured in the child around the function alone."""
        first = "table" if table else ""       # what the function gets first, until the child names it
        request = {"workspace": str(self.workspace.path), "file": file,
                   "calls": [[function, list(args)] for function, args in calls],
                   "connect": self._clients(connect, table), "shared": shared, "result_cap": RESULT_CAP}
        with tempfile.TemporaryDirectory(prefix="labrunner-answer-") as tmp:
            request["result_path"] = os.path.join(tmp, "result.json")
            request["left_path"] = os.path.join(tmp, "left")
            proc = subprocess.Popen(
                [sys.executable, "-m", "labrunner.checks.answer_child"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                cwd=str(self.workspace.path), env=self.env(), start_new_session=not WINDOWS,
            )
            output = _CappedReader(proc.stdout)
            try:
                try:
                    proc.stdin.write(json.dumps(request).encode())
                    proc.stdin.close()
                except OSError:
                    pass                          # it ended already; said below
                finished = _ended(proc, timeout)
            finally:
                _end_group(proc)
            output.join()
            if not finished:
                return [AnswerResult(file, function, tuple(args), error_type="Timeout",
                                     error_message=f"{timeout:g}", output=output.text(), first=first)
                        for function, args in calls]
            try:
                with open(request["result_path"], encoding="utf-8") as fh:
                    raw = json.load(fh)
            except (OSError, ValueError):
                text = output.text().strip().splitlines()
                last = text[-1] if text else f"exit code {proc.returncode}"
                return [AnswerResult(file, function, tuple(args), error_type="Crash",
                                     error_message=f"the Python process running {file} ended early: {last}",
                                     output=output.text(), first=first) for function, args in calls]
            left = _read_count(request["left_path"])
        results = [AnswerResult(file, function, tuple(args), output=output.text(),
                                first=item.pop("first", "") or first, **item)
                   for (function, args), item in zip(calls, raw)]
        for result in results:
            if left and result.ok:
                result.error_type, result.error_message, result.value = "LeftRunning", str(left), None
        return results

    def _clients(self, connect, table) -> list[dict]:
        """The first arguments the child makes, each from a service's learner_client."""
        names = [connect] if isinstance(connect, str) else list(connect or [])
        specs = [self._client(TABLE_SERVICE, table)] if table else []
        return specs + [self._client(name) for name in names]

    def _client(self, name: str, table: str | None = None) -> dict:
        from labrunner import services

        own = list(self.session.services)
        known = [n for n in own if n in services.MODULES]
        if name not in own:
            by_alias = [n for n in known if name in services.get(n).aliases]
            if len(by_alias) == 1:
                name = by_alias[0]
        if name not in own:
            what = f"table={table!r} needs a {name} service" if table else f"connect={name!r} names no service"
            raise LabError(f"answer: {what} of this lab (it has: {', '.join(own) or 'none'})")
        service = services.get(name)
        if not service.learner_client:
            raise LabError(f"answer: the {name} service gives learner code no client "
                           "(its Service sets no learner_client)")
        return {"factory": service.learner_client, "table": table,
                "endpoint": dataclasses.asdict(self.session.endpoint(name))}


def _ended(proc, timeout: float) -> bool:
    """Wait for the child to end, without reading its exit status (so its pid, which is also
    its process group's id, cannot be reused before _end_group is done with it)."""
    if WINDOWS or not hasattr(os, "waitid"):
        try:
            proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    deadline = time.monotonic() + timeout
    pidfd = _pidfd(proc.pid)
    try:
        delay = 0.001
        while True:
            try:
                if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                    return True
            except ChildProcessError:          # something else in this process reaped it
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if pidfd is not None:
                select.select([pidfd], [], [], remaining)       # readable once the child ends
            else:
                time.sleep(min(delay, remaining))
                delay = min(delay * 2, 0.05)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _pidfd(pid: int):
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _end_group(proc) -> None:
    """End the child and everything it started: the child ends what is below it (on SIGTERM, or
    by itself once the worker is done); its process group and any process seen below it are
    killed here too, in case it was killed itself."""
    below = []
    if not _ended(proc, 0):
        below = _processes_below(proc.pid)
        if WINDOWS:
            proc.kill()
        else:
            proc.send_signal(signal.SIGTERM)
        if not _ended(proc, 5):
            proc.kill()
            _ended(proc, 5)
    if not WINDOWS:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
    for child in below:
        try:
            child.kill()                       # psutil checks it is still that process
        except Exception:
            pass
    proc.wait()


def _processes_below(pid: int) -> list:
    try:
        import psutil

        return psutil.Process(pid).children(recursive=True)
    except Exception:
        return []


def _read_count(path: str) -> int:
    try:
        with open(path, encoding="utf-8") as fh:
            return int(fh.read().strip() or 0)
    except (OSError, ValueError):
        return 0


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
