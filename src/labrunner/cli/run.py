import click

from labrunner.cli import common
from labrunner.errors import LabrunnerError, UsageError


def parse_ports(values, lab) -> dict[str, int]:
    """--port 8000 (the lab's first service) or --port dynamodb=8000."""
    ports = {}
    for value in values:
        name, _, number = value.rpartition("=")
        name = name or lab.services[0]
        if name not in lab.services or not number.isdigit() or not 0 < int(number) < 65536:
            raise UsageError(f"--port {value}: expected PORT or SERVICE=PORT with SERVICE one of "
                             f"{', '.join(lab.services)}", "e.g. --port 8000")
        ports[name] = int(number)
    return ports


def start_with_progress(lab, runtime, ports, workspace, meanwhile=None):
    """Start the services; a spinner shows once the engines are launched (or an image pulls).

    Nothing heavy is imported before the engines are launched: they boot while we work."""
    from labrunner import lifecycle

    spinner = {}

    def status(text):
        if "live" not in spinner:
            spinner["live"] = common.console().status(text)
            spinner["live"].start()
        spinner["live"].update(text)

    def on_event(kind, name, detail=None):
        if kind == "pull" and isinstance(detail, dict):
            line = " ".join(str(detail.get(k, "")) for k in ("status", "progress") if detail.get(k))
            status(f"Pulling the {name} image: {line[:70]}")
        elif kind == "restart":
            common.console().print(name)

    def launched(session):
        if meanwhile:
            meanwhile(session)
        status(f"Waiting for {', '.join(lab.services)} to answer …")

    try:
        session, reused = lifecycle.start(lab, runtime, ports=ports, workspace=workspace,
                                          on_event=on_event, meanwhile=launched)
    finally:
        if "live" in spinner:
            spinner["live"].stop()
    out = common.console()
    for name, state in session.services.items():
        verb = "already running" if reused else "ready"
        out.print(f"[green]✓[/] {name} {verb}: [cyan]{common.describe_endpoint(name, state)}[/] — "
                  f"{state.get('standin', '')} on the {session.runtime} runtime")
    return session


@click.command("run")
@click.argument("lab_id")
@click.option("--runtime", type=click.Choice(["auto", "docker", "local"]), default="auto", show_default=True,
              help="auto picks Docker when a daemon answers, else local processes.")
@click.option("--port", "ports", multiple=True, metavar="[SERVICE=]PORT",
              help="Listen on this port (on 127.0.0.1) instead of a free one.")
@click.option("--workspace", type=click.Path(file_okay=False), help="Your folder for this lab's files.")
@click.option("--step", "step_ref", help="Go to this step (id or number).")
@click.option("--no-input", is_flag=True, help="Show the step and return; services keep running.")
def command(lab_id, runtime, ports, workspace, step_ref, no_input):
    """Start a lab's services and work through its steps."""
    from labrunner.labs import catalog

    lab = catalog.get(lab_id, with_code=False)
    ports = parse_ports(ports, lab)
    shown: dict = {}

    def prepare(session):
        """Runs while the engines boot: load the lab's code, render the step into a buffer."""
        from labrunner import progress
        from labrunner.labs.loader import load_code

        load_code(lab)
        first_time = not progress.completed(lab.id) and progress.position(lab.id) is None
        shown["step"] = common.pick_step(lab, step_ref)
        with common.console().capture() as captured:
            if first_time and step_ref is None:
                common.render_markdown(common.fill(lab.read(lab.intro), lab, session))
            common.render_step(lab, shown["step"], session)
        shown["text"] = captured.get()

    session = start_with_progress(lab, runtime, ports, workspace, meanwhile=prepare)
    if "text" not in shown:          # the services were already running
        prepare(session)
    step = shown["step"]
    from labrunner import progress

    progress.set_position(lab.id, step.id)
    click.echo(shown["text"], nl=False)
    if not common.is_interactive(no_input):
        common.console().print(f"Services keep running. Check your work with `labrunner check`; "
                               f"stop with `labrunner down {lab.id}`.")
        return 0
    return loop(lab, session, step)


MENU = "[c]heck  [h]int  [s]olve  [n]ext  [p]revious  [r]eprint  [q]uit (services keep running)"


def loop(lab, session, step):
    out = common.console()
    hints_shown = 0
    while True:
        out.print(MENU, style="dim", markup=False)
        try:
            choice = click.prompt("labrunner", default="c", show_default=False).strip().lower()[:1]
        except (click.exceptions.Abort, EOFError):
            choice = "q"
        try:
            step, hints_shown, done = _act(lab, session, step, hints_shown, choice)
        except LabrunnerError as exc:            # e.g. the engine stopped: say so, keep the loop
            out.print(f"labrunner: {exc.one_line()}", style="red", markup=False)
            continue
        if done:
            return 0


def _act(lab, session, step, hints_shown, choice):
    """One menu choice; returns (step, hints shown, whether the loop ends)."""
    from labrunner import progress

    out = common.console()
    index = lab.step_index(step.id)
    if choice in ("c", "s"):
        if choice == "c":
            results = common.check_step(lab, session, step)
            common.render_results(step, results)
        else:
            from labrunner.cli.solve import solve_step

            results = solve_step(lab, session, step)
        if all(r.passed for r in results):
            if index + 1 == len(lab.steps):
                common.render_markdown(common.fill(lab.read(lab.outro), lab, session))
                return step, hints_shown, True
            step, hints_shown = lab.steps[index + 1], 0
            common.render_step(lab, step, session)
    elif choice == "h":
        from labrunner.cli.hint import show_hint

        hints_shown = show_hint(lab, step, hints_shown, session)
    elif choice in ("n", "p"):
        target = index + (1 if choice == "n" else -1)
        if 0 <= target < len(lab.steps):
            step, hints_shown = lab.steps[target], 0
            progress.set_position(lab.id, step.id)
            common.render_step(lab, step, session)
    elif choice == "r":
        common.render_step(lab, step, session)
    elif choice == "q":
        out.print(f"Services keep running; `labrunner run {lab.id}` picks up here, "
                  f"`labrunner down {lab.id}` stops them.")
        return step, hints_shown, True
    return step, hints_shown, False
