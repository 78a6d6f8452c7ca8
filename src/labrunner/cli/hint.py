import click

from labrunner import steps
from labrunner.cli import common

TIERS = ("a nudge", "the approach", "nearly the answer")


def show_hints(lab, step, hints, session=None) -> None:
    """Print hints (the tiers shown so far) with their tier names."""
    out = common.console()
    for i, hint in enumerate(hints):
        tier = TIERS[min(i, 2)] if len(step.hints) <= 3 else f"{i + 1}"
        out.print(f"[bold]Hint {i + 1} of {len(step.hints)}[/] ({tier}):")
        common.render_markdown(common.fill(hint, lab, session))
    if len(hints) == len(step.hints):
        out.print("[dim]That was the last hint; `labrunner solve` applies the reference solution.[/]")


@click.command("hint")
@click.argument("lab_id", required=False)
@click.option("--step", "step_ref", help="Step id or number (default: the current step).")
@click.option("--all", "show_all", is_flag=True, help="Show every hint of the step at once.")
def command(lab_id, step_ref, show_all):
    """Show the next hint for the current step (one more each time)."""
    from labrunner import sessions

    lab = common.lab_or_current(lab_id, with_code=False, command="hint")
    step = steps.pick(lab, step_ref)
    show_hints(lab, step, steps.next_hints(lab, step, all_of_them=show_all), sessions.find(lab.id))
    return 0
