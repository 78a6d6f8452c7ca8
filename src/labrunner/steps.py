"""The step engine: where the learner is, and check, solve, hint and move.

Every front end calls it and renders what it returns: the run loop, `labrunner
check`/`solve`/`hint`/`reset`, and `labrunner test` (reset_to). Nothing here prints.

One position per lab lives in the progress store, shared by every terminal:
- a check that passes records the step complete and moves the position to the next
  step (so `labrunner check` in the work terminal moves the learner on);
- the run loop re-reads the position before each prompt, and says when a step passed
  in another terminal;
- `solve` acts on the position, and its caller names the step and asks first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from labrunner import paths, progress
from labrunner.checks import CheckResult
from labrunner.errors import UsageError


@dataclass
class Outcome:
    """What a check or a solve did: the results, and where the position went."""

    step: object
    results: list[CheckResult]
    moved_to: object | None = None            # the next step, when the position moved on
    last: bool = False                        # it was the lab's last step, and it passed
    backups: list[str] = field(default_factory=list)   # learner files `solve` set aside

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)


# ---- where the learner is ------------------------------------------------------------

def current(lab):
    """The step the learner is on: the saved position, else the first step not yet done."""
    position = progress.position(lab.id)
    if position and position in {s.id for s in lab.steps}:
        return lab.step(position)
    done = progress.completed(lab.id)
    for step in lab.steps:
        if step.id not in done:
            return step
    return lab.steps[-1]


def pick(lab, step_ref: str | None):
    """A step by id or by number (1-based); the current one when step_ref is None."""
    if step_ref is None:
        return current(lab)
    if step_ref.isdigit() and 1 <= int(step_ref) <= len(lab.steps):
        return lab.steps[int(step_ref) - 1]
    try:
        return lab.step(step_ref)
    except KeyError:
        ids = ", ".join(s.id for s in lab.steps)
        raise UsageError(f"lab '{lab.id}' has no step '{step_ref}'", f"steps: {ids} (or 1..{len(lab.steps)})") from None


def number(lab, step) -> int:
    return lab.step_index(step.id) + 1


def go(lab, step) -> None:
    """Make `step` the lab's position, for every terminal."""
    progress.set_position(lab.id, step.id)


def following(lab, step):
    index = lab.step_index(step.id)
    return lab.steps[index + 1] if index + 1 < len(lab.steps) else None


def previous(lab, step):
    index = lab.step_index(step.id)
    return lab.steps[index - 1] if index > 0 else None


def is_done(lab, step) -> bool:
    return step.id in progress.completed(lab.id)


# ---- check and solve -----------------------------------------------------------------

def check(lab, session, step) -> Outcome:
    """Run a step's checks on the live engine (through the warm checker when it answers),
    record the attempt, and on a pass move the position to the next step."""
    from labrunner import warm_checker

    results = warm_checker.ask(lab, session, step.id)
    if results is None:                # no warm checker: check in this process
        results = run_checks(lab, session, step)
    return _record(lab, step, results, solved=False)


def run_checks(lab, session, step) -> list[CheckResult]:
    """The step's checks in this process, on fixtures for the session."""
    from labrunner import lifecycle
    from labrunner.checks import runner
    from labrunner.checks.fixtures import fixtures_for
    from labrunner.labs.loader import load_code

    load_code(lab)
    lifecycle.ensure_ready(session)
    with fixtures_for(lab, session) as fixtures:
        return runner.run_step(lab, step, fixtures)


def solve(lab, session, step) -> Outcome:
    """Apply the step's reference solution, then check it. Learner files it replaces are
    copied aside first; the outcome names the copies actually made."""
    from labrunner import lifecycle
    from labrunner.checks import runner
    from labrunner.checks.fixtures import fixtures_for
    from labrunner.labs.loader import load_code
    from labrunner.workspace import Workspace

    load_code(lab)
    lifecycle.ensure_ready(session)
    workspace = Workspace(session.workspace, lab)
    with fixtures_for(lab, session, workspace=workspace) as fixtures:
        runner.apply(lab, "solutions", step.solution, fixtures)
    with fixtures_for(lab, session, workspace=workspace) as fixtures:
        results = runner.run_step(lab, step, fixtures)
    outcome = _record(lab, step, results, solved=True)
    outcome.backups = [str(p) for p in workspace.backups]
    return outcome


