"""Step 3: load the bookshop's CSV files into SQL Server, from Python.

Read this file before you run it: it is short, and each line is part of the
lesson.

    python load_bookshop.py

It reads customers.csv and orders.csv (beside this file) and inserts them into
the tables shop.customers and shop.orders that you created in step 2. Run
eval "$(labrunner env)"  in this shell first: the script reads the connection
settings from MSSQL_HOST, MSSQL_PORT, MSSQL_USER, MSSQL_PASSWORD and
MSSQL_DATABASE (labrunner's names; sqlcmd reads its own SQLCMD* ones).

python-tds (pytds) speaks SQL Server's TDS protocol in pure Python: no ODBC
driver to install.

Both files go in ONE transaction, committed once at the end: if anything fails
(a file already loaded, a table missing), nothing at all is kept, and you can
simply run it again once the cause is fixed.
"""

import csv
import os
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytds

HERE = Path(__file__).resolve().parent

# Customers first: every order names a customer, and the foreign key on
# shop.orders.customer_id refuses an order whose customer is not there yet.
# %s are parameters: the values travel apart from the SQL text, so a name
# like O'Brien needs no escaping and nothing can be injected.
CUSTOMERS = ("INSERT INTO shop.customers (customer_id, name, email, country)"
             " VALUES (%s, %s, %s, %s)")
ORDERS = ("INSERT INTO shop.orders (order_id, customer_id, ordered_at, total)"
          " VALUES (%s, %s, %s, %s)")


def rows(filename):
    """The lines of a CSV file as lists of text, without its header line."""
    with open(HERE / filename, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        return list(reader)


def customer_row(row):
    customer_id, name, email, country = row
    return int(customer_id), name, email, country


def order_row(row):
    """orders.csv writes times as 2024-01-01T03:00:59Z (ISO 8601, UTC).
    DATETIME2 keeps a date and a wall-clock time, no time zone: parse the text
    here and send a datetime. Money goes as Decimal, never float."""
    order_id, customer_id, ordered_at, total = row
    when = datetime.strptime(ordered_at, "%Y-%m-%dT%H:%M:%SZ")
    return int(order_id), int(customer_id), when, Decimal(total)


def load(conn):
    """Insert both files; return {table: rows inserted}. Does not commit."""
    with conn.cursor() as cur:
        # pytds's executemany() runs the INSERT once per row, each a call of
        # sp_executesql: 5,200 round trips, a few seconds here.
        cur.executemany(CUSTOMERS, [customer_row(r) for r in rows("customers.csv")])
        customers = cur.rowcount
        # order_id is an IDENTITY column: SQL Server numbers new rows itself
        # and refuses ids you give it (error 544), unless this session says
        # otherwise, for one table at a time. After the load, the identity
        # goes on from the highest id inserted.
        cur.execute("SET IDENTITY_INSERT shop.orders ON")
        cur.executemany(ORDERS, [order_row(r) for r in rows("orders.csv")])
        orders = cur.rowcount
        cur.execute("SET IDENTITY_INSERT shop.orders OFF")
    return {"shop.customers": customers, "shop.orders": orders}


if __name__ == "__main__":
    if not os.environ.get("MSSQL_PORT"):
        raise SystemExit(
            "MSSQL_PORT is not set, so there is no lab database to talk to.\n"
            'Run  eval "$(labrunner env)"  first (PowerShell:'
            "  labrunner env --shell powershell | Invoke-Expression)."
        )
    try:
        conn = pytds.connect(server=os.environ.get("MSSQL_HOST", "127.0.0.1"),
                             port=int(os.environ["MSSQL_PORT"]),
                             user=os.environ.get("MSSQL_USER", "admin"),
                             password=os.environ.get("MSSQL_PASSWORD", ""),
                             database=os.environ.get("MSSQL_DATABASE", "appdb"),
                             autocommit=False)   # pytds's default, said out loud: we commit once
    except (pytds.Error, OSError) as err:
        reason = str(err) or str(err.__cause__ or err.__context__ or type(err).__name__)
        raise SystemExit(f"Could not connect: {reason}\n"
                         "Is the lab running? `labrunner status` says.")
    try:
        counts = load(conn)
        conn.commit()
    except pytds.Error as err:
        try:
            conn.rollback()  # keep nothing: neither file, nor half of one
        except (pytds.Error, OSError):
            pass             # connection gone: the server rolled back for us
        number = getattr(err, "msg_no", 0)
        if number in (2627, 2601):   # duplicate key: primary key or UNIQUE email
            raise SystemExit(f"Nothing loaded: {err}\n"
                             "The data seems to be loaded already (see step 3).")
        if number == 208:            # invalid object name
            raise SystemExit(f"Nothing loaded: {err}\n"
                             "Create the schema and tables first (steps 1 and 2).")
        raise SystemExit(f"Nothing loaded: {err}")
    finally:
        try:
            conn.close()
        except (pytds.Error, OSError):
            pass
    for table, count in counts.items():
        print(f"Loaded {count} rows into {table}.")
