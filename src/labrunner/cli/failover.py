import click

from labrunner import sessions
from labrunner.cli import common


@click.command("failover")
@click.argument("service")
@click.argument("lab_id", required=False)
@click.option("--target", default="", help="The reader to promote (default: the most caught-up one).")
def command(service, lab_id, target):
    """Fail a cluster over on purpose: a reader becomes the writer, the cluster endpoint follows it,
    and the old writer rejoins as a reader (as `aws rds failover-db-cluster` does)."""
    from labrunner import lifecycle

    lab = common.lab_or_current(lab_id, with_code=False, command="failover", service=service)
    session = sessions.require(lab.id, "failover")
    common.console().print(lifecycle.act_on_node(session, service, "failover", target), markup=False)
    return 0
