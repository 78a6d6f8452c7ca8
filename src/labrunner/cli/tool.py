import subprocess

import click

from labrunner import sessions
from labrunner.cli import common


@click.command("tool", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("service")
@click.argument("program")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("--lab", "lab_id", help="The lab (default: the current one).")
def command(service, program, args, lab_id):
    """Run an engine's client program against the lab, e.g. `labrunner tool postgres pg_dump -Fc -f x.dump`.

    Connection settings come from the session; files are read and written in the
    current folder (on Docker: when it is your lab workspace, or below it).
    """
    from labrunner import clients

    lab = common.lab_or_current(lab_id, with_code=False, command="tool", service=service)
    session = sessions.require(lab.id)
    # interactive: in a container, `labrunner tool postgres psql` typed at a terminal gets one
    # (psql's prompt, line editing); piped or redirected, the bytes pass as they are.
    resolved = clients.resolve(session, service, program, interactive=True)
    return subprocess.call(resolved.argv + list(args), env=resolved.env)
