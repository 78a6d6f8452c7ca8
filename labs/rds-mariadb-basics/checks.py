"""Checks: steps 1-3 and 7 shared with the MySQL lab (labs/_shared/mysql_bookshop.py); steps 4-6
are MariaDB's own: a sequence, a system-versioned table, the audit plugin."""

import random
import re
import time
import uuid

from labrunner.checks import expect, fail
from labrunner.labs.shared import export

export("mysql_bookshop", "CHECKS", globals(), __file__)

CUSTOMERS = 200           # customers.csv's ids are 1..200
NEVER_A_CUSTOMER = 987654


def _rows(db, sql, args=None):
    with db.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else []


def _one(db, sql, args=None):
    rows = _rows(db, sql, args)
    return rows[0][0] if rows else None


# ---- step 4: sequence -----------------------------------------------------------------------

def _invoice_sequence(db):
    """The sequence shop.invoices.invoice_no draws from, as (schema, name)."""
    tables = {name: kind for name, kind in _rows(db, "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
                                                     "WHERE TABLE_SCHEMA = 'shop'")}
    sequences = sorted(name for name, kind in tables.items() if kind == "SEQUENCE")
    expect(sequences, "there is no sequence in database shop yet: CREATE SEQUENCE shop.invoice_seq START WITH 1000")
    expect("invoices" in tables, f"there is no table shop.invoices yet (sequences in shop: {', '.join(sequences)})")
    row = _rows(db, "SELECT COLUMN_DEFAULT, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'shop' "
                    "AND TABLE_NAME = 'invoices' AND COLUMN_NAME = 'invoice_no'")
    expect(row, "shop.invoices has no column invoice_no")
    default, extra = row[0]
    expect("auto_increment" not in (extra or "").lower(),
           "shop.invoices.invoice_no takes its numbers from AUTO_INCREMENT, not from your sequence: declare it "
           "DEFAULT (NEXT VALUE FOR shop.invoice_seq)")
    found = re.search(r"nextval\(`?(\w+)`?\.`?(\w+)`?\)", default or "", re.I)
    expect(found, f"shop.invoices.invoice_no has no default from a sequence (its default: {default or 'none'}): "
                  "declare it DEFAULT (NEXT VALUE FOR shop.invoice_seq)")
    return found.group(1), found.group(2)


def invoice_numbers_start_at_1000(db):
    schema, name = _invoice_sequence(db)
    start, increment = _rows(db, f"SELECT start_value, increment FROM `{schema}`.`{name}`")[0]
    expect(start == 1000, f"{schema}.{name} starts at {start}; the shop's invoices start at 1000 "
                          f"(CREATE SEQUENCE ... START WITH 1000, or ALTER SEQUENCE {schema}.{name} START WITH 1000 "
                          "RESTART)")
    expect(increment == 1, f"{schema}.{name} counts in steps of {increment}; expected 1 (INCREMENT BY 1)")
    keys = _rows(db, "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = 'shop' "
                     "AND TABLE_NAME = 'invoices' AND REFERENCED_TABLE_SCHEMA = 'shop' "
                     "AND REFERENCED_TABLE_NAME = 'orders'")
    expect(keys, "shop.invoices.order_id has no foreign key to shop.orders: an invoice must be for an order "
                 "(FOREIGN KEY (order_id) REFERENCES shop.orders (order_id))")
    return f"shop.invoices.invoice_no draws from {schema}.{name}, which starts at 1000"


def invoices_take_their_numbers_from_the_sequence(db, db_connect):
    import pymysql

    schema, name = _invoice_sequence(db)
    conn = db_connect(autocommit=False)
    try:
        numbers = []
        for order_id in random.sample(range(1, 101), 2):
            try:
                _rows(conn, "INSERT INTO shop.invoices (order_id) VALUES (%s)", (order_id,))
            except pymysql.MySQLError as exc:
                fail(f"adding an invoice with only its order_id failed: {exc.args[-1]} — give every other column "
                     "of shop.invoices a DEFAULT")
            numbers.append((_one(conn, "SELECT invoice_no FROM shop.invoices WHERE order_id = %s "
                                       "ORDER BY invoice_no DESC LIMIT 1", (order_id,)),
                            _one(conn, f"SELECT PREVIOUS VALUE FOR `{schema}`.`{name}`")))
    finally:
        conn.rollback()
        conn.close()
    for invoice_no, drawn in numbers:
        expect(invoice_no == drawn, f"the new invoice got number {invoice_no}, but {schema}.{name} gave "
                                    f"{drawn}: invoice_no must take NEXT VALUE FOR the sequence")
        expect(invoice_no >= 1000, f"the new invoice got number {invoice_no}; invoices start at 1000")
    first, second = numbers[0][0], numbers[1][0]
    return (f"two invoices took {first} and {second} from {schema}.{name}; they were rolled back, and the "
            "sequence does not give those numbers out again")


