import click

from labrunner import sessions, steps
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
        elif kind in ("restart", "note"):
            common.console().print(name, markup=False)

    def launched(session):
        if meanwhile:
            meanwhile(session)
        status(f"Waiting for {', '.join(lab.services)} to answer …")

    try:
        started = lifecycle.start(lab, runtime, ports=ports, workspace=workspace,
                                  on_event=on_event, meanwhile=launched)
    finally:
        if "live" in spinner:
            spinner["live"].stop()
    session = started.session
    out = common.console()
    for name, state in session.services.items():
        if started.reused:
            verb = "already running"
        elif name in started.restarted:
            from labrunner import services

            verb = "back on its data" if services.get(name).keeps_data else "started again (it keeps no data)"
        else:
            verb = "ready"
        out.print(f"[green]✓[/] {name} {verb}: [cyan]{common.describe_endpoint(name, state)}[/] — "
                  f"{state.get('standin', '')} on the {session.runtime} runtime")
    return started


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
    from labrunner import progress, warm_checker
    from labrunner.labs import catalog

    lab = catalog.get(lab_id, with_code=False)
    ports = parse_ports(ports, lab)
    steps.pick(lab, step_ref)           # a bad --step is refused before anything starts
    first_time = not progress.completed(lab.id) and progress.position(lab.id) is None and step_ref is None
    shown: dict = {}

    interactive = common.is_interactive(no_input)

    def prepare(session):
        """Runs while the engines boot: load the lab's code, render the texts into buffers. At a
        terminal, a first run's introduction is shown here, while the engines boot (Gremlin
        Server takes 2 to 5 s): the learner reads instead of watching a spinner."""
        from labrunner.labs.loader import load_code

        load_code(lab)
        shown["step"] = steps.pick(lab, step_ref)
        if first_time:
            with common.console().capture() as captured:
                common.render_markdown(common.fill(lab.read(lab.intro), lab, session))
            shown["intro"] = captured.get()
            if interactive:
                _page(shown.pop("intro"), already=0)
                _wait_for_a_key(f"Press any key for step 1, '{shown['step'].title}' …")
        with common.console().capture() as captured:
            common.render_step(lab, shown["step"], session)
        shown["text"] = captured.get()

    started = start_with_progress(lab, runtime, ports, workspace, meanwhile=prepare)
    session = started.session
    if "text" not in shown:
        prepare(session)
    step = shown["step"]
    note = steps.catch_up(lab, session, step, fresh=started.fresh, restarted=started.restarted)
    if note:
        common.console().print(note, markup=False)
    warm_checker.spawn(lab, session)
    steps.go(lab, step)
    if shown.get("intro"):
        if interactive:                  # a screenful at a time: the first screen fits the terminal
            _page(shown["intro"], already=2 * len(lab.services))    # the "ready" lines above it
            _wait_for_a_key(f"Press any key for step 1, '{step.title}' …")
        else:
            click.echo(shown["intro"], nl=False)
    click.echo(shown["text"], nl=False)
    if not interactive:
        common.console().print(f"Services keep running. Check your work with `labrunner check {lab.id}`; "
                               f"stop with `labrunner down {lab.id}`.", markup=False)
        return 0
    return Loop(lab, session, step, runtime=runtime).run()


def _wait_for_a_key(prompt: str) -> None:
    """click.pause, except that Ctrl-C interrupts (click.pause takes it for any key)."""
    click.echo(prompt, nl=False)
    try:
        click.getchar()
    finally:
        click.echo()


def _page(text: str, already: int = 0) -> None:
    """Print text a screenful at a time; `already`: lines the first screen shows above it."""
    import shutil

    lines = text.splitlines(keepends=True)
    height = max(10, shutil.get_terminal_size().lines - 2)
    start, first = 0, True
    while start < len(lines):
        size = max(5, height - already) if first else height
        if not first:
            _wait_for_a_key("-- more of the introduction: press any key --")
        click.echo("".join(lines[start:start + size]), nl=False)
        start, first = start + size, False


MENU = "[c]heck  [h]int  [s]olve  [n]ext  [p]revious  [r]eprint  [q]uit (services keep running)"
MENU_STOPPED = "[u]p: start the services again  [r]eprint  [q]uit   (services stopped in another terminal)"


