"""Reference solutions: steps 1-3 and 7 shared with the MySQL lab (labs/_shared/mysql_bookshop.py);
steps 4-6 are MariaDB's own (sequences, system versioning, the audit plugin)."""

from labrunner.labs.shared import export

export("mysql_bookshop", "SOLUTIONS", globals(), __file__)

INVOICES = """CREATE TABLE shop.invoices (
    invoice_no BIGINT NOT NULL DEFAULT (NEXT VALUE FOR shop.invoice_seq) PRIMARY KEY,
    order_id INT NOT NULL,
    issued_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY (order_id) REFERENCES shop.orders (order_id)) ENGINE = InnoDB"""


def create_invoice_sequence(db):
    with db.cursor() as cur:
        cur.execute("CREATE SEQUENCE shop.invoice_seq START WITH 1000 INCREMENT BY 1")
        cur.execute(INVOICES)


def keep_customer_history(db, workspace):
    with db.cursor() as cur:
        cur.execute("ALTER TABLE shop.customers ADD SYSTEM VERSIONING")
    workspace.install_solution("history.py")


def turn_on_the_audit_log(db):
    with db.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'SERVER_AUDIT' "
                    "AND PLUGIN_STATUS = 'ACTIVE'")
        if not cur.fetchone()[0]:
            cur.execute("INSTALL SONAME 'server_audit'")
        cur.execute("SET GLOBAL server_audit_events = 'CONNECT,QUERY_DDL'")
        cur.execute("SET GLOBAL server_audit_logging = ON")
