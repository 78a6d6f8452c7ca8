import click

from labrunner import progress, sessions
from labrunner.cli import common


@click.command("reset")
@click.argument("lab_id", required=False)
@click.option("--step", "step_ref", help="Return to the start of this step (default: the current step).")
@click.option("--all", "from_start", is_flag=True, help="Return to the start of the lab (step 1).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def command(lab_id, step_ref, from_start, yes):
    """Return the engine's data to the state a step starts from.

    The engine is wiped, then the reference solutions of the earlier steps are
    replayed. Files you wrote in your workspace are left as they are.
    """
    from labrunner import lifecycle

    lab = common.lab_or_current(lab_id)
    session = sessions.require(lab.id)
    step = lab.steps[0] if from_start else common.pick_step(lab, step_ref)
    index = lab.step_index(step.id)
    if not yes and common.is_interactive(False):
        click.confirm(f"Wipe the data of {lab.id} and rebuild it as at the start of step {index + 1} "
                      f"('{step.title}')?", abort=True)
    lifecycle.reset_to(lab, session, index)
    progress.forget(lab.id, [s.id for s in lab.steps[index:]])
    progress.set_position(lab.id, step.id)
    common.console().print(f"Reset: {lab.id} is at the start of step {index + 1}, '{step.title}'. "
                           f"Your workspace files are unchanged.")
    return 0
