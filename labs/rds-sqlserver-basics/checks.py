"""Checks for rds-sqlserver-basics (Docker only, x86-64: not run by our CI, which cannot pull
the image).

Fixtures: sqlserver (the master login `admin` on appdb, autocommit), sqlserver_connect(user=,
password=, database=, autocommit=), workspace, lab_dir.
"""

from decimal import Decimal

from labrunner.checks import expect, fail
from labrunner.labs.shared import load

data = load("bookshop_data", __file__)
REPORTING_PASSWORD = "ReadOnly_please_1"


def _rows(conn, sql, params=None):
    cur = conn.cursor()
    cur.execute(sql, params)
    return cur.fetchall() if cur.description else []


def _columns(db, table):
    rows = _rows(db, "SELECT COLUMN_NAME, DATA_TYPE, IS_NULLABLE FROM INFORMATION_SCHEMA.COLUMNS "
                     "WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = %s", (table,))
    if not rows:
        found = [r[0] for r in _rows(db, "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = 'shop'")]
        fail(f"there is no table shop.{table} yet (tables in shop: {', '.join(found) or 'none'})")
    return {name.lower(): (kind.lower(), nullable == "YES") for name, kind, nullable in rows}


def _expect_column(columns, table, name, kinds):
    expect(name in columns, f"shop.{table} has no column {name} (it has: {', '.join(sorted(columns))})")
    kind, nullable = columns[name]
    expect(kind in kinds, f"shop.{table}.{name} is {kind}; expected {' or '.join(sorted(kinds))}")
    expect(not nullable, f"shop.{table}.{name} allows NULL; expected NOT NULL")


def _key_columns(db, table, kind):
    rows = _rows(db, "SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS c "
                     "JOIN INFORMATION_SCHEMA.KEY_COLUMN_USAGE k ON k.CONSTRAINT_NAME = c.CONSTRAINT_NAME "
                     "AND k.TABLE_SCHEMA = c.TABLE_SCHEMA WHERE c.TABLE_SCHEMA = 'shop' AND c.TABLE_NAME = %s "
                     "AND c.CONSTRAINT_TYPE = %s ORDER BY k.ORDINAL_POSITION", (table, kind))
    found: dict = {}
    for name, column in rows:
        found.setdefault(name, []).append(column.lower())
    return list(found.values())


# ---- step 1: connect ---------------------------------------------------------------

def shop_schema_exists(sqlserver):
    names = [r[0] for r in _rows(sqlserver, "SELECT name FROM sys.schemas WHERE principal_id < 16384 "
                                            "AND name NOT IN ('guest', 'INFORMATION_SCHEMA', 'sys') "
                                            "AND name NOT LIKE 'db[_]%'")]
    expect("shop" in names, f"there is no schema shop in database {sqlserver_database(sqlserver)} yet "
                            f"(schemas: {', '.join(names)})")


def sqlserver_database(db):
    return _rows(db, "SELECT DB_NAME()")[0][0]


# ---- step 2: schema -------------------------------------------------------------------

def customers_table_is_right(sqlserver):
    columns = _columns(sqlserver, "customers")
    _expect_column(columns, "customers", "customer_id", {"int", "bigint"})
    for name in ("name", "email", "country"):
        _expect_column(columns, "customers", name, {"nvarchar", "varchar"})
    expect(["customer_id"] in _key_columns(sqlserver, "customers", "PRIMARY KEY"),
           "shop.customers has no PRIMARY KEY (customer_id)")
    expect(["email"] in _key_columns(sqlserver, "customers", "UNIQUE"), "shop.customers.email is not UNIQUE")


def orders_table_is_right(sqlserver):
    columns = _columns(sqlserver, "orders")
    _expect_column(columns, "orders", "order_id", {"int", "bigint"})
    identity = _rows(sqlserver, "SELECT COLUMNPROPERTY(OBJECT_ID('shop.orders'), 'order_id', 'IsIdentity')")[0][0]
    expect(identity == 1, "shop.orders.order_id is not an IDENTITY column (INT IDENTITY(1,1))")
    _expect_column(columns, "orders", "customer_id", {"int", "bigint"})
    _expect_column(columns, "orders", "ordered_at", {"datetime2", "datetime", "datetimeoffset"})
    _expect_column(columns, "orders", "total", {"decimal", "numeric"})
    expect(["order_id"] in _key_columns(sqlserver, "orders", "PRIMARY KEY"), "shop.orders has no PRIMARY KEY (order_id)")


