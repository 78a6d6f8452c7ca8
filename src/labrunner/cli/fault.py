import click

from labrunner import sessions
from labrunner.cli import common

ACTIONS = {
    "kill": "SIGKILL: the engine dies at once, no clean shutdown (a crashed node)",
    "stop": "a clean shutdown (SIGTERM, then SIGKILL after 10 s)",
    "pause": "freeze the engine: it holds its port but answers nothing",
    "resume": "unfreeze a paused engine",
    "restart": "bring the engine back (after kill or stop) with the same data folder and port",
}


@click.command("fault")
@click.argument("action", type=click.Choice(list(ACTIONS)))
@click.argument("service")
@click.argument("lab_id", required=False)
def command(action, service, lab_id):
    """Inject a fault into a running service: kill, stop, pause, resume or restart it.

    For one node of a cluster, name it after the service: `aurora-postgresql/writer`,
    `aurora-postgresql/aurora-2`.

    \b
    kill     SIGKILL: the engine dies at once, no clean shutdown (a crashed node)
    stop     a clean shutdown
    pause    freeze it: it holds its port but answers nothing
    resume   unfreeze it
    restart  bring it back with the same data folder and port
    """
    from labrunner import lifecycle

    service, _, node = service.partition("/")
    lab = common.lab_or_current(lab_id, with_code=False, command=f"fault {action}", service=service)
    session = sessions.require(lab.id, "fault")
    out = common.console()
    if node:                               # one node of a cluster: the cluster does it
        out.print(lifecycle.act_on_node(session, service, action, node), markup=False)
        return 0
    state = lifecycle.inject(session, service, action)
    if action in ("restart", "resume"):
        out.print(f"{service} is back at {state['host']}:{state['port']}.")
    else:
        undo = "resume" if action == "pause" else "restart"
        out.print(f"{service}: {ACTIONS[action]}. `labrunner fault {undo} {service} {lab.id}` brings it back.",
                  markup=False)
    return 0
