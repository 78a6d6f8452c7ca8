import click

from labrunner import sessions
from labrunner.cli import common


@click.command("promote")
@click.argument("service")
@click.argument("lab_id", required=False)
@click.option("--new-replica", is_flag=True,
              help="Instead: replace the promoted replica with a fresh read replica of the primary.")
def command(service, lab_id, new_replica):
    """Promote a read replica to a standalone instance with its own endpoint, ending replication
    for good (as `aws rds promote-read-replica` does). Nothing is promoted by itself: not by a
    failover, not by the primary's loss.

    --new-replica puts a read replica back afterwards (as deleting the promoted instance and
    `aws rds create-db-instance-read-replica` would)."""
    from labrunner import lifecycle

    lab = common.lab_or_current(lab_id, with_code=False, command="promote", service=service)
    session = sessions.require(lab.id, "promote")
    action = "new-replica" if new_replica else "promote"
    common.console().print(lifecycle.act_on_node(session, service, action, "replica"), markup=False)
    return 0
