"""Checks for aurora-point-in-time.

The incident (workspace/incident.py, run by the learner in step 1) loads payments that differ
on every run, deletes most of them at a recorded time, and keeps labrunner's record of the truth
in lab_truth.incident: the payments' count and md5 before the DELETE, and what bank.payments
must hold once repaired. Checks compare the engine against that record (count and checksum), so
rows typed in from another run never pass. Step 5 runs the learner's copy_lost_rows on an
incident the check makes itself (new rows, a DELETE at a time it records, a restore of its own).

Fixtures: aurora (the cluster endpoint), aurora_cluster (status, restore), session, answer.
"""

import random
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from labrunner.checks import expect, fail
from labrunner.services import postgres

SERVICE = "aurora-postgresql"
FINGERPRINT = ("SELECT count(*), coalesce(md5(string_agg(format('%s|%s|%s|%s', payment_id, customer, amount, "
               "to_char(paid_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')), ',' "
               "ORDER BY payment_id, customer, amount, paid_at)), '') FROM {}")
ZONE_SLACK = timedelta(seconds=5)   # how near the window a time moved by whole quarter hours must land
SHAPE = ("(payment_id integer NOT NULL, customer text NOT NULL, amount numeric(10, 2) NOT NULL, "
         "paid_at timestamptz NOT NULL)")


# ---- what happened --------------------------------------------------------------------------

def _one(conn, query, args=None):
    return conn.execute(query, args).fetchone()


def _exists(conn, table):
    return _one(conn, "SELECT to_regclass(%s) IS NOT NULL", (table,))[0]


def _truth(aurora):
    expect(_exists(aurora, "lab_truth.incident") and _one(aurora, "SELECT count(*) FROM lab_truth.incident")[0] == 1,
           'no incident yet: run `python incident.py` in the lab folder (after `eval "$(labrunner env)"`)')
    row = _one(aurora, "SELECT loaded_at, deleted_at, noticed_at, rows_before, md5_before, rows_expected, "
                       "md5_expected, before_ids, after_ids FROM lab_truth.incident")
    keys = ("loaded_at", "deleted_at", "noticed_at", "rows_before", "md5_before", "rows_expected", "md5_expected",
            "before_ids", "after_ids")
    return dict(zip(keys, row))


def _when(at):
    return at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def _zone_slip(at, truth):
    """When `at` is off by a whole number of quarter hours and in the window once moved back (give
    or take ZONE_SLACK: a time typed to the second), the words for it: a time written without its
    zone, read in another zone than the learner meant."""
    for quarters in range(-14 * 4, 14 * 4 + 1):
        shift = timedelta(minutes=15 * quarters)
        if quarters and truth["loaded_at"] - ZONE_SLACK <= at - shift <= truth["deleted_at"] + ZONE_SLACK:
            hours = f"{abs(quarters) / 4:g} hour{'s' if abs(quarters) != 4 else ''}"
            return (f" It is {hours} {'late' if quarters > 0 else 'early'} to the second, as a time written without "
                    "its zone is when it is read in another zone than the one it was taken in (incident.log "
                    "writes UTC; psql reads a zone-less time in the session's zone, `SHOW timezone`; "
                    "`--time` in your machine's): write the zone, e.g. '2026-11-30 22:04:51+00'")
    return ""


def _in_window(what, at, truth):
    """A restore time must fall after the payments were loaded and no later than the DELETE."""
    if at > truth["deleted_at"]:
        fail(f"{what} {_when(at)} is after the DELETE, which ran at {_when(truth['deleted_at'])}: a copy as of "
             "then has already lost the payments. Pick a moment before the DELETE — the second before it is safe."
             + _zone_slip(at, truth))
    if at < truth["loaded_at"]:
        fail(f"{what} {_when(at)} is before the payments were loaded (at {_when(truth['loaded_at'])}): a copy as "
             "of then holds none of them. Pick a moment after the load and before the DELETE." + _zone_slip(at, truth))


def _restored(session, aurora_cluster):
    window = aurora_cluster.restore_window()
    restored = window.get("restored")
    expect(restored, "no restored server yet: `labrunner restore-to-time aurora-postgresql --time T` starts one")
    expect(restored.get("alive"), "the restored server is not running: restore again "
                                  "(`labrunner restore-to-time aurora-postgresql --time T`)")
    return restored, session.endpoint(SERVICE).at("restored")


# ---- step 1 ---------------------------------------------------------------------------------

