"""What is running for which lab, persisted so `labrunner check` in another terminal finds it.

One JSON file per lab under <state>/sessions/, written atomically (mode 600: it holds
passwords). A session is running, or stopped by `labrunner down` with its engines' data
kept for the next `labrunner run`. `current` names the lab most recently run.

A lab id becomes a file name here, so every id is checked to be a plain id first
(`labrunner down ../../x` must not reach outside the state folder).
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from labrunner import paths
from labrunner.errors import NoSession, UsageError
from labrunner.services.base import Endpoint
from labrunner.state import ServiceState


@dataclass
class Session:
    lab: str
    runtime: str
    workspace: str
    id: str = field(default_factory=lambda: __import__("secrets").token_hex(6))
    created: float = field(default_factory=time.time)
    services: dict[str, ServiceState] = field(default_factory=dict)
    stopped: bool = False      # `labrunner down` stopped the engines and kept their data

    def __post_init__(self):
        self.services = {name: ServiceState.from_dict(state) for name, state in self.services.items()}
    def endpoint(self, service: str) -> Endpoint:
        return self.services[service].endpoint()

    def endpoints(self) -> dict[str, Endpoint]:
        return {name: self.endpoint(name) for name in self.services}

    def save(self) -> None:
        """Written readable by its owner only: it holds the session's database passwords."""
        _write_atomic(_file(self.lab), json.dumps(asdict(self), indent=2), private=True)
        _write_atomic(_dir() / "current", self.lab)

    def delete(self) -> None:
        _file(self.lab).unlink(missing_ok=True)
        current = _dir() / "current"
        if current.exists() and current.read_text().strip() == self.lab:
            current.unlink(missing_ok=True)


def _dir() -> Path:
    path = paths.state_dir() / "sessions"
    path.mkdir(parents=True, exist_ok=True)
    return path


PLAIN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def check_id(lab_id: str) -> str:
    """A lab id as labrunner makes them (lower-case letters, digits, dashes), or a UsageError."""
    if not isinstance(lab_id, str) or not PLAIN_ID.match(lab_id):
        raise UsageError(f"'{str(lab_id)[:80]}' is not a lab id",
                         "lab ids are lower-case letters, digits and dashes; `labrunner list` shows them")
    return lab_id


def _file(lab_id: str) -> Path:
    return _dir() / f"{check_id(lab_id)}.json"


def _write_atomic(path: Path, text: str, private: bool = False) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with open(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def find(lab_id: str) -> Session | None:
    """The lab's session, running or stopped; None when there is none (or its file is unreadable)."""
    try:
        data = json.loads(_file(lab_id).read_text(encoding="utf-8"))
        session = Session(**data)
    except (OSError, ValueError, TypeError):
        return None
    return session if session.lab == lab_id else None


def current_lab() -> str | None:
    try:
        value = (_dir() / "current").read_text().strip()
    except OSError:
        return None
    return value if PLAIN_ID.match(value) else None


def all_sessions() -> list[Session]:
    """Every recorded session, running or stopped."""
    found = []
    for file in sorted(_dir().glob("*.json")):
        if PLAIN_ID.match(file.stem):
            session = find(file.stem)
            if session:
                found.append(session)
    return found


def running() -> list[Session]:
    return [s for s in all_sessions() if not s.stopped]


def resolve_lab(lab_id: str | None, command: str = "check", service: str | None = None) -> str | None:
    """The lab a command means: the one named; else the one running lab (the one running
    `service`, for commands about a service); else the lab run last. Two labs running and
    none named is a question only the learner can answer."""
    if lab_id:
        return check_id(lab_id)
    live = running()
    if service and len(live) > 1:
        live = [s for s in live if service in s.services] or live
    if len(live) > 1:
        names = ", ".join(s.lab for s in live)
        example = f"{command} {service} {live[0].lab}" if service else f"{command} {live[0].lab}"
        if command == "tool":
            example = f"tool {service} PROGRAM … --lab {live[0].lab}"
        raise UsageError(f"{len(live)} labs are running ({names}) and the command names none",
                         f"name one, e.g. `labrunner {example}`")
    if live:
        return live[0].lab
    return current_lab()


def require(lab_id: str | None, command: str = "check", service: str | None = None) -> Session:
    """The running session of a lab (or of the lab meant), or a clear NoSession error."""
    lab_id = resolve_lab(lab_id, command, service)
    if not lab_id:
        raise NoSession("no lab is running", "start one with `labrunner run <lab>` (see `labrunner list`)")
    session = find(lab_id)
    if session is None:
        raise NoSession(f"lab '{lab_id}' is not running",
                        f"start it with `labrunner run {lab_id}`; your progress is kept")
    if session.stopped:
        raise NoSession(f"lab '{lab_id}' is stopped (`labrunner down`)",
                        f"`labrunner run {lab_id}` brings it back at your step")
    return session
