import subprocess

import click

from labrunner import sessions
from labrunner.cli import common
from labrunner.errors import LabrunnerError, UsageError


@click.command("shell")
@click.argument("service")
@click.argument("lab_id", required=False)
def command(service, lab_id):
    """Open the engine's own client on the lab (psql for postgres), else a Python prompt.

    The client comes from labrunner's own copy, this machine, or the service's container;
    with none of them, a Python prompt opens with a connection bound to `conn`.
    """
    from labrunner import clients, services

    lab = common.lab_or_current(lab_id, with_code=False, command="shell", service=service)
    session = sessions.require(lab.id, "shell")
    definition = services.get(service)
    if service not in session.services:
        raise UsageError(f"lab '{lab.id}' runs no service '{service}'",
                         f"its services: {', '.join(session.services)}; e.g. "
                         f"`labrunner shell {next(iter(session.services))}`")
    if definition.shell:
        try:
            resolved = clients.resolve(session, service, definition.shell, interactive=True, shell=True)
        except LabrunnerError as exc:
            click.echo(f"{exc.message}; opening a Python prompt instead.", err=True)
        else:
            click.echo(f"{definition.shell} from {resolved.where}; \\q or Ctrl-D leaves.", err=True)
            code = run_interactive(resolved.argv, resolved.env)
            if resolved.where == "the container" and code in (126, 127):
                # the image has no such program (labrunner's DocumentDB stand-in image has no mongosh)
                click.echo(f"this {service} image has no {definition.shell}; opening a Python prompt instead.",
                           err=True)
                return _python_prompt(session, service, definition)
            return code
    return _python_prompt(session, service, definition)


def run_interactive(argv, env) -> int:
    """Run a client that owns the terminal: Ctrl-C is the client's (psql clears its line),
    never labrunner's, so it does not end the shell."""
    import signal

    try:
        process = subprocess.Popen(argv, env=env)
    except OSError as exc:
        raise UsageError(f"could not start {argv[0]}: {exc.strerror}", "`labrunner doctor` checks the set-up") from None
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return process.wait()
    finally:
        signal.signal(signal.SIGINT, previous)


def _python_prompt(session, service, definition):
    import code

    endpoint = session.endpoint(service)
    if definition.prompt:                 # the service's own prompt (a SPARQL reader, `db` bound...)
        from labrunner.services.base import hook

        return hook(definition.prompt)(endpoint, f"{service} at {endpoint.host}:{endpoint.port}")
    fixture = next(iter(definition.fixtures))
    conn = definition.fixtures[fixture](endpoint)
    banner = (f"Python prompt on {service} at {endpoint.host}:{endpoint.port}: `conn` is a {fixture} "
              f"client ({type(conn).__module__}.{type(conn).__name__}). Ctrl-D leaves.")
    code.interact(banner=banner, local={"conn": conn}, exitmsg="")
    return 0
