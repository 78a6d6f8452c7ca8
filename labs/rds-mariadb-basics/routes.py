"""Correct answers the reference solutions do not take: steps 1-3 and 7 shared with the MySQL lab
(labs/_shared/mysql_bookshop.py, ROUTES); steps 4-6 are this lab's own."""

from labrunner.labs.shared import export, load

export("mysql_bookshop", "ROUTES", globals(), __file__)
bookshop = load("mysql_bookshop", __file__)


# ---- step 4 ----
def sequence_with_oracle_spelling_from_the_client(session, workspace):
    """Another sequence name, its options spelled out, NEXTVAL() instead of NEXT VALUE FOR, from the
    mariadb client."""
    bookshop.run_tool(
        session, workspace, "mariadb", "-e",
        "CREATE SEQUENCE shop.invoice_numbers MINVALUE 1000 START WITH 1000 INCREMENT BY 1 NOCACHE NOCYCLE; "
        "CREATE TABLE shop.invoices (invoice_no BIGINT UNSIGNED NOT NULL DEFAULT NEXTVAL(shop.invoice_numbers), "
        "order_id INT NOT NULL, note VARCHAR(200) NULL, PRIMARY KEY (invoice_no), "
        "CONSTRAINT invoices_order_fk FOREIGN KEY (order_id) REFERENCES shop.orders (order_id))")


# ---- step 5 ----
def history_from_row_start_and_row_end(db, workspace):
    """FOR SYSTEM_TIME ALL and the row's own period, instead of AS OF."""
    with db.cursor() as cur:
        cur.execute("ALTER TABLE shop.customers ADD SYSTEM VERSIONING")
    workspace.install_variant("history.py", "history.py", {
        "AS OF TIMESTAMP %s ": "ALL ",
        '"WHERE customer_id = %s", (when, customer_id)':
            '"WHERE customer_id = %s AND ROW_START <= %s AND ROW_END > %s", (customer_id, when, when)'})


# ---- step 6 ----
def audit_every_query_as_rds_defaults(db):
    """RDS's default events (CONNECT,QUERY): every statement, a superset of QUERY_DDL."""
    with db.cursor() as cur:
        cur.execute("INSTALL SONAME 'server_audit'")
        cur.execute("SET GLOBAL server_audit_logging = 1")
        cur.execute("SET GLOBAL server_audit_events = 'connect,query'")


def audit_with_the_default_events(db):
    """Plugin installed and logging on, server_audit_events left empty: the plugin's default,
    which logs every event type."""
    with db.cursor() as cur:
        cur.execute("INSTALL PLUGIN server_audit SONAME 'server_audit'")
        cur.execute("SET GLOBAL server_audit_events = ''")
        cur.execute("SET GLOBAL server_audit_logging = ON")
