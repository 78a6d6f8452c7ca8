"""Step 3: load the bookshop's CSV files into MySQL, from Python.

Read this file before you run it: it is short, and each line is part of the
lesson.

    python load_bookshop.py

It reads customers.csv and orders.csv (beside this file) and inserts them
into the tables shop.customers and shop.orders that you created in step 2.
Run  eval "$(labrunner env)"  in this shell first: the script reads the
connection settings from MYSQL_HOST, MYSQL_TCP_PORT and MYSQL_PWD, as the
mysql client does (and the user from MYSQL_USER, else admin, RDS's
default master username).

MySQL 8.4 checks passwords with caching_sha2_password. Over an unencrypted
connection PyMySQL then needs the `cryptography` package to send the
password RSA-encrypted: it comes with labrunner; elsewhere
pip install "PyMySQL[rsa]".

Both files go in ONE transaction: if anything fails (a file already loaded,
a table missing), nothing at all is kept, and you can simply run it again
once the cause is fixed.
"""

import csv
import os
from datetime import datetime
from pathlib import Path

import pymysql

HERE = Path(__file__).resolve().parent

# Customers first: every order names a customer, and the foreign key on
# shop.orders.customer_id refuses an order whose customer is not there yet.
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


def order_row(row):
    """orders.csv writes times as 2024-01-01T03:00:59Z (ISO 8601, UTC).
    DATETIME keeps a date and a wall-clock time, no time zone: parse the text
    here and send a datetime, which PyMySQL writes as '2024-01-01 03:00:59'."""
    order_id, customer_id, ordered_at, total = row
    when = datetime.strptime(ordered_at, "%Y-%m-%dT%H:%M:%SZ")
    return order_id, customer_id, when, total


def load(conn):
    """Insert both files; return {table: rows inserted}. Does not commit."""
    with conn.cursor() as cur:
        # executemany() turns a plain INSERT ... VALUES into a few multi-row
        # INSERTs: far fewer round trips than one INSERT per line.
        customers = cur.executemany(CUSTOMERS, rows("customers.csv"))
        orders = cur.executemany(ORDERS, [order_row(r) for r in rows("orders.csv")])
    return {"shop.customers": customers, "shop.orders": orders}


if __name__ == "__main__":
    if not os.environ.get("MYSQL_TCP_PORT"):
        raise SystemExit(
            "MYSQL_TCP_PORT is not set, so there is no lab database to talk to.\n"
            'Run  eval "$(labrunner env)"  first (PowerShell:'
            "  labrunner env --shell powershell | Invoke-Expression)."
        )
    try:
        conn = pymysql.connect(
            host=os.environ.get("MYSQL_HOST", "127.0.0.1"),
            port=int(os.environ["MYSQL_TCP_PORT"]),
            user=os.environ.get("MYSQL_USER", "admin"),
            password=os.environ.get("MYSQL_PWD", ""),
            autocommit=False,   # PyMySQL's default, said out loud: we commit once
        )
    except pymysql.MySQLError as err:
        raise SystemExit(f"Could not connect: {err.args[-1]}\n"
                         "Is the lab running? `labrunner status` says.")
    except RuntimeError as err:     # caching_sha2_password without cryptography
        raise SystemExit(f"Could not log in: {err}\n"
                         'Install it with  pip install "PyMySQL[rsa]"')
    try:
        counts = load(conn)
        conn.commit()
    except pymysql.MySQLError as err:
        try:
            conn.rollback()  # keep nothing: neither file, nor half of one
        except pymysql.MySQLError:
            pass             # connection gone: the server rolled back for us
        code, message = err.args[0], err.args[-1]
        if code == 1062:    # ER_DUP_ENTRY: a primary key or email already there
            raise SystemExit(f"Nothing loaded: {message}.\n"
                             "The data seems to be loaded already (see step 3).")
        raise SystemExit(f"Nothing loaded: {message}")
    finally:
        conn.close()
    for table, count in counts.items():
        print(f"Loaded {count} rows into {table}.")
