import time

import click

from labrunner import sessions, steps
from labrunner.cli import common
from labrunner.errors import ExitCode


@click.command("check")
@click.argument("lab_id", required=False)
@click.option("--step", "step_ref", help="Step id or number (default: the current step).")
@click.option("--watch", is_flag=True, help="Check again whenever a workspace file changes (Ctrl-C stops).")
@common.json_option
def command(lab_id, step_ref, watch, as_json):
    """Check the current step against the live engine (LAB: when two labs run)."""
    lab = common.lab_or_current(lab_id, with_code=False)   # the warm checker has the code
    session = sessions.require(lab.id)
    step = steps.pick(lab, step_ref)
    if watch:
        return _watch(lab, session, step)
    outcome = steps.check(lab, session, step)
    if as_json:
        common.emit_json({"lab": lab.id, "step": step.id, "passed": outcome.passed,
                          "next_step": outcome.moved_to.id if outcome.moved_to else None,
                          "checks": [r.as_dict() for r in outcome.results]})
    else:
        common.render_outcome(lab, outcome)
    return exit_code(outcome.results)


def exit_code(results) -> int:
    from labrunner.checks import LAB_ERROR, SERVICE_ERROR

    if any(r.outcome == SERVICE_ERROR for r in results):
        return ExitCode.SERVICE_ERROR
    if any(r.outcome == LAB_ERROR for r in results):
        return ExitCode.USAGE_ERROR
    return ExitCode.OK if results and all(r.passed for r in results) else ExitCode.CHECKS_FAILED


def _snapshot(folder) -> dict:
    from pathlib import Path

    stamps = {}
    for path in Path(folder).rglob("*"):
        if path.is_file() and ".labrunner-backup" not in path.parts and "__pycache__" not in path.parts:
            try:
                stamps[str(path)] = path.stat().st_mtime_ns
            except OSError:
                pass
    return stamps


def _watch(lab, session, step):
    """Polls the workspace (works on every OS and on network drives, unlike inotify)."""
    out = common.console()
    seen = None
    while True:
        stamps = _snapshot(session.workspace)
        if stamps != seen:
            seen = stamps
            out.rule(f"{step.title} — {time.strftime('%H:%M:%S')}")
            outcome = steps.check(lab, session, step)
            common.render_outcome(lab, outcome)
            if outcome.passed:
                return ExitCode.OK
            out.print("[dim]watching your workspace; save a file to check again (Ctrl-C stops)[/]")
        time.sleep(0.5)
