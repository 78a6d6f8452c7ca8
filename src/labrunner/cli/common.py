"""What several commands share: finding the lab and step, rendering steps and results."""

from __future__ import annotations

import json
import re
import sys

import click

from labrunner import sessions
from labrunner.errors import UsageError

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


_console = None


def console():
    """One Console per process, so a command can capture what the helpers print."""
    global _console
    from rich.console import Console

    if _console is None:
        _console = Console(highlight=False, soft_wrap=False)
    return _console


def emit_json(data) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def lab_or_current(lab_id: str | None, *, with_code: bool = True):
    from labrunner.labs import catalog

    lab_id = lab_id or sessions.current_lab()
    if not lab_id:
        raise UsageError("no lab is running", "start one with `labrunner run <lab>` (see `labrunner list`)")
    return catalog.get(lab_id, with_code=with_code)


def current_step(lab):
    """The step the learner is on: the saved position, else the first one not yet done."""
    from labrunner import progress

    position = progress.position(lab.id)
    if position and position in {s.id for s in lab.steps}:
        return lab.step(position)
    done = progress.completed(lab.id)
    for step in lab.steps:
        if step.id not in done:
            return step
    return lab.steps[-1]


def pick_step(lab, step_ref: str | None):
    """A step by id or by number (1-based); the current one when step_ref is None."""
    if step_ref is None:
        return current_step(lab)
    if step_ref.isdigit() and 1 <= int(step_ref) <= len(lab.steps):
        return lab.steps[int(step_ref) - 1]
    try:
        return lab.step(step_ref)
    except KeyError:
        ids = ", ".join(s.id for s in lab.steps)
        raise UsageError(f"lab '{lab.id}' has no step '{step_ref}'", f"steps: {ids} (or 1..{len(lab.steps)})") from None


_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)(?:\.([a-z_-]+))?\s*\}\}")
_ENDPOINT_FIELDS = {"endpoint": "url", "host": "host", "port": "port", "user": "username",
                    "password": "password", "database": "database"}


def fill(text: str, lab, session) -> str:
    """Fill {{ endpoint }}, {{ host }}, {{ port }}, {{ user }}, {{ password }}, {{ database }}
    (each also as {{ field.<service> }}), {{ region }}, {{ workspace }}, {{ lab }}."""
    from labrunner.services.dynamodb import REGION

    endpoints = session.endpoints() if session else {}
    first = next(iter(endpoints.values()), None)

    def value(match):
        key, sub = match.group(1), match.group(2)
        if key in _ENDPOINT_FIELDS:
            ep = endpoints.get(sub) if sub else first
            return str(getattr(ep, _ENDPOINT_FIELDS[key])) if ep else f"<{key}: run the lab first>"
        if key == "region":
            return REGION
        if key == "workspace":
            return session.workspace if session else "<workspace>"
        if key == "lab":
            return lab.id
        return match.group(0)

    return _PLACEHOLDER.sub(value, text)


def describe_endpoint(name: str, state: dict) -> str:
    """How the learner reaches a service, RDS-style where the engine has users."""
    if state.get("username"):
        return (f"{name}: host {state['host']} port {state['port']} user {state['username']} "
                f"password {state['password']} database {state['database']}")
    return f"{name}: http://{state['host']}:{state['port']}"


def render_markdown(text: str) -> None:
    from rich.markdown import Markdown

    console().print(Markdown(text, code_theme="ansi_dark"))


def render_step(lab, step, session) -> None:
    from rich.panel import Panel

    index = lab.step_index(step.id) + 1
    out = console()
    lines = [f"[bold]{lab.title}[/] — step {index} of {len(lab.steps)}: [bold]{step.title}[/]"]
    if session:
        for name, state in session.services.items():
            lines.append(f"[cyan]{describe_endpoint(name, state)}[/]  ({state.get('standin', '')}, "
                         f"{session.runtime} runtime)")
        lines.append(f"workspace: {session.workspace}")
        lines.append('in another terminal: [green]eval "$(labrunner env)"[/] then work, and [green]labrunner check[/]')
    out.print(Panel("\n".join(lines), expand=False))
    render_markdown(fill(lab.read(step.text), lab, session))


def render_results(step, results) -> None:
    """Plain click output (no rich): `labrunner check` stays quick to start."""
    for result in results:
        if result.passed:
            mark = click.style("✓", fg="green")
        else:
            mark = click.style("!", fg="yellow") if result.error else click.style("✗", fg="red")
        message = f" — {result.message}" if result.message else ""
        click.echo(f" {mark} {result.name.replace('_', ' ')}{message}")
    passed = sum(r.passed for r in results)
    if passed == len(results):
        click.echo(click.style(f"Step '{step.id}' complete.", fg="green", bold=True) + f" ({passed}/{len(results)} checks)")
    else:
        click.echo(click.style(f"{passed}/{len(results)} checks pass.", bold=True) + " `labrunner hint` gives a hint.")


def is_interactive(no_input: bool) -> bool:
    return not no_input and sys.stdin.isatty()


def check_step(lab, session, step):
    """Run a step's checks on the live engine and record the attempt; advance when all pass."""
    from labrunner import checker

    results = checker.ask(lab, session, step.id)
    if results is None:                # no warm checker: check in this process
        from labrunner import lifecycle
        from labrunner.checks import runner
        from labrunner.labs.loader import load_code

        lifecycle.ensure_ready(session)
        with lifecycle.fixtures_for(lab, session) as fixtures:
            results = runner.run_step(load_code(lab), step, fixtures)
    from labrunner import progress

    passed = all(r.passed for r in results)
    failed = "; ".join(r.message for r in results if not r.passed)
    progress.record_attempt(lab.id, step.id, passed, failed)
    from labrunner import log

    for r in results:
        log.for_lab(lab.id).info("check %s/%s: %s%s", step.id, r.name,
                                 "pass" if r.passed else ("error" if r.error else "fail"),
                                 f" — {r.message}" if r.message else "")
    if passed:
        advance(lab, step)
    return results


def advance(lab, step) -> None:
    from labrunner import progress

    index = lab.step_index(step.id)
    if index + 1 < len(lab.steps):
        progress.set_position(lab.id, lab.steps[index + 1].id)
