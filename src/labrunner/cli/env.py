import click

from labrunner import sessions
from labrunner.cli import common


def exports_for(session) -> dict[str, str]:
    from labrunner import services

    values = {}
    for name in session.services:
        values.update(services.get(name).exports(session.endpoint(name)))
    return values


@click.command("env")
@click.argument("lab_id", required=False)
@click.option("--shell", type=click.Choice(["sh", "bash", "zsh", "fish", "powershell", "cmd"]), default="sh",
              show_default=True)
def command(lab_id, shell):
    """Print shell exports for the running lab (LAB: when two labs run): endpoint, credentials.

    \b
    bash/zsh:    eval "$(labrunner env)"
    fish:        labrunner env --shell fish | source
    PowerShell:  labrunner env --shell powershell | Invoke-Expression
    """
    lab = common.lab_or_current(lab_id, with_code=False, command="env")
    session = sessions.require(lab.id, "env")
    formats = {"sh": "export {k}='{v}'", "bash": "export {k}='{v}'", "zsh": "export {k}='{v}'", "fish": "set -gx {k} '{v}'",
               "powershell": "$env:{k} = '{v}'", "cmd": "set {k}={v}"}
    for key, value in exports_for(session).items():
        click.echo(formats[shell].format(k=key, v=value))
    return 0
