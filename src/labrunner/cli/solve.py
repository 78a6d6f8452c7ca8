import click

from labrunner import progress, sessions
from labrunner.cli import common


def solve_step(lab, session, step):
    """Apply the reference solution, then check it (so the learner sees it pass)."""
    from labrunner import lifecycle
    from labrunner.checks import runner

    lifecycle.ensure_ready(session)
    with lifecycle.fixtures_for(lab, session) as fixtures:
        runner.apply(lab, "solutions", step.solution, fixtures)
    with lifecycle.fixtures_for(lab, session) as fixtures:
        results = runner.run_step(lab, step, fixtures)
    passed = all(r.passed for r in results)
    progress.record_attempt(lab.id, step.id, passed, "applied the reference solution", solved=True)
    out = common.console()
    out.print(f"Applied the reference solution of '{step.id}'. Files it replaced in your workspace "
              f"are kept in {session.workspace}/.labrunner-backup/.")
    common.render_results(step, results)
    if passed:
        common.advance(lab, step)
    return results


@click.command("solve")
@click.argument("lab_id", required=False)
@click.option("--step", "step_ref", help="Step id or number (default: the current step).")
def command(lab_id, step_ref):
    """Apply the current step's reference solution and move on."""
    lab = common.lab_or_current(lab_id)
    session = sessions.require(lab.id)
    step = common.pick_step(lab, step_ref)
    results = solve_step(lab, session, step)
    return 0 if all(r.passed for r in results) else 1
