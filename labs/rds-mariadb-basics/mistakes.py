"""Typical mistakes: steps 1-3 and 7 shared with the MySQL lab (labs/_shared/mysql_bookshop.py);
steps 4-6 are this lab's own."""

from labrunner.labs.shared import export

export("mysql_bookshop", "MISTAKES", globals(), __file__)

AS_OF = "FOR SYSTEM_TIME AS OF TIMESTAMP %s "


# ---- step 4 ----
def invoice_no_from_auto_increment(db):
    """The sequence is made, but the table numbers its rows itself."""
    with db.cursor() as cur:
        cur.execute("CREATE SEQUENCE shop.invoice_seq START WITH 1000 INCREMENT BY 1")
        cur.execute("CREATE TABLE shop.invoices (invoice_no BIGINT AUTO_INCREMENT PRIMARY KEY, "
                    "order_id INT NOT NULL, FOREIGN KEY (order_id) REFERENCES shop.orders (order_id))")


def sequence_from_one(db):
    with db.cursor() as cur:
        cur.execute("CREATE SEQUENCE shop.invoice_seq")
        cur.execute("CREATE TABLE shop.invoices (invoice_no BIGINT NOT NULL DEFAULT (NEXT VALUE FOR "
                    "shop.invoice_seq) PRIMARY KEY, order_id INT NOT NULL, "
                    "FOREIGN KEY (order_id) REFERENCES shop.orders (order_id))")


# ---- step 5 ----
def history_read_without_as_of(db, workspace):
    """Versioning on, but email_at reads the table as it is now."""
    with db.cursor() as cur:
        cur.execute("ALTER TABLE shop.customers ADD SYSTEM VERSIONING")
    workspace.install_variant("history.py", "history.py", {AS_OF: "", "(when, customer_id)": "(customer_id,)"})


def email_at_without_versioning(workspace):
    """The query is right, but the table was never versioned: there is no past to read."""
    workspace.install_solution("history.py")


# ---- step 6 ----
def audit_installed_not_logging(db):
    with db.cursor() as cur:
        cur.execute("INSTALL SONAME 'server_audit'")
        cur.execute("SET GLOBAL server_audit_events = 'CONNECT,QUERY_DDL'")


def audit_without_connect(db):
    with db.cursor() as cur:
        cur.execute("INSTALL SONAME 'server_audit'")
        cur.execute("SET GLOBAL server_audit_events = 'QUERY_DDL'")
        cur.execute("SET GLOBAL server_audit_logging = ON")


def audit_only_for_another_user(db):
    """Logging on, the right events, but only for one other user: the master user goes unrecorded."""
    with db.cursor() as cur:
        cur.execute("INSTALL SONAME 'server_audit'")
        cur.execute("SET GLOBAL server_audit_events = 'CONNECT,QUERY_DDL'")
        cur.execute("SET GLOBAL server_audit_incl_users = 'reporting'")
        cur.execute("SET GLOBAL server_audit_logging = ON")
