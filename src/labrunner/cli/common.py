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


def lab_or_current(lab_id: str | None, *, with_code: bool = True, command: str = "check",
                   service: str | None = None):
    """The lab a command means: the one named, else the one running (asking when two are)."""
    from labrunner.labs import catalog

    lab_id = sessions.resolve_lab(lab_id, command, service)
    if not lab_id:
        raise UsageError("no lab is running", "start one with `labrunner run <lab>` (see `labrunner list`)")
    return catalog.get(lab_id, with_code=with_code)


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
            return str(getattr(ep, _ENDPOINT_FIELDS[key])) if ep else f"[{key}: shown by `labrunner run`]"
        if key == "region":
            return REGION
        if key == "workspace":
            return session.workspace if session else "[your workspace folder]"
        if key == "lab":
            return lab.id
        return match.group(0)

    return _PLACEHOLDER.sub(value, text)


def describe_endpoint(name: str, state: dict) -> str:
    """How the learner reaches a service, RDS-style where the engine has users."""
    if state.get("username"):
        return (f"{name}: host {state['host']} port {state['port']} user {state['username']} "
                f"password {state['password']} database {state['database']}")
    return f"{name}: {state.get('scheme') or 'http'}://{state['host']}:{state['port']}"   # ws:// for Gremlin


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
        lines.append(f'in another terminal: [green]eval "$(labrunner env {lab.id})"[/] then work, and '
                     f'[green]labrunner check {lab.id}[/]')
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


def render_outcome(lab, outcome, *, in_loop: bool = False) -> None:
    """Results, then what happens next, in words that are true where they are read."""
    render_results(outcome.step, outcome.results)
    if not outcome.passed or in_loop:
        return
    if outcome.moved_to is not None:
        from labrunner import steps

        click.echo(f"Next: step {steps.number(lab, outcome.moved_to)}, '{outcome.moved_to.title}' — "
                   f"the run loop shows it (or `labrunner run {lab.id}`).")
    elif outcome.last:
        click.echo(f"That was the last step. `labrunner down {lab.id}` stops the services.")
