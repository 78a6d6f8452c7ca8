"""Reference solutions for rds-sqlserver-basics (what `labrunner solve` applies)."""

import csv
from datetime import datetime

from labrunner.labs.shared import load

data = load("bookshop_data", __file__)

CUSTOMERS = """CREATE TABLE shop.customers (
    customer_id INT PRIMARY KEY,
    name NVARCHAR(100) NOT NULL,
    email NVARCHAR(255) NOT NULL UNIQUE,
    country NVARCHAR(60) NOT NULL)"""
ORDERS = """CREATE TABLE shop.orders (
    order_id INT IDENTITY(1, 1) PRIMARY KEY,
    customer_id INT NOT NULL REFERENCES shop.customers (customer_id),
    ordered_at DATETIME2 NOT NULL,
    total DECIMAL(10, 2) NOT NULL CHECK (total >= 0))"""


def create_shop_schema(sqlserver):
    sqlserver.cursor().execute("CREATE SCHEMA shop")


def create_tables(sqlserver):
    sqlserver.cursor().execute(CUSTOMERS)
    sqlserver.cursor().execute(ORDERS)


def load_table(sqlserver, lab_dir, table):
    cur = sqlserver.cursor()
    if table == "customers":
        rows = [(int(r["customer_id"]), r["name"], r["email"], r["country"])
                for r in data.rows(lab_dir, "customers.csv")]
        cur.executemany("INSERT INTO shop.customers (customer_id, name, email, country) VALUES (%s, %s, %s, %s)", rows)
        return
    rows = [(int(r["order_id"]), int(r["customer_id"]), datetime.strptime(r["ordered_at"], "%Y-%m-%dT%H:%M:%SZ"),
             r["total"]) for r in data.rows(lab_dir, "orders.csv")]
    cur.execute("SET IDENTITY_INSERT shop.orders ON")
    cur.executemany("INSERT INTO shop.orders (order_id, customer_id, ordered_at, total) VALUES (%s, %s, %s, %s)", rows)
    cur.execute("SET IDENTITY_INSERT shop.orders OFF")


def load_csv(sqlserver, lab_dir):
    load_table(sqlserver, lab_dir, "customers")
    load_table(sqlserver, lab_dir, "orders")


def create_invoice_sequence(sqlserver):
    sqlserver.cursor().execute("CREATE SEQUENCE shop.invoice_numbers AS INT START WITH 1000 INCREMENT BY 1")


def create_orders_index(sqlserver):
    sqlserver.cursor().execute("CREATE INDEX orders_customer_ix ON shop.orders (customer_id)")


def create_reporting_user(sqlserver):
    cur = sqlserver.cursor()
    cur.execute("CREATE LOGIN reporting WITH PASSWORD = 'ReadOnly_please_1'")
    cur.execute("CREATE USER reporting FOR LOGIN reporting")
    cur.execute("GRANT SELECT ON SCHEMA::shop TO reporting")


def export_orders(sqlserver, workspace):
    cur = sqlserver.cursor()
    cur.execute("SELECT order_id, customer_id, total FROM shop.orders ORDER BY order_id")
    with open(workspace.path / "orders_export.csv", "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["order_id", "customer_id", "total"])
        out.writerows(cur.fetchall())
