"""The incident of this lab. Run it once, after `eval "$(labrunner env)"`:

    python incident.py

It loads a few hundred payments into bank.payments (different ones on every run), then, a
moment later, the nightly archive job runs its DELETE with the wrong cut-off and removes most of
them. A few new payments arrive after it. The job's record of what it did is in ops.incident
and in incident.log beside this file. Nothing of this is your work: your work starts when
you read the record.
"""

import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import psycopg

WRITER_URL = os.environ.get("WRITER_URL", "")
CUSTOMERS = ["Amara Okafor", "Bjorn Lund", "Chen Wei", "Dara Walsh", "Emeka Obi", "Farah Haddad",
             "Goran Petrov", "Hana Sato", "Ines Duarte", "Jonas Berg", "Kavya Rao", "Lena Novak"]
FINGERPRINT = ("SELECT count(*), coalesce(md5(string_agg(format('%s|%s|%s|%s', payment_id, customer, amount, "
               "to_char(paid_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')), ',' "
               "ORDER BY payment_id, customer, amount, paid_at)), '') FROM {}")
TABLES = """
CREATE SCHEMA bank;
CREATE TABLE bank.payments (          -- made by an old import script: no primary key
    payment_id integer NOT NULL,
    customer   text NOT NULL,
    amount     numeric(10, 2) NOT NULL,
    paid_at    timestamptz NOT NULL);
CREATE SCHEMA ops;
CREATE TABLE ops.incident (
    happened_at   timestamptz NOT NULL,   -- when the DELETE statement started
    statement     text NOT NULL,
    rows_deleted  integer NOT NULL,
    noticed_at    timestamptz NOT NULL);  -- when the alarm went off
CREATE SCHEMA lab_truth;                  -- labrunner's record, for `labrunner check`: leave it alone
CREATE TABLE lab_truth.incident (
    loaded_at timestamptz, deleted_at timestamptz, noticed_at timestamptz,
    rows_before integer, md5_before text, rows_expected integer, md5_expected text,
    before_ids integer[], after_ids integer[]);
"""


def payment(rng, payment_id, now, days):
    return (payment_id, rng.choice(CUSTOMERS), Decimal(rng.randint(150, 250000)) / 100,
            now - timedelta(days=days, seconds=rng.randint(0, 86399), microseconds=rng.randint(0, 999999)))


def log(line):
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    with open("incident.log", "a") as fh:
        fh.write(f"{stamp} UTC  {line}\n")
    print(f"{stamp} UTC  {line}")


def main(seed=None):
    if not WRITER_URL:
        sys.exit('WRITER_URL is not set: run eval "$(labrunner env)" first')
    rng = random.Random(seed)
    with psycopg.connect(WRITER_URL, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('ops.incident')").fetchone()[0]:
            sys.exit("the incident already happened (ops.incident exists); "
                     "`labrunner reset` starts this step again with a new one")
        conn.execute(TABLES)
        now = datetime.now(timezone.utc)
        ids = rng.sample(range(10000, 99999), rng.randint(160, 240) + 8)
        loaded = [payment(rng, i, now, rng.uniform(0.2, 90)) for i in ids[:-8]]
        with conn.cursor().copy("COPY bank.payments FROM STDIN") as copy:
            for row in loaded:
                copy.write_row(row)
        loaded_at = conn.execute("SELECT clock_timestamp()").fetchone()[0]
        rows_before, md5_before = conn.execute(FINGERPRINT.format("bank.payments")).fetchone()
        log(f"loaded {rows_before} payments into bank.payments")
        time.sleep(1.3)
        statement = "DELETE FROM bank.payments WHERE paid_at < now() - interval '30 days'"
        deleted, deleted_at = conn.execute(
            f"WITH gone AS ({statement} RETURNING 1) SELECT count(*), statement_timestamp() FROM gone").fetchone()
        log(f"archive job: {statement} -> DELETE {deleted} (the archive copy had not been made)")
        time.sleep(1.3)
        after = [payment(rng, i, datetime.now(timezone.utc), 0) for i in ids[-rng.randint(3, 8):]]
        with conn.cursor().copy("COPY bank.payments FROM STDIN") as copy:
            for row in after:
                copy.write_row(row)
        log(f"{len(after)} new payments arrived")
        time.sleep(0.3)
        noticed_at = conn.execute("SELECT clock_timestamp()").fetchone()[0]
        conn.execute("INSERT INTO ops.incident VALUES (%s, %s, %s, %s)", (deleted_at, statement, deleted, noticed_at))
        # What bank.payments must hold once repaired: every payment loaded, and the new ones.
        conn.execute("CREATE TEMP TABLE expected (LIKE bank.payments)")
        with conn.cursor().copy("COPY expected FROM STDIN") as copy:
            for row in loaded + after:
                copy.write_row(row)
        rows_expected, md5_expected = conn.execute(FINGERPRINT.format("expected")).fetchone()
        conn.execute("INSERT INTO lab_truth.incident VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                     (loaded_at, deleted_at, noticed_at, rows_before, md5_before, rows_expected, md5_expected,
                      [r[0] for r in loaded], [r[0] for r in after]))
        log(f"alarm: bank.payments holds {rows_before - deleted + len(after)} payments, "
            f"{deleted} fewer than expected; see ops.incident")
    return {"happened_at": deleted_at.isoformat(), "rows_deleted": deleted}


if __name__ == "__main__":
    main()
