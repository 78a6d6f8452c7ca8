"""`labrunner test`: prove a lab on a fresh service.

For every step, in order: each check fails before the solution, every check
passes after it; each typical mistake listed in lab.yaml, applied from the
step's start state, makes a check fail with the message the lab promises; and
each route (a correct answer the reference solution does not take), applied from
the step's start state, passes every check.

Services start through the same path a learner's `run` uses (`lifecycle.launch`),
in a session of their own that no other command sees, and are stopped on every
way out: the proof ends, a check hangs, Ctrl-C, SIGTERM or SIGHUP (an outer
timeout), a crash.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from labrunner import lifecycle, runtimes, steps
from labrunner.checks import runner
from labrunner.checks.fixtures import fixtures_for
from labrunner.sessions import Session
from labrunner.workspace import Workspace


@dataclass
class Finding:
    step: str
    what: str          # "before", "after", "mistake:<name>"
    ok: bool
    detail: str


@dataclass
class LabProof:
    lab: str
    runtime: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.findings) and all(f.ok for f in self.findings)


@contextmanager
def _signals_end_the_proof():
    """SIGTERM and SIGHUP (an outer `timeout`, a closed terminal) unwind like Ctrl-C, so the
    `finally` that stops the services runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    wanted = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {sig: signal.signal(sig, interrupt) for sig in wanted}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def prove(lab, runtime_name: str, on_event=None) -> LabProof:
    say = on_event or (lambda *a: None)
    runtime = runtimes.get(runtime_name)
    proof = LabProof(lab.id, runtime.name)
    tmp = Path(tempfile.mkdtemp(prefix=f"labrunner-test-{lab.id}-"))
    session = Session(lab=lab.id, runtime=runtime.name, workspace=str(tmp / "workspace"))
    session.id = "test-" + session.id
    workspace = Workspace(tmp / "workspace", lab)
    workspace.prepare()
    with _signals_end_the_proof():
        try:
            lifecycle.launch(lab, runtime, session, say=say, persist=False)
            _prove_steps(lab, session, workspace, proof, say)
        finally:
            for state in session.services.values():
                try:
                    runtime.remove(state)
                except Exception:
                    pass
            sweep = getattr(runtime, "sweep_session", None)
            if sweep:
                sweep(session.id)
            shutil.rmtree(tmp, ignore_errors=True)
    return proof


def _prove_steps(lab, session, workspace, proof, say) -> None:
    shared: dict = {}

    def fixtures():
        return fixtures_for(lab, session, workspace=workspace, shared=shared)

    for index, step in enumerate(lab.steps):
        say("step", step.id)
        with fixtures() as f:
            before = runner.run_step(lab, step, f)
        for result in before:
            proof.findings.append(Finding(
                step.id, "before", not result.passed and not result.error,
                f"{result.name}: " + ("passed before the solution — it cannot catch a learner who did nothing"
                                      if result.passed else result.message)))
        with fixtures() as f:
            runner.apply(lab, "solutions", step.solution, f)
        with fixtures() as f:
            after = runner.run_step(lab, step, f)
        for result in after:
            proof.findings.append(Finding(step.id, "after", result.passed,
                                          f"{result.name}: " + (result.message or "passed")))
        for mistake in step.mistakes:
            _restart_from(lab, session, index, workspace, shared)
            with fixtures() as f:
                runner.apply(lab, "mistakes", mistake.apply, f)
            with fixtures() as f:
                results = runner.run_step(lab, step, f)
            caught = [r for r in results if not r.passed and not r.error and mistake.expect in r.message]
            detail = caught[0].message if caught else (
                "no check failed with a message containing "
                f"{mistake.expect!r}; got: " + "; ".join(f"{r.name}: {r.message or 'passed'}" for r in results))
            proof.findings.append(Finding(step.id, f"mistake:{mistake.apply}", bool(caught), detail))
        for route in step.routes:
            _restart_from(lab, session, index, workspace, shared)
            with fixtures() as f:
                runner.apply(lab, "routes", route, f)
            with fixtures() as f:
                results = runner.run_step(lab, step, f)
            failed = [r for r in results if not r.passed]
            detail = "every check passed" if not failed else "; ".join(
                f"{r.name}: {r.message}" for r in failed)
            proof.findings.append(Finding(step.id, f"route:{route}", not failed, detail))
        if step.mistakes or step.routes:
            _restart_from(lab, session, index + 1, workspace, shared)


def _restart_from(lab, session: Session, step_index: int, workspace: Workspace, shared: dict) -> None:
    """Fresh starter files and the engine as it stands at the start of step_index."""
    for child in workspace.path.iterdir():      # empty it in place: a container may have it mounted
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
    workspace.prepare()
    steps.reset_to(lab, session, step_index, workspace=workspace, shared=shared)
