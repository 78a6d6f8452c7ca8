"""Typical wrong answers for aurora-point-in-time, each proven caught by `labrunner test`."""

import random
import subprocess
import sys
from datetime import timedelta, timezone
from decimal import Decimal

from labrunner.services import postgres

SERVICE = "aurora-postgresql"


def _incident(workspace, answer):
    done = subprocess.run([sys.executable, "incident.py"], cwd=workspace.path, env=answer.env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def _plan(aurora, at):
    aurora.execute("CREATE TABLE ops.restore_plan (restore_to timestamptz NOT NULL)")
    aurora.execute("INSERT INTO ops.restore_plan VALUES (%s)", (at,))


# ---- step 1 ----
def plan_when_it_was_noticed(workspace, answer, aurora):
    """The time the alarm went off, from the bottom of incident.log."""
    _incident(workspace, answer)
    _plan(aurora, aurora.execute("SELECT noticed_at FROM ops.incident").fetchone()[0])


def plan_the_delete_second_rounded_up(workspace, answer, aurora):
    """22:04:52.618 read as "about 22:04:53": the DELETE's own second, rounded the wrong way."""
    _incident(workspace, answer)
    _plan(aurora, aurora.execute("SELECT date_trunc('second', happened_at) + interval '1 second' "
                                 "FROM ops.incident").fetchone()[0])


def plan_without_a_zone(workspace, answer, session):
    """The second before the DELETE, copied from incident.log (UTC) and typed without a zone in a
    psql session whose time zone is the learner's own (here New York's): five hours late."""
    _incident(workspace, answer)
    with postgres.connect(session.endpoint(SERVICE)) as conn:
        at = conn.execute("SELECT happened_at - interval '1 second' FROM ops.incident").fetchone()[0]
        typed = at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        conn.execute("SET TIME ZONE 'America/New_York'")
        conn.execute("CREATE TABLE ops.restore_plan (restore_to timestamptz NOT NULL)")
        conn.execute(f"INSERT INTO ops.restore_plan VALUES ('{typed}')")


def plan_the_earliest_restorable_time(workspace, answer, aurora, aurora_cluster):
    """'As early as possible, to be safe': before the payments existed."""
    from datetime import datetime

    _incident(workspace, answer)
    earliest = aurora_cluster.restore_window()["earliest_restorable_time"]
    _plan(aurora, datetime.fromisoformat(earliest.replace("Z", "+00:00")))


# ---- step 2 ----
def restore_when_it_was_noticed(aurora, aurora_cluster):
    aurora_cluster.restore(aurora.execute("SELECT noticed_at FROM ops.incident").fetchone()[0].isoformat())


def restore_the_delete_second_rounded_up(aurora, aurora_cluster):
    at = aurora.execute("SELECT date_trunc('second', happened_at) + interval '1 second' "
                        "FROM ops.incident").fetchone()[0]
    aurora_cluster.restore(at.isoformat())


# ---- step 3 ----
def staged_on_the_restored_server(session):
    """The staging table made where the rows are, on the restored server."""
    with postgres.connect(session.endpoint(SERVICE).at("restored")) as copy:
        copy.execute("CREATE SCHEMA recovery")
        copy.execute("CREATE TABLE recovery.payments_before AS TABLE bank.payments")


def staged_from_the_damaged_table(aurora):
    """Copied from the cluster's own bank.payments: what is left after the DELETE."""
    aurora.execute("CREATE SCHEMA recovery")
    aurora.execute("CREATE TABLE recovery.payments_before AS TABLE bank.payments")


# ---- step 4 ----
def copy_back_every_row(aurora):
    aurora.execute("INSERT INTO bank.payments SELECT * FROM recovery.payments_before")


def replace_the_table_with_the_restored_copy(aurora):
    """Restoring over the original: the table becomes the restored copy, newer payments lost."""
    aurora.execute("TRUNCATE bank.payments")
    aurora.execute("INSERT INTO bank.payments SELECT * FROM recovery.payments_before")


def copy_into_the_restored_server(session):
    """The INSERT run in the psql that was still open on RESTORED_URL."""
    with postgres.connect(session.endpoint(SERVICE).at("restored")) as copy:
        copy.execute("INSERT INTO bank.payments SELECT * FROM bank.payments WHERE paid_at < now() - interval '30 days'")


def hard_coded_rows(aurora):
    """INSERTs pasted from an earlier run of the incident (another load, other payments)."""
    rng = random.Random(7)
    from datetime import datetime

    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    rows = [(i, "Chen Wei", Decimal(rng.randint(150, 250000)) / 100, now - timedelta(days=rng.uniform(31, 90)))
            for i in rng.sample(range(10000, 99999), 140)]
    with aurora.cursor() as cur:
        cur.executemany("INSERT INTO bank.payments VALUES (%s, %s, %s, %s)", rows)


# ---- step 5 ----
def copies_every_row(workspace):
    workspace.install_variant("recover.py", "recover.py", {
        '''"INSERT INTO {t} SELECT b.* FROM before_delete b "
            "WHERE NOT EXISTS (SELECT 1 FROM {t} p WHERE p.payment_id = b.payment_id)"''':
        '''"INSERT INTO {t} SELECT b.* FROM before_delete b"'''})


def copies_into_the_restored_server(workspace):
    workspace.install_variant("recover.py", "recover.py", {
        "with psycopg.connect(restored_url) as source, psycopg.connect(cluster_url) as target:":
        "with psycopg.connect(cluster_url) as source, psycopg.connect(restored_url) as target:"})


def replaces_the_table(workspace):
    workspace.install_variant("recover.py", "recover.py", {
        "        # 2. Only the payments the cluster no longer holds go back.\n":
        "        target.execute(sql.SQL(\"TRUNCATE {}\").format(name))     # start again from the copy\n"})
