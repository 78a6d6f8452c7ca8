import click

from labrunner import sessions, steps
from labrunner.cli import common
from labrunner.errors import UsageError


@click.command("reset")
@click.argument("lab_id", required=False)
@click.option("--step", "step_ref", help="Return to the start of this step (default: the current step).")
@click.option("--all", "from_start", is_flag=True, help="Return to the start of the lab (step 1).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def command(lab_id, step_ref, from_start, yes):
    """Return the engine's data to the state a step starts from.

    The engine is wiped, then the reference solutions of the earlier steps are
    replayed. Files you wrote in your workspace are left as they are, and so is
    the record of the steps you completed.
    """
    lab = common.lab_or_current(lab_id, command="reset")
    session = sessions.require(lab.id, "reset")
    step = lab.steps[0] if from_start else steps.pick(lab, step_ref)
    index = lab.step_index(step.id)
    if not yes and not common.is_interactive(False):
        raise UsageError(f"reset would wipe the data of {lab.id} and rebuild it as at the start of step {index + 1}",
                         "add --yes to do it without being asked")
    if not yes:
        click.confirm(f"Wipe the data of {lab.id} and rebuild it as at the start of step {index + 1} "
                      f"('{step.title}')? Your files and your record of completed steps stay.", abort=True)
    steps.reset_to(lab, session, index)
    steps.go(lab, step)
    common.console().print(f"Reset: {lab.id}'s data is as at the start of step {index + 1}, '{step.title}'. "
                           f"Your workspace files and completed steps are unchanged.", markup=False)
    return 0
