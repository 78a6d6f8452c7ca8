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

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from labrunner.errors import LabError

SUPPORTED_FORMAT = 1
LEVELS = ("beginner", "intermediate", "advanced")
MAX_TEXT_BYTES = 256 * 1024    # lab.yaml and each text file; the largest built-in one is under 20 KB


def shown(path: Path) -> str:
    """A lab path as a person would write it: relative to the labs folder's parent, on one line."""
    parts = path.parts
    if "labs" in parts:
        text = str(Path(*parts[len(parts) - parts[::-1].index("labs") - 1:]))
    elif "bundled_labs" in parts:
        text = "labs/" + str(Path(*parts[len(parts) - parts[::-1].index("bundled_labs"):]))
    else:
        text = str(path)
    return one_line(text)


def one_line(text: str) -> str:
    """Control characters (a newline in a file name) written as escapes: a message stays one line."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1], text)


def _quoted(relative: str) -> str:
    return "'" + one_line(relative[:80]) + ("…'" if len(relative) > 80 else "'")


def inside(lab_dir: Path, relative: str, root: Path | None = None) -> Path:
    """The file `relative` names in the lab folder, symlinks followed; ValueError saying why when it
    is not a file inside that folder (an absolute path, `../`, a symlink leading out)."""
    if not relative or "\0" in relative:
        raise ValueError("is not a file name")
    if Path(relative).is_absolute() or Path(relative).drive:
        raise ValueError(f"{_quoted(relative)} is an absolute path; name a file inside the lab folder")
    root = root or lab_dir.resolve()
    try:
        target = os.path.realpath(os.path.join(lab_dir, relative))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{_quoted(relative)} cannot be followed ({exc.__class__.__name__})") from None
    if not target.startswith(str(root) + os.sep):
        raise ValueError(f"{_quoted(relative)} leads outside the lab folder {shown(lab_dir)}")
    if not os.path.isfile(target):
        raise ValueError(f"file {_quoted(relative)} not found in {shown(lab_dir)}")
    return Path(target)


def read_text(path: Path) -> str:
    """A lab's text file as UTF-8, size-bounded; LabError naming the file otherwise."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_TEXT_BYTES + 1)
    except OSError as exc:
        raise LabError(f"{shown(path)}: cannot read: {exc.strerror}") from None
    if len(data) > MAX_TEXT_BYTES:
        raise LabError(f"{shown(path)}: larger than {MAX_TEXT_BYTES // 1024} KB", "keep a lab's texts short")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LabError(f"{shown(path)}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                       "save the file as UTF-8") from None


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
        """A text file of this lab: only inside its own folder, as UTF-8."""
        try:
            path = inside(self.path, relative)
        except ValueError as exc:
            raise LabError(f"{shown(self.path / 'lab.yaml')}: {exc}") from None
        return read_text(path)