def orders_reference_customers(sqlserver):
    _columns(sqlserver, "orders")
    rows = _rows(sqlserver, "SELECT COL_NAME(fc.parent_object_id, fc.parent_column_id), "
                            "OBJECT_NAME(f.referenced_object_id) FROM sys.foreign_keys f "
                            "JOIN sys.foreign_key_columns fc ON fc.constraint_object_id = f.object_id "
                            "WHERE f.parent_object_id = OBJECT_ID('shop.orders')")
    targets = {table: column for column, table in rows}
    expect("customers" in targets, "shop.orders has no foreign key to shop.customers (REFERENCES shop.customers)")
    expect(targets["customers"] == "customer_id", f"shop.orders' foreign key is on {targets['customers']}; "
                                                  "expected customer_id")


def orders_total_cannot_be_negative(sqlserver_connect):
    import pytds

    conn = sqlserver_connect(autocommit=False)
    try:
        cur = conn.cursor()
        cur.execute("INSERT INTO shop.customers (customer_id, name, email, country) "
                    "VALUES (-7, N'Check', N'check-negative@example.com', N'Nowhere')")
        cur.execute("SET IDENTITY_INSERT shop.orders ON")
        cur.execute("INSERT INTO shop.orders (order_id, customer_id, ordered_at, total) "
                    "VALUES (-7, -7, SYSDATETIME(), -1)")
    except pytds.Error as exc:
        if "CHECK constraint" in str(exc):
            return
        fail(f"the test insert failed for another reason: {str(exc).splitlines()[0]}")
    finally:
        conn.rollback()
        conn.close()
    fail("shop.orders accepted a negative total (-1): add CHECK (total >= 0)")


# ---- step 3: load ----------------------------------------------------------------------

def customers_loaded(sqlserver, lab_dir):
    _columns(sqlserver, "customers")
    stored = {int(r[0]): r[1:] for r in _rows(sqlserver, "SELECT customer_id, name, email, country FROM shop.customers")}
    data.expect_customers(stored, lab_dir, "shop.customers")


def orders_loaded(sqlserver, lab_dir):
    _columns(sqlserver, "orders")
    count, total = _rows(sqlserver, "SELECT COUNT(*), COALESCE(SUM(total), 0) FROM shop.orders "
                                    "WHERE order_id BETWEEN 1 AND %s", (data.totals(lab_dir)[0],))[0]
    data.expect_orders(count, total, lab_dir, "shop.orders")


# ---- step 4: sequence ------------------------------------------------------------------

def invoice_sequence_exists(sqlserver):
    rows = _rows(sqlserver, "SELECT CAST(start_value AS BIGINT), CAST(increment AS BIGINT) FROM sys.sequences "
                            "WHERE name = 'invoice_numbers' AND SCHEMA_NAME(schema_id) = 'shop'")
    expect(rows, "there is no sequence shop.invoice_numbers yet (CREATE SEQUENCE shop.invoice_numbers ...)")
    expect(rows[0][0] == 1000, f"shop.invoice_numbers starts at {rows[0][0]}; expected 1000")
    expect(rows[0][1] == 1, f"shop.invoice_numbers counts in steps of {rows[0][1]}; expected 1")


# ---- step 5: plan -----------------------------------------------------------------------