def _record(lab, step, results, *, solved: bool) -> Outcome:
    from labrunner import log

    passed = bool(results) and all(r.passed for r in results)
    message = progress.SOLVE_MESSAGE if solved else "; ".join(r.message for r in results if not r.passed)
    progress.record_attempt(lab.id, step.id, passed, message, solved=solved and passed)
    from labrunner.classroom import hook

    hook.after_check(lab, step, passed)      # a joined class: queue the result (never waits, never raises)
    logger = log.for_lab(lab.id)
    for r in results:
        logger.info("%s %s/%s: %s%s", "solve" if solved else "check", step.id, r.name, r.outcome,
                    f" — {r.message}" if r.message else "")
    outcome = Outcome(step, list(results))
    if passed:
        nxt = following(lab, step)
        outcome.last = nxt is None
        if nxt is not None and progress.position(lab.id) in (None, step.id):
            go(lab, nxt)               # only from this step: a learner who moved elsewhere stays there
            outcome.moved_to = nxt
    return outcome


# ---- hints ---------------------------------------------------------------------------

def _hints_file(lab_id: str):
    folder = paths.state_dir() / "hints"
    folder.mkdir(exist_ok=True)
    return folder / f"{lab_id}.json"


def next_hints(lab, step, *, all_of_them: bool = False) -> list[str]:
    """The hints to show now: one more tier than last time (every tier with all_of_them),
    remembered per step across terminals."""
    path = _hints_file(lab.id)
    try:
        seen = json.loads(path.read_text())
        if not isinstance(seen, dict):
            seen = {}
    except (OSError, ValueError):
        seen = {}
    count = len(step.hints) if all_of_them else min(int(seen.get(step.id, 0)) + 1, len(step.hints))
    seen[step.id] = count
    from labrunner.sessions import _write_atomic

    _write_atomic(path, json.dumps(seen), private=True)
    if count:
        progress.record_hint(lab.id, step.id, count)      # for `labrunner report`
        from labrunner.classroom import hook

        hook.after_hint(lab, step)                        # a joined class: the dashboard hears now
    return list(step.hints[:count])


# ---- rebuilding an engine's data -----------------------------------------------------

def reset_to(lab, session, step_index: int, *, workspace=None, shared: dict | None = None) -> None:
    """Wipe the engines' data, then replay the reference
    solutions of the steps before step_index. The learner's own workspace files stay as they
    are (replay mode). Progress is not touched: a reset is about data, not about the record."""
    from labrunner import lifecycle, services
    from labrunner.checks import runner
    from labrunner.checks.fixtures import fixtures_for
    from labrunner.labs.loader import load_code
    from labrunner.workspace import Workspace

    load_code(lab)
    lifecycle.ensure_ready(session)
    for name in session.services:
        services.get(name).reset(session.endpoint(name))
    ws = workspace or Workspace(session.workspace, lab, replay=True)
    for step in lab.steps[:step_index]:
        with fixtures_for(lab, session, workspace=ws, replay=True, shared=shared) as fixtures:
            runner.apply(lab, "solutions", step.solution, fixtures)


def catch_up(lab, session, step, *, fresh: bool, restarted: list[str]) -> str:
    """Make the engines' data fit the step the learner starts at, and say what was done in
    one line ("" when nothing needed doing).

    - fresh services at a step past the first: their data is built as at the start of that
      step from the reference solutions of the earlier steps;
    - engines brought back after `down` that keep no data (an in-memory emulator, a cache
      without persistence): rebuilt the same way when nothing else holds the lab's data,
      else said to start empty;
    - engines that kept their data: nothing to do — the learner's own work is there."""
    from labrunner import services

    index = lab.step_index(step.id)
    if fresh:
        if index == 0:
            return ""
        reset_to(lab, session, index)
        return (f"Fresh services: built their data as at the start of step {index + 1} from the reference "
                f"solutions of steps 1–{index} (your workspace files are unchanged).")
    emptied = [name for name in restarted if not services.get(name).keeps_data]
    if not emptied:
        return ""
    names = ", ".join(emptied)
    if all(not services.get(name).keeps_data for name in session.services):
        if index == 0:
            return f"{names} keeps no data between runs; step 1 starts from an empty engine anyway."
        reset_to(lab, session, index)
        return (f"{names} keeps no data between runs: rebuilt it as at the start of step {index + 1} "
                f"from the reference solutions of steps 1–{index} (your workspace files are unchanged).")
    return f"{names} keeps no data between runs, so it starts empty, as a cache does after a restart."