def restore_time_planned(aurora):
    truth = _truth(aurora)
    expect(_exists(aurora, "ops.restore_plan"),
           "no table ops.restore_plan: create it with one column restore_to timestamptz, and one row")
    rows = aurora.execute("SELECT restore_to FROM ops.restore_plan").fetchall()
    expect(len(rows) == 1, f"ops.restore_plan holds {len(rows)} rows; it should hold one: the moment to restore to")
    expect(isinstance(rows[0][0], datetime), "ops.restore_plan.restore_to must be a timestamptz")
    _in_window("restore_to", rows[0][0], truth)


# ---- step 2 ---------------------------------------------------------------------------------

def restored_before_the_delete(aurora, aurora_cluster, session):
    truth = _truth(aurora)
    restored, endpoint = _restored(session, aurora_cluster)
    _in_window("the restored server is as of", datetime.fromisoformat(restored["time"].replace("Z", "+00:00")), truth)
    with postgres.connect(endpoint) as copy:
        expect(_exists(copy, "bank.payments"), "the restored server has no bank.payments: restore again to a "
                                               "moment after `python incident.py` loaded it")
        count, digest = _one(copy, FINGERPRINT.format("bank.payments"))
    expect((count, digest) == (truth["rows_before"], truth["md5_before"]),
           f"the restored bank.payments holds {count} payments ({digest[:8]}); before the DELETE it held "
           f"{truth['rows_before']} ({truth['md5_before'][:8]}): restore again to a moment between the load "
           "and the DELETE")


# ---- step 3 ---------------------------------------------------------------------------------

def staged_in_the_cluster(aurora, aurora_cluster, session):
    truth = _truth(aurora)
    if not _exists(aurora, "recovery.payments_before"):
        restored = (aurora_cluster.restore_window() or {}).get("restored")
        if restored and restored.get("alive"):
            with postgres.connect(session.endpoint(SERVICE).at("restored")) as copy:
                if _exists(copy, "recovery.payments_before"):
                    fail("recovery.payments_before is on the restored server, not the cluster: the repair runs "
                         "on the cluster (WRITER_URL), so copy the restored rows into a table there")
        fail("no table recovery.payments_before on the cluster: copy the restored server's bank.payments "
             "into it (CREATE SCHEMA recovery first)")
    count, digest = _one(aurora, FINGERPRINT.format("recovery.payments_before"))
    expect((count, digest) == (truth["rows_before"], truth["md5_before"]),
           f"recovery.payments_before holds {count} payments ({digest[:8]}); the restored bank.payments holds "
           f"{truth['rows_before']} ({truth['md5_before'][:8]}): copy every row of the restored copy, from "
           "RESTORED_URL — not from the cluster's own, damaged bank.payments")


# ---- steps 4 and 5: is the table whole again? ------------------------------------------------

def judge(conn, table, truth, restored_count=None):
    """The table must hold exactly the payments loaded and those added after the incident."""
    count, digest = _one(conn, FINGERPRINT.format(table))
    if (count, digest) == (truth["rows_expected"], truth["md5_expected"]):
        return
    ids = {r[0] for r in conn.execute(f"SELECT payment_id FROM {table}")}
    gone_after = [i for i in truth["after_ids"] if i not in ids]
    if gone_after:
        fail(f"the {len(gone_after)} payments made after the incident are gone from {table} (e.g. {gone_after[0]}): "
             "the table was replaced by the restored copy — a restore over the original loses every write "
             "since. Keep the table and copy back only the lost rows")
    strangers = sorted(ids - set(truth["before_ids"]) - set(truth["after_ids"]))
    if strangers:
        fail(f"{table} holds {len(strangers)} payments that were never in the table (ids like {strangers[0]}): "
             "rows typed in by hand, or from an earlier incident? Copy the rows from the restored copy")
    twice = _one(conn, f"SELECT count(*) FROM (SELECT payment_id FROM {table} GROUP BY payment_id "
                       "HAVING count(*) > 1) d")[0]
    if twice:
        fail(f"{twice} payments appear more than once in {table} ({count} rows; {truth['rows_expected']} "
             "expected): every restored row was copied back, not only the lost ones. Copy only the rows the "
             "table does not hold any more (WHERE NOT EXISTS ..., or EXCEPT)")
    missing = len(set(truth["before_ids"]) - ids)
    if missing:
        where = (f"; the restored server's copy now holds {restored_count} rows, more than before the DELETE — "
                 "the rows went into the restored server, not the cluster"
                 if restored_count is not None and restored_count > truth["rows_before"] else "")
        fail(f"{table} on the cluster still lacks {missing} of the deleted payments{where}: copy them from "
             "the restored copy into the cluster (WRITER_URL)")
    fail(f"{table} holds the right payment ids, but their content differs from before the DELETE "
         f"({digest[:8]}, expected {truth['md5_expected'][:8]}): copy the rows as the restored copy holds them")


