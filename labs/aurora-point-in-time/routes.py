"""Correct answers the reference solutions do not take, one or more per step."""

import subprocess
import sys
from datetime import timedelta, timezone

import psycopg

from labrunner.services import postgres

SERVICE = "aurora-postgresql"


def _incident(workspace, answer):
    done = subprocess.run([sys.executable, "incident.py"], cwd=workspace.path, env=answer.env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def _client(session, workspace, program, *args, stdin=None):
    """psql / pg_dump as `labrunner tool aurora-postgresql PROGRAM` runs them (PG* = the cluster)."""
    from labrunner import clients

    command = clients.resolve(session, SERVICE, program, cwd=str(workspace.path))
    return subprocess.run(command.argv + list(args), env=command.env, cwd=workspace.path, check=True,
                          capture_output=True, input=stdin, timeout=120).stdout


def _restored_url(session):
    return session.endpoint(SERVICE).at("restored").url


# ---- step 1 ----
def plan_in_psql_by_truncating_to_the_second(session, workspace, answer):
    """The DELETE's own second, rounded down: still before the DELETE started."""
    _incident(workspace, answer)
    _client(session, workspace, "psql", "-v", "ON_ERROR_STOP=1",
            "-c", "CREATE TABLE ops.restore_plan AS SELECT date_trunc('second', happened_at) AS restore_to "
                  "FROM ops.incident")


# ---- step 2 ----
def restore_to_the_delete_instant_in_another_zone(aurora, aurora_cluster):
    """The DELETE's recorded instant itself, written with a +05:30 offset: recovery stops before
    the first commit later than the target, and the DELETE committed after it started."""
    happened_at = aurora.execute("SELECT happened_at FROM ops.incident").fetchone()[0]
    aurora_cluster.restore(happened_at.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat())


# ---- step 3 ----
def psql_copy_through_a_file(session, workspace):
    """\\copy out of the restored server into a file, \\copy from the file into the cluster."""
    _client(session, workspace, "psql", _restored_url(session), "-v", "ON_ERROR_STOP=1",
            "-c", "\\copy bank.payments TO 'payments-before.tsv'")
    _client(session, workspace, "psql", "-v", "ON_ERROR_STOP=1",
            "-c", "CREATE SCHEMA recovery",
            "-c", "CREATE TABLE recovery.payments_before (LIKE bank.payments)",
            "-c", "\\copy recovery.payments_before FROM 'payments-before.tsv'")


def pg_dump_one_table_into_psql(session, workspace):
    """On the restored server (a scratch copy) rename the table into schema recovery, then
    pg_dump -t that one table and replay it into the cluster with psql."""
    _client(session, workspace, "psql", _restored_url(session), "-v", "ON_ERROR_STOP=1",
            "-c", "CREATE SCHEMA recovery",
            "-c", "CREATE TABLE recovery.payments_before AS TABLE bank.payments")
    dump = _client(session, workspace, "pg_dump", "-d", _restored_url(session), "-t", "recovery.payments_before",
                   "--no-owner")
    _client(session, workspace, "psql", "-v", "ON_ERROR_STOP=1", "-c", "CREATE SCHEMA recovery")
    _client(session, workspace, "psql", "-v", "ON_ERROR_STOP=1", "-f", "-", stdin=dump)


def dblink_from_the_cluster(aurora, session):
    """The cluster reads the restored server itself (dblink, shipped with PostgreSQL)."""
    restored = session.endpoint(SERVICE).at("restored")
    with postgres.connect(restored) as copy:
        port = copy.execute("SELECT inet_server_port()").fetchone()[0]     # as the cluster's nodes reach it
    conninfo = (f"host=127.0.0.1 port={port} user={restored.username} password={restored.password} "
                f"dbname={restored.database}")
    aurora.execute("CREATE EXTENSION IF NOT EXISTS dblink")
    aurora.execute("CREATE SCHEMA recovery")
    aurora.execute("CREATE TABLE recovery.payments_before AS SELECT * FROM dblink(%s, "
                   "'SELECT payment_id, customer, amount, paid_at FROM bank.payments') AS t(payment_id integer, "
                   "customer text, amount numeric(10, 2), paid_at timestamptz)", (conninfo,))


# ---- step 4 ----
def except_all_in_psql(session, workspace):
    """Whole rows the restored copy has and the table has not: EXCEPT ALL."""
    _client(session, workspace, "psql", "-v", "ON_ERROR_STOP=1",
            "-c", "INSERT INTO bank.payments SELECT * FROM recovery.payments_before "
                  "EXCEPT ALL SELECT * FROM bank.payments")


def python_set_difference_from_the_restored_server(session):
    """psycopg: the ids the cluster holds, the restored rows, and the difference sent back."""
    endpoint = session.endpoint(SERVICE)
    with psycopg.connect(endpoint.url) as cluster, psycopg.connect(endpoint.at("restored").url) as restored:
        held = {r[0] for r in cluster.execute("SELECT payment_id FROM bank.payments")}
        lost = [r for r in restored.execute("SELECT payment_id, customer, amount, paid_at FROM bank.payments")
                if r[0] not in held]
        with cluster.cursor() as cur:
            cur.executemany("INSERT INTO bank.payments VALUES (%s, %s, %s, %s)", lost)
        cluster.commit()


# ---- step 5 ----
def except_all_in_the_script(workspace):
    workspace.install_variant("recover.py", "recover.py", {
        '''"INSERT INTO {t} SELECT b.* FROM before_delete b "
            "WHERE NOT EXISTS (SELECT 1 FROM {t} p WHERE p.payment_id = b.payment_id)"''':
        '''"INSERT INTO {t} SELECT * FROM before_delete EXCEPT ALL SELECT * FROM {t}"'''})