# ---- step 5: system versioning --------------------------------------------------------------------

def customers_keep_their_history(db):
    kind = _one(db, "SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' "
                    "AND TABLE_NAME = 'customers'")
    expect(kind, "there is no table shop.customers")
    expect(kind == "SYSTEM VERSIONED", "shop.customers keeps no history yet: ALTER TABLE shop.customers "
                                       "ADD SYSTEM VERSIONING")


def email_at_reads_the_past(db, answer):
    customers_keep_their_history(db)
    customer_id = random.randint(1, CUSTOMERS)
    email = _one(db, "SELECT email FROM shop.customers WHERE customer_id = %s", (customer_id,))
    expect(email, f"shop.customers has no customer {customer_id}: load customers.csv again (step 3)")
    moved = f"moved-{uuid.uuid4().hex[:8]}@example.org"
    moments = []
    for value in (moved, email):            # change it and put it back: the table ends as it began
        moments.append(_one(db, "SELECT NOW(6)"))
        time.sleep(0.02)
        _rows(db, "UPDATE shop.customers SET email = %s WHERE customer_id = %s", (value, customer_id))
        db.commit()
        time.sleep(0.02)
    moments.append(_one(db, "SELECT NOW(6)"))
    asked = [(customer_id, str(moment)) for moment in moments] + [(NEVER_A_CUSTOMER, str(moments[-1]))]
    expected = [email, moved, email, None]
    results = answer.run("history.py", [("email_at", args) for args in asked], connect="mariadb", timeout=30)
    for (cid, when), want, result in zip(asked, expected, results):
        got = result.value_or_fail()
        if got == want:
            continue
        call = f"email_at(conn, {cid}, '{when}')"
        if want == moved and got == email:
            fail(f"{call} returned {got!r}, the e-mail of today, but at that moment it was {moved!r}: read the "
                 "table FOR SYSTEM_TIME AS OF the moment asked")
        if want is None:
            fail(f"{call} returned {got!r} for a customer that never existed; expected None")
        fail(f"{call} returned {got!r}; at that moment the e-mail was {want!r}")
    return f"email_at found customer {customer_id}'s e-mail before, during and after a change the check made"


# ---- step 6: the audit plugin ----------------------------------------------------------------------

def audit_plugin_is_logging(db):
    status = _one(db, "SELECT PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'SERVER_AUDIT'")
    expect(status == "ACTIVE", "the audit plugin is not installed: INSTALL SONAME 'server_audit'")
    logging = _one(db, "SELECT @@GLOBAL.server_audit_logging")
    expect(logging == 1, "the audit plugin is installed but not logging: SET GLOBAL server_audit_logging = ON "
                         "(a restart turns it off again, as every SET GLOBAL)")
    active = dict(_rows(db, "SHOW GLOBAL STATUS LIKE 'server_audit%'"))
    expect(active.get("Server_audit_active") == "ON",
           f"server_audit_logging is on but the plugin reports it is not writing "
           f"(last error: {active.get('Server_audit_last_error') or 'none'})")
    return f"the audit plugin is writing to {active.get('Server_audit_current_log')}"


def audit_records_connections_and_ddl(db):
    audit_plugin_is_logging(db)
    events = {e.strip().upper() for e in (_one(db, "SELECT @@GLOBAL.server_audit_events") or "").split(",")
              if e.strip()}
    if not events:                  # the plugin's default: no filter, so every event type is logged
        return "server_audit_events is empty, so the audit log records every event (CONNECT, QUERY, TABLE, ...)"
    shown = ",".join(sorted(events))
    expect("CONNECT" in events, f"server_audit_events is {shown}: add CONNECT, or log-ins are not recorded")
    expect(events & {"QUERY", "QUERY_DDL"}, f"server_audit_events is {shown}: add QUERY_DDL (or QUERY), or "
                                            "CREATE, ALTER and DROP are not recorded")
    master = _one(db, "SELECT CURRENT_USER()").split("@")[0]
    excluded = _users(db, "server_audit_excl_users")
    expect(master not in excluded, f"server_audit_excl_users leaves out {master}, the master user: what it does "
                                   "would not be recorded")
    included = _users(db, "server_audit_incl_users")
    expect(not included or master in included,
           f"server_audit_incl_users is {','.join(sorted(included))}: only those users are recorded, not {master}, "
           "the master user — SET GLOBAL server_audit_incl_users = '' (empty: everyone)")
    return f"the audit log records {','.join(sorted(events))}"


def _users(db, variable):
    return {u.strip() for u in (_one(db, f"SELECT @@GLOBAL.{variable}") or "").split(",") if u.strip()}
