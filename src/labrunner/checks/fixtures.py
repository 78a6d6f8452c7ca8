"""Resolve a function's parameters to fixtures by name, as pytest does.

Fixtures: each service's own (e.g. `dynamodb`, `dynamodb_resource`), plus
`workspace`, `answer`, `session`, `endpoints`, `lab_dir`, `lab`.
"""

from __future__ import annotations

import inspect
from typing import Callable

from labrunner.errors import LabError


class Fixtures:
    """One set of fixture values for one step's checks (or one solution). Use it as a context
    manager: connections it opened are closed at the end. Stateless clients named in a service's
    `shared_fixtures` (boto3's) come from `shared`, a cache that outlives it (the warm checker's)."""

    def __init__(self, *, lab, session, workspace, replay: bool = False, shared: dict | None = None):
        from labrunner import services
        from labrunner.checks.answer import AnswerRunner

        self._values: dict[str, object] = {}
        self._shared = shared if shared is not None else {}
        self._shareable: set[str] = set()
        self._factories: dict[str, Callable[[], object]] = {
            "lab": lambda: lab,
            "lab_dir": lambda: lab.path,
            "session": lambda: session,
            "endpoints": session.endpoints,
            "workspace": lambda: workspace,
            "answer": lambda: AnswerRunner(workspace, session),
            "fault": lambda: _fault(session),
        }
        for name in lab.services:
            service = services.get(name)
            endpoint = session.endpoint(name)
            for fixture, factory in service.fixtures.items():
                self._factories[fixture] = (lambda f=factory, e=endpoint: f(e))
                if fixture in service.shared_fixtures:
                    self._shareable.add(fixture)
        # A service's aliases (a lone Valkey service is also `valkey` and `redis`) name it when
        # the lab runs only one service that has that alias.
        for alias in {a for n in lab.services for a in services.get(n).aliases}:
            owners = [n for n in lab.services if alias in services.get(n).aliases]
            if len(owners) == 1:
                self._factories.setdefault(alias, self._factories[owners[0]])
        self._endpoints = session.endpoints()
        self.replay = replay

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        for name, value in self._values.items():
            close = getattr(value, "close", None)
            if name not in self._shareable and callable(close):
                try:
                    close()
                except Exception:
                    pass
        self._values.clear()

    def available(self) -> list[str]:
        return sorted(self._factories)

    def get(self, name: str):
        if name not in self._values:
            if name in self._shareable:
                key = (name, repr(self._endpoints))
                if key not in self._shared:
                    self._shared[key] = self._factories[name]()
                self._values[name] = self._shared[key]
            else:
                self._values[name] = self._factories[name]()
        return self._values[name]

    def call(self, func: Callable, where: str):
        kwargs = {}
        for param in inspect.signature(func).parameters.values():
            if param.default is not inspect.Parameter.empty or param.kind in (
                    param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if param.name not in self._factories:
                raise LabError(
                    f"{where}: fixture '{param.name}' not found — available: {', '.join(self.available())}"
                )
            kwargs[param.name] = self.get(param.name)
        return func(**kwargs)


def _fault(session):
    """The `fault` fixture: fault("kill", "memorydb") as `labrunner fault kill memorydb` does."""
    def fault(action: str, service: str) -> dict:
        from labrunner import lifecycle

        return lifecycle.inject(session, service, action)

    return fault


def fixtures_for(lab, session, *, workspace=None, replay: bool = False, shared: dict | None = None) -> Fixtures:
    """Fixtures for a lab's checks or solutions on a session (the learner's workspace unless
    another is given)."""
    from labrunner.workspace import Workspace

    ws = workspace or Workspace(session.workspace, lab, replay=replay)
    return Fixtures(lab=lab, session=session, workspace=ws, replay=replay, shared=shared)
