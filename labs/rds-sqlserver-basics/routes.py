"""Correct answers the reference solutions do not take, one per step: the schema made with an
owner, named constraints added afterwards, one transaction for the load, a sequence with its
options spelled out, a composite index, object-level grants, a CSV written with DictWriter.

SQL Server runs on Docker only and our CI cannot pull its image, so these have not run against
SQL Server: tests/test_docker_only_sql.py parses every statement here in T-SQL, and `labrunner test
rds-sqlserver-basics` on a machine with the image applies each from its step's start and requires
every check of the step to pass."""

import csv
from datetime import datetime
from decimal import Decimal

from labrunner.labs.shared import load

data = load("bookshop_data", __file__)


# ---- step 1 ----
def schema_with_an_owner(sqlserver):
    sqlserver.cursor().execute("CREATE SCHEMA shop AUTHORIZATION dbo")


# ---- step 2 ----
def tables_with_named_constraints_added_after(sqlserver):
    cur = sqlserver.cursor()
    cur.execute("""CREATE TABLE shop.customers (
        customer_id BIGINT NOT NULL,
        name VARCHAR(200) NOT NULL,
        email VARCHAR(320) NOT NULL,
        country VARCHAR(80) NOT NULL)""")
    cur.execute("ALTER TABLE shop.customers ADD CONSTRAINT customers_pk PRIMARY KEY (customer_id)")
    cur.execute("ALTER TABLE shop.customers ADD CONSTRAINT customers_email_uq UNIQUE (email)")
    cur.execute("""CREATE TABLE shop.orders (
        order_id BIGINT IDENTITY(1, 1) NOT NULL,
        customer_id BIGINT NOT NULL,
        ordered_at DATETIMEOFFSET(0) NOT NULL,
        total NUMERIC(12, 2) NOT NULL)""")
    cur.execute("ALTER TABLE shop.orders ADD CONSTRAINT orders_pk PRIMARY KEY (order_id)")
    cur.execute("ALTER TABLE shop.orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
                "REFERENCES shop.customers (customer_id)")
    cur.execute("ALTER TABLE shop.orders ADD CONSTRAINT orders_total_ck CHECK (total >= 0)")


# ---- step 3 ----
def load_in_one_transaction(sqlserver_connect, lab_dir):
    conn = sqlserver_connect(autocommit=False)
    cur = conn.cursor()
    cur.executemany("INSERT INTO shop.customers (customer_id, name, email, country) VALUES (%s, %s, %s, %s)",
                    [(int(r["customer_id"]), r["name"], r["email"], r["country"])
                     for r in data.rows(lab_dir, "customers.csv")])
    cur.execute("SET IDENTITY_INSERT shop.orders ON")
    cur.executemany("INSERT INTO shop.orders (order_id, customer_id, ordered_at, total) VALUES (%s, %s, %s, %s)",
                    [(int(r["order_id"]), int(r["customer_id"]),
                      datetime.strptime(r["ordered_at"], "%Y-%m-%dT%H:%M:%SZ"), Decimal(r["total"]))
                     for r in data.rows(lab_dir, "orders.csv")])
    cur.execute("SET IDENTITY_INSERT shop.orders OFF")
    conn.commit()
    conn.close()


# ---- step 4 ----
def sequence_with_its_options_spelled_out(sqlserver):
    sqlserver.cursor().execute("CREATE SEQUENCE shop.invoice_numbers AS BIGINT START WITH 1000 INCREMENT BY 1 "
                               "MINVALUE 1000 NO MAXVALUE NO CYCLE CACHE 50")


# ---- step 5 ----
def composite_index_led_by_customer(sqlserver):
    sqlserver.cursor().execute("CREATE NONCLUSTERED INDEX orders_customer_date_ix "
                               "ON shop.orders (customer_id, ordered_at) INCLUDE (total)")


# ---- step 6 ----
def object_level_grants(sqlserver):
    cur = sqlserver.cursor()
    cur.execute("CREATE LOGIN reporting WITH PASSWORD = 'ReadOnly_please_1', CHECK_POLICY = ON")
    cur.execute("CREATE USER reporting FOR LOGIN reporting WITH DEFAULT_SCHEMA = shop")
    cur.execute("GRANT SELECT ON OBJECT::shop.customers TO reporting")
    cur.execute("GRANT SELECT ON shop.orders TO reporting")


# ---- step 7 ----
def export_with_dictwriter(sqlserver, workspace):
    cur = sqlserver.cursor()
    cur.execute("SELECT order_id, customer_id, CAST(total AS VARCHAR(20)) FROM shop.orders ORDER BY order_id DESC")
    with open(workspace.path / "orders_export.csv", "w", newline="", encoding="utf-8") as fh:
        out = csv.DictWriter(fh, fieldnames=["order_id", "customer_id", "total"], quoting=csv.QUOTE_ALL)
        out.writeheader()
        for order_id, customer_id, total in cur.fetchall():
            out.writerow({"order_id": order_id, "customer_id": customer_id, "total": total})
