import click

from labrunner import paths, sessions
from labrunner.cli import common


def _hint_file(lab_id: str):
    """How many hints of each step the learner has seen, so each call shows one more."""
    folder = paths.state_dir() / "hints"
    folder.mkdir(exist_ok=True)
    return folder / f"{lab_id}.json"


def show_hint(lab, step, already_shown: int, session=None) -> int:
    """Print the next tier of hints for a step; return how many are now shown."""
    shown = min(already_shown + 1, len(step.hints))
    out = common.console()
    for i in range(shown):
        tier = ("a nudge", "the approach", "nearly the answer")[min(i, 2)] if len(step.hints) <= 3 else f"{i + 1}"
        out.print(f"[bold]Hint {i + 1} of {len(step.hints)}[/] ({tier}):")
        common.render_markdown(common.fill(step.hints[i], lab, session))
    if shown == len(step.hints):
        out.print("[dim]That was the last hint; `labrunner solve` applies the reference solution.[/]")
    return shown


@click.command("hint")
@click.argument("lab_id", required=False)
@click.option("--step", "step_ref", help="Step id or number (default: the current step).")
@click.option("--all", "show_all", is_flag=True, help="Show every hint of the step at once.")
def command(lab_id, step_ref, show_all):
    """Show the next hint for the current step (one more each time)."""
    import json

    lab = common.lab_or_current(lab_id, with_code=False)
    step = common.pick_step(lab, step_ref)
    path = _hint_file(lab.id)
    try:
        seen = json.loads(path.read_text())
    except (OSError, ValueError):
        seen = {}
    count = show_hint(lab, step, len(step.hints) - 1 if show_all else seen.get(step.id, 0),
                      sessions.find(lab.id))
    seen[step.id] = count
    path.write_text(json.dumps(seen))
    return 0
