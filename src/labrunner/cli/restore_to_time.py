import click

from labrunner import sessions
from labrunner.cli import common
from labrunner.errors import UsageError

SUPPORTED = ("aurora-postgresql",)


def parse_time(text: str):
    """ISO-8601 with a zone ("2026-11-30T22:10:05Z", "...+01:00"), a time followed by "UTC" as
    logs write it ("2026-11-30 22:10:05.123 UTC"), or "YYYY-MM-DD HH:MM:SS" in this machine's
    local time; returned in UTC."""
    from datetime import datetime, timezone

    cleaned = text.strip()
    if cleaned.upper().endswith(("UTC", "GMT")):
        cleaned = cleaned[:-3].rstrip() + "+00:00"
    try:
        at = datetime.fromisoformat(cleaned.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--time {text[:60]!r} is not a time",
                         'give ISO-8601 with a zone ("2026-11-30T22:10:05Z") or local "2026-11-30 22:10:05"') from None
    if at.tzinfo is None:
        at = at.astimezone()            # local time, as the learner's clock shows it
    return at.astimezone(timezone.utc)


def _window_line(endpoint) -> str:
    from labrunner.services import aurora_postgresql

    window = aurora_postgresql.restore_window(endpoint)
    return (f"restorable window: earliest restorable time {window.get('earliest_restorable_time')}, "
            f"latest restorable time {window.get('latest_restorable_time')} (now)")


@click.command("restore-to-time")
@click.argument("service")
@click.argument("lab_id", required=False)
@click.option("--time", "when", default="", metavar="T",
              help='The moment to restore to: ISO-8601 with a zone ("2026-11-30T22:10:05Z") or '
                   '"YYYY-MM-DD HH:MM:SS" in local time. Between the end of the cluster\'s first '
                   "backup and now; without --time, the window is printed.")
def command(service, lab_id, when):
    """Restore a cluster to a point in time in a NEW server, leaving the cluster untouched (as
    `aws rds restore-db-cluster-to-point-in-time` makes a new cluster). A second restore replaces
    the first; `labrunner status` shows it and `labrunner down` removes it with the lab."""
    from labrunner import lifecycle, services

    if service not in SUPPORTED:
        raise UsageError(f"point-in-time restore is built for {', '.join(SUPPORTED)} only, not '{service[:60]}'",
                         "`labrunner restore-to-time aurora-postgresql --time T`")
    lab = common.lab_or_current(lab_id, with_code=False, command="restore-to-time", service=service)
    session = sessions.require(lab.id, "restore-to-time")
    if service not in session.services:
        raise UsageError(f"lab '{session.lab}' runs no service '{service}'",
                         f"its services: {', '.join(session.services)}")
    endpoint = session.endpoint(service)
    try:
        restored = endpoint.at("restored")
    except KeyError:
        raise UsageError(f"this {service} cluster was started before restore-to-time existed",
                         f"`labrunner down {session.lab}` then `labrunner run {session.lab}` starts it with "
                         "a port for the restored server") from None
    if not when:
        click.echo(_window_line(endpoint) + "; give --time T within it")
        return 0
    target = parse_time(when)
    said = lifecycle.act_on_node(session, service, "restore", target.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    exports = services.get(service).exports(endpoint)
    # Plain lines, never wrapped: the learner copies them into a shell.
    click.echo(f"{said}; the cluster is untouched.")
    click.echo(f"  endpoint: {restored.host}:{restored.port} (user {restored.username}, database "
               f"{restored.database}, the cluster's password at that time)")
    click.echo(f'  psql:     psql "{restored.url}"')
    click.echo(f"  env:      export RESTORED_URL='{exports.get('RESTORED_URL', restored.url)}'"
               "    (`labrunner env` prints it too)")
    return 0
