"""Typical wrong answers for rds-sqlserver-basics, each proven caught by `labrunner test` (on Docker)."""


def _solutions(lab):
    return lab.modules["solutions"]


def schema_in_another_database(sqlserver):
    cur = sqlserver.cursor()
    cur.execute("CREATE DATABASE shopdb")
    cur.execute("USE shopdb; EXEC('CREATE SCHEMA shop')")


def orders_without_foreign_key(sqlserver, lab):
    sol = _solutions(lab)
    sqlserver.cursor().execute(sol.CUSTOMERS)
    sqlserver.cursor().execute(sol.ORDERS.replace(" REFERENCES shop.customers (customer_id)", ""))


def customers_only(sqlserver, lab_dir, lab):
    _solutions(lab).load_table(sqlserver, lab_dir, "customers")


def sequence_from_one(sqlserver):
    sqlserver.cursor().execute("CREATE SEQUENCE shop.invoice_numbers AS INT START WITH 1 INCREMENT BY 1")


def index_on_total(sqlserver):
    sqlserver.cursor().execute("CREATE INDEX orders_total_ix ON shop.orders (total)")


def reporting_as_writer(sqlserver, lab):
    _solutions(lab).create_reporting_user(sqlserver)
    sqlserver.cursor().execute("ALTER ROLE db_datawriter ADD MEMBER reporting")


def export_header_only(workspace):
    (workspace.path / "orders_export.csv").write_text("order_id,customer_id,total\n", encoding="utf-8")
