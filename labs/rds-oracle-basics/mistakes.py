"""Typical wrong answers for rds-oracle-basics, each proven caught by `labrunner test` (on Docker)."""


def _solutions(lab):
    return lab.modules["solutions"]


def note_not_committed(oracle_connect):
    conn = oracle_connect(autocommit=False)
    cur = conn.cursor()
    cur.execute("CREATE TABLE notes (id NUMBER PRIMARY KEY, body VARCHAR2(200) NOT NULL)")   # DDL commits itself
    cur.execute("INSERT INTO notes (id, body) VALUES (1, 'hello from labrunner')")
    conn.rollback()                 # what closing SQL*Plus after an error, or a crash, leaves
    conn.close()


def orders_without_foreign_key(oracle, lab):
    sol = _solutions(lab)
    oracle.cursor().execute(sol.CUSTOMERS)
    oracle.cursor().execute(sol.ORDERS.replace(" REFERENCES customers (customer_id)", ""))


def customers_only(oracle, lab_dir, lab):
    _solutions(lab).load_table(oracle, lab_dir, "customers")


def customer_id_not_from_the_sequence(oracle):
    cur = oracle.cursor()
    cur.execute("CREATE SEQUENCE customer_seq START WITH 1000 INCREMENT BY 1")
    cur.execute("INSERT INTO customers (customer_id, name, email, country) "
                "VALUES (5000, 'Sequence Test', 'sequence.test@example.com', 'Norway')")


def index_on_total(oracle):
    oracle.cursor().execute("CREATE INDEX orders_total_ix ON orders (total)")


def reporting_may_insert(oracle, lab):
    _solutions(lab).create_reporting_user(oracle)
    oracle.cursor().execute("GRANT INSERT ON customers TO reporting")


def export_header_only(workspace):
    (workspace.path / "orders_export.csv").write_text("ORDER_ID,CUSTOMER_ID,TOTAL\n", encoding="utf-8")
