"""The Runtime protocol and the one start path both runtimes share.

start -> wait (the service's probe, the same on both runtimes) -> endpoint.
A start failure carries the engine's log tail.
"""

from __future__ import annotations

import socket
import sys
import time
from typing import Protocol

from labrunner.errors import ServiceError
from labrunner.services.base import Endpoint, Service
from labrunner.state import ServiceState

LOOPBACK = "127.0.0.1"


class Runtime(Protocol):
    name: str   # "docker" or "local"

    def launch(self, service: Service, *, lab_id: str, session_id: str, port: int | None,
               workspace: str | None = None) -> ServiceState:
        """Start the engine; return its state record (host, port, credentials, how to find it
        again) as a ServiceState, or a dict of its fields."""

    def alive(self, state: dict) -> bool: ...

    def paused(self, state: dict) -> bool:
        """Frozen by `fault pause`: alive, holding its port, answering nothing."""

    def sweep(self, keep_sessions: set[str]) -> list[str]:
        """Stop and delete what belongs to no kept session (a crash, a kill mid-start); return
        what was stopped. Only what this runtime made for this state folder is touched."""

    def logs(self, state: dict, lines: int = 30) -> str: ...

    def remove(self, state: dict) -> None:
        """Stop the engine and delete what it left (container, process, data)."""

    def signal(self, state: dict, action: str) -> dict:
        """kill | stop | pause | resume | restart the engine (fault injection); return new state."""


def endpoint_of(state) -> Endpoint:
    """The Endpoint of a state record (a ServiceState, or the dict a runtime is still building)."""
    if isinstance(state, ServiceState):
        return state.endpoint()
    return ServiceState.from_dict({"runtime": "", **state}).endpoint()


def credentials(service: Service) -> dict:
    """The RDS-like part of a state record: master user, a fresh password, database."""
    if not service.username:
        return {"scheme": service.scheme}
    return {"scheme": service.scheme, "username": service.username, "database": service.database,
            "password": new_password() if service.needs_password else ""}


def new_password(length: int = 16) -> str:
    """Letters and digits, starting with a letter, with upper, lower and a digit: every engine
    takes it (SQL Server's complexity rule, Oracle's unquoted identifiers, URLs, shells)."""
    import secrets
    import string

    while True:
        password = secrets.choice(string.ascii_letters) + "".join(
            secrets.choice(string.ascii_letters + string.digits) for _ in range(length - 1))
        if any(c.isupper() for c in password) and any(c.islower() for c in password) and any(
                c.isdigit() for c in password):
            return password


def wait_ready(runtime: Runtime, service: Service, state: dict, timeout: float | None = None) -> Endpoint:
    """Poll the service's probe until it answers; fail early if the engine died."""
    endpoint = endpoint_of(state)
    deadline = time.monotonic() + (timeout or service.start_timeout)
    delay, last_error = 0.01, None
    while time.monotonic() < deadline:
        try:
            service.probe(endpoint)
        except Exception as exc:  # not ready yet: connection refused, 5xx, ...
            last_error = exc
        else:
            if service.initialize:
                service.initialize(endpoint)     # idempotent: also after a restart
            return endpoint
        if not runtime.alive(state):
            raise ServiceError(
                f"the {service.name} engine stopped while starting",
                "see its log below; `labrunner doctor` checks the set-up",
                log_tail=runtime.logs(state),
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.05)
    raise ServiceError(
        f"the {service.name} engine did not answer within {timeout or service.start_timeout:.0f} s "
        f"({type(last_error).__name__}: {last_error})",
        "see its log below; a slow first start may need `labrunner run` again",
        log_tail=runtime.logs(state),
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def port_free(port: int, *, time_wait_is_free: bool = False) -> bool:
    """Can a server bind 127.0.0.1:port now? With time_wait_is_free, a port that an engine's
    own killed process left in TIME_WAIT counts as free (the engine may bind it again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if time_wait_is_free and sys.platform != "win32":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def ensure_port_free(port: int, service: str) -> None:
    if not port_free(port):
        raise ServiceError(
            f"port {port} on {LOOPBACK} is taken by another program, so {service} cannot use it",
            f"choose another with --port {service}=PORT, or leave --port out for a free one",
        )
