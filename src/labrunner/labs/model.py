"""The lab model (format v1). Every field's default is written here.

A lab lives in a folder `labs/<id>/`:

    lab.yaml        metadata and steps (the fields below)
    intro.md        what the learner will do, on which stand-in, for how long
    differences.md  "How this differs on AWS"
    outro.md        summary, what to try on AWS, cleanup
    steps/NN-*.md   one text per step; {{ endpoint }}, {{ region }}, {{ workspace }} are filled in
    checks.py       check functions: parameters name fixtures (see labrunner.checks)
    solutions.py    one reference solution per step, same fixture rules
    mistakes.py     optional: typical wrong answers that `labrunner test` proves are caught
    routes.py       optional: correct answers the reference solution does not take (another client,
                    the CLI's shape, another valid design) that `labrunner test` proves pass
    workspace/      starter files copied into the learner's folder
    solutions/      reference versions of workspace files
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SUPPORTED_FORMAT = 1
LEVELS = ("beginner", "intermediate", "advanced")


@dataclass(frozen=True)
class Mistake:
    apply: str                 # function in mistakes.py that makes the wrong answer
    expect: str                # text a failing check's message must contain


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    text: str                  # path relative to the lab folder
    checks: tuple[str, ...]
    hints: tuple[str, ...]
    solution: str
    mistakes: tuple[Mistake, ...] = ()
    routes: tuple[str, ...] = ()   # functions in routes.py: other correct answers, proven to pass
    timeout: float = 20.0      # seconds for each check of this step


@dataclass(frozen=True)
class Lab:
    id: str
    title: str
    summary: str
    aws_services: tuple[str, ...]
    level: str
    minutes: int
    objectives: tuple[str, ...]
    services: tuple[str, ...]
    steps: tuple[Step, ...]
    path: Path
    intro: str = "intro.md"
    differences: str = "differences.md"
    outro: str = "outro.md"
    format_version: int = SUPPORTED_FORMAT
    source: str = "built-in"   # or the --labs-dir / LABRUNNER_LABS_PATH folder it came from
    modules: dict = field(default_factory=dict, compare=False, repr=False)

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def step_index(self, step_id: str) -> int:
        return [s.id for s in self.steps].index(step_id)

    def read(self, relative: str) -> str:
        return (self.path / relative).read_text(encoding="utf-8")