class Loop:
    """The interactive loop. Before each prompt it re-reads the lab's position and session,
    so what it shows is true even when another terminal checked, solved or stopped."""

    def __init__(self, lab, session, step, runtime: str = "auto"):
        self.lab, self.session, self.step, self.runtime = lab, session, step, runtime
        self.stopped = False
        self.out = common.console()

    def run(self) -> int:
        while True:
            self.sync()
            self.out.print(MENU_STOPPED if self.stopped else MENU, style="dim", markup=False)
            try:
                choice = click.prompt("labrunner", default="c" if not self.stopped else "u",
                                      show_default=False).strip().lower()[:1]
            except (click.exceptions.Abort, EOFError):
                choice = "q"
            if self.sync() and choice in ("c", "s", "h", "n", "p"):
                continue       # another terminal moved on while the prompt waited: the new step is shown
            try:
                if self.act(choice):
                    return 0
            except LabrunnerError as exc:            # e.g. the engine stopped: say so, keep the loop
                self.out.print(f"labrunner: {exc.one_line()}", style="red", markup=False)

    def sync(self) -> bool:
        """Catch up with other terminals; True when what the learner saw has changed."""
        live = sessions.find(self.lab.id)
        was_stopped = self.stopped
        self.stopped = live is None or live.id != self.session.id or live.stopped
        if self.stopped and not was_stopped:
            self.out.print(f"The services of {self.lab.id} were stopped in another terminal "
                           f"(`labrunner down`). `u` starts them again.", markup=False)
        elif not self.stopped:
            self.session = live                  # a `fault restart` may have moved a port
        position = steps.current(self.lab)
        if position.id != self.step.id:
            if steps.following(self.lab, self.step) is position and steps.is_done(self.lab, self.step):
                self.out.print(f"Step {steps.number(self.lab, self.step)}, '{self.step.title}', passed in "
                               f"another terminal.", style="green", markup=False)
            else:
                self.out.print(f"Another terminal moved {self.lab.id} to step {steps.number(self.lab, position)}.",
                               markup=False)
            self.step = position
            self.show()
            return True
        return self.stopped != was_stopped

    def show(self) -> None:
        common.render_step(self.lab, self.step, None if self.stopped else self.session)

    def act(self, choice: str) -> bool:
        """One menu choice; True when the loop ends."""
        lab, step = self.lab, self.step
        if choice == "q":
            if self.stopped:
                self.out.print(f"Nothing of {lab.id} is running; `labrunner run {lab.id}` resumes at step "
                               f"{steps.number(lab, step)}.", markup=False)
            else:
                self.out.print(f"Services keep running; `labrunner run {lab.id}` picks up here, "
                               f"`labrunner down {lab.id}` stops them (your data is kept).", markup=False)
            return True
        if choice == "r":
            self.show()
        elif choice == "u":
            if not self.stopped:
                self.out.print("The services are running.", markup=False)
            else:
                started = start_with_progress(lab, self.runtime, {}, None)
                note = steps.catch_up(lab, started.session, step, fresh=started.fresh, restarted=started.restarted)
                if note:
                    self.out.print(note, markup=False)
                from labrunner import warm_checker

                warm_checker.spawn(lab, started.session)
                self.session, self.stopped = started.session, False
        elif self.stopped and choice in ("c", "s", "h", "n", "p"):
            self.out.print("The services are stopped; `u` starts them again.", markup=False)
        elif choice in ("c", "s"):
            return self.check_or_solve(choice)
        elif choice == "h":
            from labrunner.cli.hint import show_hints

            show_hints(lab, step, steps.next_hints(lab, step), self.session)
        elif choice in ("n", "p"):
            target = steps.following(lab, step) if choice == "n" else steps.previous(lab, step)
            if target is None:
                self.out.print("This is the " + ("last" if choice == "n" else "first") + " step.", markup=False)
                return False
            if choice == "n" and not steps.is_done(lab, step):
                self.out.print(f"Step {steps.number(lab, step)} is not complete yet (its checks have not "
                               f"passed); moving on anyway — `p` comes back.", markup=False)
            self.step = target
            steps.go(lab, target)
            self.show()
        else:
            self.out.print(f"'{choice}' is not a choice here.", markup=False)
        return False

    def check_or_solve(self, choice: str) -> bool:
        lab, step = self.lab, self.step
        if choice == "c":
            outcome = steps.check(lab, self.session, step)
            common.render_outcome(lab, outcome, in_loop=True)
        else:
            if not click.confirm(f"Apply the reference solution of step {steps.number(lab, step)}, "
                                 f"'{step.title}'?", default=False):
                self.out.print("Nothing was changed.", markup=False)
                return False
            from labrunner.cli.solve import solve_step

            outcome = solve_step(lab, self.session, step, in_loop=True)
        if outcome.passed:
            if outcome.last:
                common.render_markdown(common.fill(lab.read(lab.outro), lab, self.session))
                return True
            if outcome.moved_to is not None:
                self.step = outcome.moved_to
                self.show()
        return False
