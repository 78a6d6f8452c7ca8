import time

import click

from labrunner import sessions
from labrunner.cli import common
from labrunner.errors import ExitCode


@click.command("check")
@click.argument("lab_id", required=False)
@click.option("--step", "step_ref", help="Step id or number (default: the current step).")
@click.option("--watch", is_flag=True, help="Check again whenever a workspace file changes (Ctrl-C stops).")
@common.json_option
def command(lab_id, step_ref, watch, as_json):
    """Check the current step against the live engine."""
    lab = common.lab_or_current(lab_id, with_code=False)   # the warm checker has the code
    session = sessions.require(lab.id)
    step = common.pick_step(lab, step_ref)
    if watch:
        return _watch(lab, session, step)
    results = common.check_step(lab, session, step)
    passed = all(r.passed for r in results)
    if as_json:
        common.emit_json({"lab": lab.id, "step": step.id, "passed": passed,
                          "checks": [r.as_dict() for r in results]})
    else:
        common.render_results(step, results)
        if passed:
            index = lab.step_index(step.id)
            if index + 1 < len(lab.steps):
                click.echo(f"Next: `labrunner run {lab.id}` shows step {index + 2}, "
                           f"'{lab.steps[index + 1].title}'.")
            else:
                click.echo(f"That was the last step. `labrunner down {lab.id}` stops the services.")
    if any(r.error for r in results):
        return ExitCode.SERVICE_ERROR
    return ExitCode.OK if passed else ExitCode.CHECKS_FAILED


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
            results = common.check_step(lab, session, step)
            common.render_results(step, results)
            if all(r.passed for r in results):
                return ExitCode.OK
            out.print("[dim]watching your workspace; save a file to check again (Ctrl-C stops)[/]")
        time.sleep(0.5)
