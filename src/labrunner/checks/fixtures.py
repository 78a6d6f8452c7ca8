"""Resolve a function's parameters to fixtures by name, as pytest does.

Fixtures: each service's own (e.g. `dynamodb`, `dynamodb_resource`), plus
`workspace`, `answer`, `session`, `endpoints`, `lab_dir`, `lab`.
"""

from __future__ import annotations

import inspect
from typing import Callable

from labrunner.errors import LabError


class Fixtures:
    def __init__(self, *, lab, session, workspace, replay: bool = False):
        from labrunner import services
        from labrunner.checks.answer import AnswerRunner

        self._values: dict[str, object] = {}
        self._factories: dict[str, Callable[[], object]] = {
            "lab": lambda: lab,
            "lab_dir": lambda: lab.path,
            "session": lambda: session,
            "endpoints": session.endpoints,
            "workspace": lambda: workspace,
            "answer": lambda: AnswerRunner(workspace, session),
        }
        for name in lab.services:
            service = services.get(name)
            endpoint = session.endpoint(name)
            for fixture, factory in service.fixtures.items():
                self._factories[fixture] = (lambda f=factory, e=endpoint: f(e))
        self.replay = replay

    def available(self) -> list[str]:
        return sorted(self._factories)

    def get(self, name: str):
        if name not in self._values:
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
