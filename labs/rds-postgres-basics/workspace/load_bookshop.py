"""Step 3: load the bookshop's CSV files with COPY, from Python.

Read this file before you run it: it is short, and each line is part of the
lesson.

    python load_bookshop.py

It streams customers.csv and orders.csv (beside this file) into the tables
shop.customers and shop.orders that you created in step 2. Run
eval "$(labrunner env)"  in this shell first: psycopg.connect() with no
arguments reads PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE, as psql
does.

Both files go in ONE transaction: if anything fails (a file already loaded,
a table missing), nothing at all is kept, and you can simply run it again
once the cause is fixed.
"""

import os
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent

# Customers first: every order names a customer, and the foreign key on
# shop.orders.customer_id refuses an order whose customer is not there yet.
FILES = [("shop.customers", "customers.csv"), ("shop.orders", "orders.csv")]


def load(conn):
    """COPY each file into its table; return {table: rows loaded}."""
    loaded = {}
    with conn.cursor() as cur:
        for table, filename in FILES:
            # COPY ... FROM STDIN: the file is read here, on the client, and
            # streamed to the server. That works on RDS too, where COPY from
            # a file on the server's own disk is not allowed.
            sql = f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER)"
            with open(HERE / filename, "rb") as fh, cur.copy(sql) as copy:
                while chunk := fh.read(64 * 1024):
                    copy.write(chunk)
            loaded[table] = cur.rowcount
    return loaded


if __name__ == "__main__":
    if not os.environ.get("PGHOST"):
        raise SystemExit(
            "PGHOST is not set, so there is no lab database to talk to.\n"
            'Run  eval "$(labrunner env)"  first (PowerShell:'
            "  labrunner env --shell powershell | Invoke-Expression)."
        )
    try:
        # `with` commits at the end of the block, or rolls back on an error.
        with psycopg.connect() as conn:
            counts = load(conn)
    except psycopg.errors.UniqueViolation as err:
        raise SystemExit(f"Nothing loaded: {err.diag.message_primary}.\n"
                         "The data seems to be loaded already (see step 3).")
    except psycopg.Error as err:
        raise SystemExit(f"Nothing loaded: {err}")
    for table, rows in counts.items():
        print(f"Loaded {rows} rows into {table}.")
