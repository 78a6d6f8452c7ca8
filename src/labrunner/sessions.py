"""What is running for which lab, persisted so `labrunner check` in another terminal finds it.

One JSON file per lab under <state>/sessions/, written atomically; `current`
names the lab most recently run, so commands may leave the lab id out.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from labrunner import paths
from labrunner.errors import NoSession
from labrunner.services.base import Endpoint


@dataclass
class Session:
    lab: str
    runtime: str
    workspace: str
    id: str = field(default_factory=lambda: __import__("secrets").token_hex(6))
    created: float = field(default_factory=time.time)
    services: dict[str, dict] = field(default_factory=dict)

    def endpoint(self, service: str) -> Endpoint:
        from labrunner.runtimes.base import endpoint_of

        return endpoint_of(self.services[service])

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


def _file(lab_id: str) -> Path:
    return _dir() / f"{lab_id}.json"


def _write_atomic(path: Path, text: str, private: bool = False) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with open(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def find(lab_id: str) -> Session | None:
    try:
        data = json.loads(_file(lab_id).read_text(encoding="utf-8"))
        return Session(**data)
    except (OSError, ValueError, TypeError):
        return None


def current_lab() -> str | None:
    try:
        return (_dir() / "current").read_text().strip() or None
    except OSError:
        return None


def all_sessions() -> list[Session]:
    found = []
    for file in sorted(_dir().glob("*.json")):
        session = find(file.stem)
        if session:
            found.append(session)
    return found


def require(lab_id: str | None) -> Session:
    """The running session of a lab (or of the current lab), or a clear NoSession error."""
    lab_id = lab_id or current_lab()
    if not lab_id:
        raise NoSession("no lab is running", "start one with `labrunner run <lab>` (see `labrunner list`)")
    session = find(lab_id)
    if session is None:
        raise NoSession(f"lab '{lab_id}' is not running", f"start it with `labrunner run {lab_id}`; your progress is kept")
    return session
