"""The rules a lab is held to without starting any engine (`labrunner test --static`): it loads,
every function it names exists, hints are tiered, every step lists a mistake, step titles match
their texts' headings, its texts are not thin and use only placeholders the run loop fills, and its
folder holds no stray files.

Built-in labs and a teacher's own labs (--labs-dir) are held to the same rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from labrunner.errors import LabError
from labrunner.labs.model import Lab, one_line, shown

MIN_HINTS = 2                 # tiered: a nudge, then the approach (then nearly the answer)
MIN_OBJECTIVES = 3
MIN_TEXT_CHARS = 200          # intro, differences, outro
TOP_LEVEL = {"lab.yaml", "checks.py", "solutions.py", "mistakes.py", "routes.py", "steps", "workspace",
             "solutions"}
IGNORED = {"__pycache__", ".DS_Store"}
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)
_STEP_PREFIX = re.compile(r"^Step (\d+)\s*[:.—-]\s*")
# What the run loop fills in a lab's texts and hints (cli.common.fill; a test keeps the two together).
ENDPOINT_PLACEHOLDERS = ("endpoint", "host", "port", "user", "password", "database")
OTHER_PLACEHOLDERS = ("region", "workspace", "lab")
_ANY_PLACEHOLDER = re.compile(r"\{\{(.{0,80}?)\}\}")


@dataclass(frozen=True)
class Finding:
    rule: str                 # loads, functions, hints, mistakes, title, texts, objectives, placeholders, stray
    where: str                # labs/x/lab.yaml: steps[2]   or a file: labs/x/notes.txt
    message: str
    step: str | None = None   # the step's id, when the finding is about one step

    def line(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def check(lab_dir: Path, source: str = "built-in") -> list[Finding]:
    """Every rule the lab in `lab_dir` breaks; [] when it keeps them all."""
    from labrunner.labs.loader import import_code, missing_functions, parse_lab

    yaml_file = shown(lab_dir / "lab.yaml")
    try:
        lab = parse_lab(lab_dir, source)
    except LabError as exc:
        return [Finding("loads", yaml_file, _without_prefix(exc.one_line(), yaml_file))]
    findings: list[Finding] = []
    try:
        import_code(lab)
    except LabError as exc:
        findings.append(Finding("loads", "", exc.one_line()))       # the message names file and line
    else:
        findings += [Finding("functions", f"{yaml_file}: {where}", message, _step_of(lab, where))
                     for where, message in missing_functions(lab)]
    findings += _step_rules(lab, yaml_file)
    findings += _lab_rules(lab, yaml_file)
    findings += _placeholders(lab, yaml_file)
    findings += _stray_files(lab)
    return findings


def _without_prefix(line: str, prefix: str) -> str:
    return line[len(prefix) + 2:] if line.startswith(prefix + ": ") else line


def _step_of(lab: Lab, where: str) -> str | None:
    match = re.match(r"steps\[(\d+)\]", where)
    return lab.steps[int(match.group(1))].id if match else None


def _step_rules(lab: Lab, yaml_file: str) -> list[Finding]:
    found = []
    for i, step in enumerate(lab.steps):
        where = f"{yaml_file}: steps[{i}]"

        def add(rule, message, at=where, step_id=step.id):
            found.append(Finding(rule, at, message, step_id))

        if len(step.hints) < MIN_HINTS:
            add("hints", f"'{step.id}' has {len(step.hints)} hint; give at least {MIN_HINTS}, tiered: "
                         "a nudge, the approach, nearly the answer")
        if len(set(step.hints)) < len(step.hints):
            add("hints", f"'{step.id}' repeats a hint; each tier should say more than the one before")
        if not step.mistakes:
            add("mistakes", f"'{step.id}' lists no mistakes; add the typical wrong answer (mistakes.py) and "
                            "the message a check gives it")
        try:
            text = lab.read(step.text)
        except LabError as exc:
            add("texts", exc.one_line())
            continue
        if not text.strip():
            add("texts", f"'{step.id}': {step.text} is empty")
            continue
        heading = _HEADING.search(text)
        if heading is None:
            add("title", f"'{step.id}': {step.text} has no heading; start it with '# Step {i + 1}: {step.title}'")
            continue
        shown_title = one_line(heading.group(1).strip())
        prefix = _STEP_PREFIX.match(shown_title)
        if prefix and int(prefix.group(1)) != i + 1:
            add("title", f"'{step.id}' is step {i + 1} but {step.text} is headed '{shown_title}'")
        elif (shown_title[prefix.end():] if prefix else shown_title) != step.title:
            add("title", f"'{step.id}' is titled '{step.title}' but {step.text} is headed '{shown_title}'; "
                         "make them the same (the run loop shows both)")
    return found


def _lab_rules(lab: Lab, yaml_file: str) -> list[Finding]:
    found = []
    if len(lab.objectives) < MIN_OBJECTIVES:
        found.append(Finding("objectives", f"{yaml_file}: objectives",
                             f"{len(lab.objectives)} objective(s); list at least {MIN_OBJECTIVES}"))
    for name in ("intro", "differences", "outro"):
        relative = getattr(lab, name)
        try:
            size = len(lab.read(relative).strip())
        except LabError as exc:
            found.append(Finding("texts", f"{yaml_file}: {name}", exc.one_line()))
            continue
        if size < MIN_TEXT_CHARS:
            found.append(Finding("texts", shown(lab.path / relative),
                                 f"only {size} characters; the {name} needs at least {MIN_TEXT_CHARS}"))
    return found


def _placeholders(lab: Lab, yaml_file: str) -> list[Finding]:
    """Every {{ name }} in a text or hint is one the run loop fills: a typo would reach the learner raw."""
    texts = [(shown(lab.path / name), None, name) for name in (lab.intro, lab.differences, lab.outro)]
    texts += [(shown(lab.path / step.text), step.id, step.text) for step in lab.steps]
    found = []
    for where, step_id, relative in texts:
        try:
            found += _unknown_placeholders(lab, lab.read(relative), where, step_id)
        except LabError:
            pass                                        # said by the texts rules
    for i, step in enumerate(lab.steps):
        for j, hint in enumerate(step.hints):
            found += _unknown_placeholders(lab, hint, f"{yaml_file}: steps[{i}].hints[{j}]", step.id)
    return found


def _unknown_placeholders(lab: Lab, text: str, where: str, step_id: str | None) -> list[Finding]:
    found, seen = [], set()
    for match in _ANY_PLACEHOLDER.finditer(text):
        inner = match.group(1).strip()
        name, _, service = inner.partition(".")
        if inner in seen:
            continue
        seen.add(inner)
        if name in ENDPOINT_PLACEHOLDERS and (not service or service in lab.services):
            continue
        if name in OTHER_PLACEHOLDERS and not service:
            continue
        if name in ENDPOINT_PLACEHOLDERS:
            why = f"the lab has no service '{service}' (its services: {', '.join(lab.services)})"
        else:
            why = f"known: {', '.join(ENDPOINT_PLACEHOLDERS + OTHER_PLACEHOLDERS)}, the first six also as name.service"
        found.append(Finding("placeholders", where, f"{{{{ {one_line(inner)} }}}} is not filled in ({why})",
                             step_id))
    return found


def _stray_files(lab: Lab) -> list[Finding]:
    """Files the lab neither names nor needs: left-overs a learner or teacher would trip on."""
    named = {Path(name).parts[0] for name in (lab.intro, lab.differences, lab.outro)}
    texts = {Path(step.text) for step in lab.steps}
    # a design note the lab's own texts point to (labs/neptune-gremlin/opencypher.md) is part of it
    pointed = " ".join(lab.read(name) for name in (lab.intro, lab.differences, lab.outro))
    found = []
    for entry in sorted(lab.path.iterdir()):
        if entry.name in IGNORED or entry.name in TOP_LEVEL | named:
            continue
        if entry.suffix == ".md" and entry.is_file() and f"`{entry.name}`" in pointed:
            continue
        found.append(Finding("stray", shown(entry), "is not part of a lab (lab.yaml names no such file); "
                                                    "remove it or move it into workspace/"))
    steps_dir = lab.path / "steps"
    if steps_dir.is_dir():
        for entry in sorted(steps_dir.rglob("*")):
            if entry.is_file() and not IGNORED & set(entry.parts) and entry.relative_to(lab.path) not in texts:
                found.append(Finding("stray", shown(entry), "is a step text no step names"))
    found += _stray_solutions(lab)
    return found


def _stray_solutions(lab: Lab) -> list[Finding]:
    """A reference version is of a starter file: workspace/cache.py, or solutions/cache-3-ttl.py
    for the version of cache.py that one step's solution installs."""
    solutions, workspace = lab.path / "solutions", lab.path / "workspace"
    if not solutions.is_dir():
        return []
    starters = {(p.stem, p.suffix) for p in workspace.iterdir()} if workspace.is_dir() else set()
    found = []
    for entry in sorted(solutions.iterdir()):
        if entry.name in IGNORED:
            continue
        if (entry.stem, entry.suffix) in starters or (entry.stem.split("-")[0], entry.suffix) in starters:
            continue
        found.append(Finding("stray", shown(entry), "is a reference version of no starter file in workspace/ "
                                                    "(name it like the file, e.g. cache.py or cache-3-ttl.py)"))
    return found
