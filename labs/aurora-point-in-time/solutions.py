"""Reference solutions for aurora-point-in-time (what `labrunner solve` applies)."""

import subprocess
import sys
from datetime import timedelta

from labrunner.services import postgres

SERVICE = "aurora-postgresql"


def run_incident(workspace, answer):
    """What the learner does first: python incident.py, with `labrunner env`'s variables."""
    done = subprocess.run([sys.executable, "incident.py"], cwd=workspace.path, env=answer.env(),
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"incident.py failed: {done.stderr.strip()[-400:]}")


def plan_the_restore(workspace, answer, aurora):
    run_incident(workspace, answer)
    happened_at = aurora.execute("SELECT happened_at FROM ops.incident").fetchone()[0]
    aurora.execute("CREATE TABLE ops.restore_plan (restore_to timestamptz NOT NULL)")
    aurora.execute("INSERT INTO ops.restore_plan VALUES (%s)", (happened_at - timedelta(seconds=1),))


def restore_to_the_plan(aurora, aurora_cluster):
    restore_to = aurora.execute("SELECT restore_to FROM ops.restore_plan").fetchone()[0]
    aurora_cluster.restore(restore_to.isoformat())


def stage_the_restored_rows(aurora, session):
    """COPY out of the restored server, COPY into a new table on the cluster."""
    aurora.execute("CREATE SCHEMA recovery")
    aurora.execute("CREATE TABLE recovery.payments_before (LIKE bank.payments)")
    with postgres.connect(session.endpoint(SERVICE).at("restored")) as source:
        with source.cursor().copy("COPY bank.payments TO STDOUT") as out, \
                aurora.cursor().copy("COPY recovery.payments_before FROM STDIN") as into:
            for block in out:
                into.write(block)


def copy_back_the_lost_rows(aurora):
    aurora.execute("INSERT INTO bank.payments SELECT b.* FROM recovery.payments_before b "
                   "WHERE NOT EXISTS (SELECT 1 FROM bank.payments p WHERE p.payment_id = b.payment_id)")


def write_copy_lost_rows(workspace):
    workspace.install_solution("recover.py")