def orders_by_customer_uses_an_index(sqlserver):
    _columns(sqlserver, "orders")
    _rows(sqlserver, "UPDATE STATISTICS shop.orders")
    cur = sqlserver.cursor()
    cur.execute("SET SHOWPLAN_XML ON")
    try:
        cur.execute("SELECT * FROM shop.orders WHERE customer_id = 42")
        plan = str(cur.fetchall()[0][0])
    finally:
        cur.execute("SET SHOWPLAN_XML OFF")
    if 'PhysicalOp="Index Seek"' in plan:
        return "the plan uses an Index Seek"
    indexed = [r[0] for r in _rows(sqlserver, "SELECT COL_NAME(ic.object_id, ic.column_id) FROM sys.index_columns ic "
                                              "JOIN sys.indexes i ON i.object_id = ic.object_id AND i.index_id = ic.index_id "
                                              "WHERE ic.object_id = OBJECT_ID('shop.orders') AND ic.key_ordinal = 1 "
                                              "AND i.is_primary_key = 0")]
    if "customer_id" in indexed:
        return ("there is an index on customer_id; for a table this small the optimizer still chose a scan — "
                "on a large table it would seek")
    if indexed:
        fail(f"shop.orders has an index on {', '.join(indexed)}, but not on customer_id: the plan still scans")
    fail("the plan for orders of customer 42 still scans the whole clustered index: SQL Server does not index "
         "foreign keys for you — CREATE INDEX ... ON shop.orders (customer_id)")


# ---- step 6: limited user ----------------------------------------------------------------

def _as_reporting(sqlserver_connect, autocommit=True):
    import pytds

    try:
        return sqlserver_connect(user="reporting", password=REPORTING_PASSWORD, autocommit=autocommit)
    except pytds.Error as exc:
        fail(f"could not log in as reporting with password {REPORTING_PASSWORD}: {str(exc).splitlines()[0]}")


def reporting_can_log_in(sqlserver_connect):
    _as_reporting(sqlserver_connect).close()


def reporting_can_read_shop(sqlserver_connect):
    import pytds

    conn = _as_reporting(sqlserver_connect)
    try:
        for table in ("customers", "orders"):
            try:
                _rows(conn, f"SELECT COUNT(*) FROM shop.{table}")
            except pytds.Error as exc:
                fail(f"reporting cannot read shop.{table}: {str(exc).splitlines()[0]} "
                     "(CREATE USER reporting FOR LOGIN reporting; GRANT SELECT ON SCHEMA::shop TO reporting)")
    finally:
        conn.close()


def reporting_cannot_write(sqlserver, sqlserver_connect):
    import pytds

    roles = [r[0] for r in _rows(sqlserver, "SELECT r.name FROM sys.database_role_members m "
                                            "JOIN sys.database_principals r ON r.principal_id = m.role_principal_id "
                                            "JOIN sys.database_principals u ON u.principal_id = m.member_principal_id "
                                            "WHERE u.name = 'reporting' AND r.name <> 'db_datareader'")]
    expect(not roles, f"reporting is a member of {', '.join(roles)}: least privilege means reading only")
    conn = _as_reporting(sqlserver_connect, autocommit=False)
    try:
        for what, sql in (("INSERT into shop.customers", "INSERT INTO shop.customers (customer_id, name, email, "
                                                         "country) VALUES (-9, N'x', N'x-check@example.com', N'x')"),
                          ("UPDATE shop.orders", "UPDATE shop.orders SET total = total WHERE order_id = 1"),
                          ("DELETE from shop.orders", "DELETE FROM shop.orders WHERE order_id = -1")):
            try:
                conn.cursor().execute(sql)
            except pytds.Error:
                continue
            fail(f"reporting could {what}: grant it SELECT only")
    finally:
        conn.rollback()
        conn.close()


# ---- step 7: export -----------------------------------------------------------------------

def orders_exported(sqlserver, workspace):
    path = workspace.path / "orders_export.csv"
    expect(path.is_file(), f"there is no orders_export.csv in your workspace ({workspace.path}) yet")
    rows = data.read_export(path)
    count, total = _rows(sqlserver, "SELECT COUNT(*), COALESCE(SUM(total), 0) FROM shop.orders")[0]
    expect(len(rows) == count, f"orders_export.csv has {len(rows)} orders; shop.orders has {count}")
    expect(sum(r[2] for r in rows) == Decimal(total),
           f"the totals in orders_export.csv add up to {sum(r[2] for r in rows)}; shop.orders adds up to {total}")
