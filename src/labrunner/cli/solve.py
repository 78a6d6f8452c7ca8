import click

from labrunner import sessions, steps
from labrunner.cli import common
from labrunner.errors import UsageError


def solve_step(lab, session, step, *, in_loop: bool = False):
    """Apply the reference solution and show it pass; name the learner files set aside."""
    outcome = steps.solve(lab, session, step)
    out = common.console()
    out.print(f"Applied the reference solution of step {steps.number(lab, step)}, '{step.title}'.",
              markup=False)
    for backup in outcome.backups:
        out.print(f"Your own version was kept as {backup}.", markup=False)
    common.render_outcome(lab, outcome, in_loop=in_loop)
    return outcome


@click.command("solve")
@click.argument("lab_id", required=False)
@click.option("--step", "step_ref", help="Step id or number (default: the current step).")
@click.option("--yes", is_flag=True, help="Do not ask first (for scripts).")
def command(lab_id, step_ref, yes):
    """Apply the current step's reference solution (asks first; --yes for scripts)."""
    lab = common.lab_or_current(lab_id, command="solve")
    session = sessions.require(lab.id, "solve")
    step = steps.pick(lab, step_ref)
    question = (f"Apply the reference solution of step {steps.number(lab, step)} of {lab.id}, "
                f"'{step.title}'? It changes the engine's data and may replace workspace files "
                f"(your versions are kept aside)")
    if not yes:
        if not common.is_interactive(False):
            raise UsageError(f"solve would apply the solution of step {steps.number(lab, step)}, '{step.title}'",
                             "add --yes to do it without being asked")
        if not click.confirm(question, default=False):
            common.console().print("Nothing was changed.")
            return 0
    outcome = solve_step(lab, session, step)
    return 0 if outcome.passed else 1