def _restored_count(session, table):
    try:
        with postgres.connect(session.endpoint(SERVICE).at("restored")) as copy:
            return _one(copy, f"SELECT count(*) FROM {table}")[0]
    except Exception:
        return None


def lost_rows_copied_back(aurora, session):
    truth = _truth(aurora)
    judge(aurora, "bank.payments", truth, _restored_count(session, "bank.payments"))


# ---- step 5: a drill on an incident of the check's own ------------------------------------------

def _drill(aurora, rng):
    """drill.payments with new payments; a DELETE at a recorded time; new rows after it."""
    aurora.execute("DROP SCHEMA IF EXISTS drill CASCADE")
    aurora.execute("CREATE SCHEMA drill")
    aurora.execute(f"CREATE TABLE drill.payments {SHAPE}")
    now = datetime.now(timezone.utc)
    ids = rng.sample(range(100000, 999999), rng.randint(60, 120) + 5)
    rows = [(i, rng.choice(["Ada", "Bo", "Cy", "Di", "Ed"]), Decimal(rng.randint(100, 99999)) / 100,
             now - timedelta(days=rng.uniform(0, 60), microseconds=rng.randint(0, 999999))) for i in ids[:-5]]
    with aurora.cursor().copy("COPY drill.payments FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    loaded_at = _one(aurora, "SELECT clock_timestamp()")[0]
    before = _one(aurora, FINGERPRINT.format("drill.payments"))
    time.sleep(1.1)
    deleted_at = _one(aurora, "WITH gone AS (DELETE FROM drill.payments WHERE amount < 600 RETURNING 1) "
                              "SELECT statement_timestamp() FROM (SELECT count(*) FROM gone) g")[0]
    time.sleep(0.3)
    late = [(i, "Late", Decimal("1.00"), datetime.now(timezone.utc)) for i in ids[-5:]]
    with aurora.cursor().copy("COPY drill.payments FROM STDIN") as copy:
        for row in late:
            copy.write_row(row)
    aurora.execute("CREATE TEMP TABLE drill_expected (LIKE drill.payments)")
    with aurora.cursor().copy("COPY drill_expected FROM STDIN") as copy:
        for row in rows + late:
            copy.write_row(row)
    expected = _one(aurora, FINGERPRINT.format("drill_expected"))
    aurora.execute("DROP TABLE drill_expected")
    return {"loaded_at": loaded_at, "deleted_at": deleted_at, "rows_before": before[0], "md5_before": before[1],
            "rows_expected": expected[0], "md5_expected": expected[1],
            "before_ids": [r[0] for r in rows], "after_ids": [r[0] for r in late]}


def copy_lost_rows_repairs_a_new_incident(aurora, aurora_cluster, session, answer):
    truth = _drill(aurora, random.Random())
    aurora_cluster.restore((truth["deleted_at"] - timedelta(seconds=0.5)).isoformat())
    endpoint = session.endpoint(SERVICE)
    restored = endpoint.at("restored")
    with postgres.connect(restored) as copy:
        expect(_one(copy, FINGERPRINT.format("drill.payments")) == (truth["rows_before"], truth["md5_before"]),
               "the check's own restore did not bring drill.payments back as it was: `labrunner status` shows "
               "the cluster (this is the lab's fault, not yours)")
    result = answer.call("recover.py", "copy_lost_rows", restored.url, endpoint.url, "drill.payments", timeout=60)
    result.value_or_fail()
    judge(aurora, "drill.payments", truth, _restored_count(session, "drill.payments"))
    again = answer.call("recover.py", "copy_lost_rows", restored.url, endpoint.url, "drill.payments", timeout=60)
    again.value_or_fail()
    count = _one(aurora, "SELECT count(*) FROM drill.payments")[0]
    expect(count == truth["rows_expected"],
           f"a second run of copy_lost_rows left drill.payments with {count} rows, not {truth['rows_expected']}: "
           "running the repair again must change nothing (copy only rows the table does not hold)")
