"""Run a step's checks (each with a timeout) and apply solutions, with fixtures by name."""

from __future__ import annotations

import threading
import time

from labrunner.checks import LAB_ERROR, SERVICE_ERROR, CheckFailed, CheckResult
from labrunner.errors import LabError


STRAGGLER_WAIT = 120.0      # seconds a new check waits for one that overran its timeout to end

_stragglers: list[threading.Thread] = []


def _wait_for_stragglers() -> None:
    """A check that overran its timeout still runs on its thread, and may still hold a fault it
    injected (a paused reader, a stopped replay) until its own cleanup runs. The next check
    waits for it to end, so two checks never work the same engine at once."""
    for thread in list(_stragglers):
        thread.join(STRAGGLER_WAIT)
        _stragglers.remove(thread)          # ended, or hung for good: never waited for twice


def _with_timeout(func, timeout: float):
    """Run func on a daemon thread; return (value, exception) or raise TimeoutError."""
    _wait_for_stragglers()
    box: dict = {}

    def target():
        try:
            box["value"] = func()
        except BaseException as exc:  # handed back to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        _stragglers.append(thread)
        raise TimeoutError
    return box.get("value"), box.get("error")


def run_check(lab, step, name: str, fixtures) -> CheckResult:
    func = getattr(lab.modules["checks"], name)
    started = time.perf_counter()
    try:
        value, error = _with_timeout(lambda: fixtures.call(func, f"labs/{lab.id}/checks.py: {name}"), step.timeout)
    except TimeoutError:
        return CheckResult(name, False, f"the check did not finish within {step.timeout:g} s — is the "
                           f"engine paused or overloaded? `labrunner status` tells", outcome=SERVICE_ERROR,
                           seconds=time.perf_counter() - started)
    seconds = time.perf_counter() - started
    if error is None:
        return CheckResult(name, True, value if isinstance(value, str) else "", seconds=seconds)
    if isinstance(error, CheckFailed):
        return CheckResult(name, False, str(error), seconds=seconds)
    if isinstance(error, LabError):
        raise error
    outcome, message = _broken(error)
    return CheckResult(name, False, message, outcome=outcome, seconds=seconds)


def _broken(error: BaseException) -> tuple[str, str]:
    """An exception that is not a learner's mistake: the engine's (it did not answer) or the lab's."""
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    kind = type(error).__name__
    if "Could not connect" in first or "Connection refused" in first or kind in (
            "EndpointConnectionError", "ConnectionRefusedError", "ConnectTimeoutError", "ReadTimeoutError",
            "ConnectionError", "TimeoutError"):
        return SERVICE_ERROR, f"the engine did not answer ({kind}) — is it still running? `labrunner status` tells"
    return LAB_ERROR, f"the check itself broke: {kind}: {first[:300]}"


def run_step(lab, step, fixtures) -> list[CheckResult]:
    return [run_check(lab, step, name, fixtures) for name in step.checks]


def apply(lab, module: str, name: str, fixtures, timeout: float = 60.0) -> None:
    """Run a solution (or a mistake) function; its failures are the lab's errors."""
    func = getattr(lab.modules[module], name)
    where = f"labs/{lab.id}/{module}.py: {name}"
    try:
        _, error = _with_timeout(lambda: fixtures.call(func, where), timeout)
    except TimeoutError:
        raise LabError(f"{where}: did not finish within {timeout:g} s") from None
    if error is not None:
        if isinstance(error, LabError):
            raise error
        first = (str(error).strip().splitlines() or [""])[0]
        raise LabError(f"{where}: failed: {type(error).__name__}: {first[:300]}")
