"""The bookshop labs of the MySQL family (rds-mysql-basics, rds-mariadb-basics): checks,
reference solutions and typical mistakes, shared because the two engines speak the same SQL
for everything these labs teach. Each lab's checks.py / solutions.py / mistakes.py export the
names listed in CHECKS / SOLUTIONS / MISTAKES.

Fixtures: db (the master user, autocommit), db_connect(user=, password=, database=,
autocommit=), session, workspace, lab_dir.
"""

import secrets
import subprocess
from datetime import datetime

from labrunner.checks import expect, fail
from labrunner.labs.shared import load

data = load("bookshop_data", __file__)

REPORTING_PASSWORD = "read-only-please"
WEEK = ("2024-06-01", "2024-06-08")
CHECK_VIOLATIONS = {3819, 4025}           # MySQL "Check constraint ... is violated", MariaDB CONSTRAINT_FAILED
NOTHING_KEPT = (" — the table is empty: from Python, PyMySQL keeps nothing until conn.commit() (its connections "
                "are not in autocommit mode), so a load without a commit is undone when the connection closes")
DUMP_TOOLS = {"mysql": ("mysqldump", "mysql"), "mariadb": ("mariadb-dump", "mariadb")}

CHECKS = ["shop_database_exists", "customers_table_is_right", "orders_table_is_right", "tables_use_innodb",
          "orders_reference_customers", "orders_total_cannot_be_negative", "customers_loaded", "orders_loaded",
          "orders_by_date_uses_an_index", "reporting_can_log_in", "reporting_can_read_shop",
          "reporting_cannot_write", "slow_query_log_is_half_a_second", "shop_dump_in_workspace",
          "shop_restored_intact"]
SOLUTIONS = ["create_shop_database", "create_tables", "load_csv", "create_orders_date_index",
             "create_reporting_user", "set_slow_query_log", "snapshot_and_restore"]
MISTAKES = ["database_named_with_capitals", "tables_in_myisam", "orders_without_foreign_key", "customers_only",
            "index_on_total", "reporting_with_all_privileges", "slow_log_without_threshold", "dump_without_restore",
            "total_check_refuses_free_orders", "index_with_ordered_at_second", "reporting_reads_every_database",
            "slow_log_threshold_in_milliseconds", "dump_not_restored", "tables_without_auto_increment",
            "foreign_key_to_customers_in_another_database", "load_without_commit", "reporting_may_drop_tables",
            "reporting_only_from_localhost", "total_unsigned_instead_of_check"]
ROUTES = ["database_from_the_client", "tables_with_bigint_and_column_checks", "load_data_from_the_client",
          "composite_index_starting_with_ordered_at", "reporting_through_a_default_role", "slow_log_from_the_client",
          "dump_without_databases_restored_into_shop", "tables_with_capitalised_column_names",
          "reporting_table_by_table", "dump_gzipped_and_restored", "snapshot_then_dump_again"]


# ---- helpers ---------------------------------------------------------------

def _rows(db, sql, args=None):
    with db.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def _columns(db, table):
    rows = _rows(db, "SELECT COLUMN_NAME, DATA_TYPE, IS_NULLABLE, EXTRA FROM information_schema.COLUMNS "
                     "WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = %s", (table,))
    if not rows:
        found = [r[0] for r in _rows(db, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop'")]
        close = [name for name in found if name.lower() == table]
        why = (f" — table names are case-sensitive on Linux (and on RDS), so {close[0]} is not {table}: "
               f"RENAME TABLE shop.{close[0]} TO shop.{table}") if close else ""
        fail(f"there is no table shop.{table} yet (tables in shop: {', '.join(found) or 'none'}){why}")
    # Column names are not case-sensitive in MySQL or MariaDB: Customer_ID is customer_id.
    return {name.lower(): (kind.lower(), nullable == "YES", extra.lower()) for name, kind, nullable, extra in rows}


def _expect_column(columns, table, name, kinds, auto_increment=False):
    expect(name in columns, f"shop.{table} has no column '{name}' (it has: {', '.join(sorted(columns))})")
    kind, nullable, extra = columns[name]
    expect(kind in kinds, f"shop.{table}.{name} is {kind.upper()}; expected {' or '.join(k.upper() for k in kinds)}")
    expect(not nullable, f"shop.{table}.{name} allows NULL; expected NOT NULL")
    if auto_increment:
        expect("auto_increment" in extra, f"shop.{table}.{name} is not AUTO_INCREMENT")


def _keys(db, table, constraint_type):
    rows = _rows(db, "SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME FROM information_schema.TABLE_CONSTRAINTS c "
                     "JOIN information_schema.KEY_COLUMN_USAGE k ON k.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA "
                     "AND k.TABLE_NAME = c.TABLE_NAME AND k.CONSTRAINT_NAME = c.CONSTRAINT_NAME "
                     "WHERE c.TABLE_SCHEMA = 'shop' AND c.TABLE_NAME = %s AND c.CONSTRAINT_TYPE = %s",
                 (table, constraint_type))
    keys: dict = {}
    for name, column in rows:
        keys.setdefault(name, []).append(column.lower())
    return list(keys.values())


def _has_table(db, table):
    return bool(_rows(db, "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = %s",
                      (table,)))


# ---- step 1: connect -----------------------------------------------------------

def shop_database_exists(db):
    names = [r[0] for r in _rows(db, "SHOW DATABASES")]
    if "shop" in names:
        return
    close = [n for n in names if n.lower() == "shop"]
    if close:
        fail(f"found a database '{close[0]}' but not 'shop' — database names are case-sensitive on Linux "
             "(and on RDS): create it as shop")
    fail(f"there is no database 'shop' yet (databases: {', '.join(names)})")


# ---- step 2: schema --------------------------------------------------------------

def customers_table_is_right(db):
    columns = _columns(db, "customers")
    _expect_column(columns, "customers", "customer_id", {"int", "bigint"}, auto_increment=True)
    for name in ("name", "email", "country"):
        _expect_column(columns, "customers", name, {"varchar", "text"})
    expect(["customer_id"] in _keys(db, "customers", "PRIMARY KEY"), "shop.customers has no PRIMARY KEY (customer_id)")
    expect(["email"] in _keys(db, "customers", "UNIQUE"), "shop.customers.email is not UNIQUE: two customers "
                                                          "could share an email")


def orders_table_is_right(db):
    columns = _columns(db, "orders")
    _expect_column(columns, "orders", "order_id", {"int", "bigint"}, auto_increment=True)
    _expect_column(columns, "orders", "customer_id", {"int", "bigint"})
    _expect_column(columns, "orders", "ordered_at", {"datetime", "timestamp"})
    _expect_column(columns, "orders", "total", {"decimal"})
    expect(["order_id"] in _keys(db, "orders", "PRIMARY KEY"), "shop.orders has no PRIMARY KEY (order_id)")


def tables_use_innodb(db):
    engines = dict(_rows(db, "SELECT TABLE_NAME, ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' "
                             "AND TABLE_NAME IN ('customers', 'orders')"))
    for table in ("customers", "orders"):
        if table not in engines:
            _columns(db, table)            # names the table that is missing (and a near miss in case)
    for table, engine in sorted(engines.items()):
        expect(engine == "InnoDB", f"shop.{table} uses the {engine} storage engine; expected InnoDB — {engine} "
                                   "ignores foreign keys and transactions (ALTER TABLE ... ENGINE=InnoDB)")


def orders_reference_customers(db):
    _columns(db, "orders")
    rows = _rows(db, "SELECT COLUMN_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME "
                     "FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'orders' "
                     "AND REFERENCED_TABLE_NAME IS NOT NULL")
    targets = {table: (column.lower(), ref.lower()) for column, schema, table, ref in rows if schema == "shop"}
    elsewhere = [f"{schema}.{table}" for _, schema, table, _ in rows if schema != "shop"]
    expect("customers" in targets or not elsewhere,
           f"shop.orders' foreign key refers to {elsewhere[0] if elsewhere else ''}, a table outside database shop; "
           "expected REFERENCES shop.customers (customer_id) — ALTER TABLE shop.orders DROP FOREIGN KEY <name> "
           "(SHOW CREATE TABLE shop.orders names it), then ADD FOREIGN KEY (customer_id) REFERENCES "
           "shop.customers (customer_id)")
    expect("customers" in targets, "shop.orders has no foreign key to shop.customers: an order could name a "
                                   "customer who does not exist (FOREIGN KEY (customer_id) REFERENCES ...)")
    expect(targets["customers"] == ("customer_id", "customer_id"),
           f"shop.orders' foreign key to customers is {targets['customers'][0]} -> {targets['customers'][1]}; "
           "expected customer_id -> customer_id")


def orders_total_cannot_be_negative(db, db_connect):
    _columns(db, "customers")
    _columns(db, "orders")
    expect(_refuses_total(db_connect, "-1.00"), "shop.orders accepted a negative total (-1.00): add CHECK (total >= 0)")


# ---- step 3: load ------------------------------------------------------------------

def customers_loaded(db, lab_dir, after_a_load=True):
    _columns(db, "customers")
    stored = {row[0]: row[1:] for row in _rows(db, "SELECT customer_id, name, email, country FROM shop.customers")}
    data.expect_customers(stored, lab_dir, "shop.customers", "" if stored or not after_a_load else NOTHING_KEPT)


def _refuses_total(db_connect, total: str) -> bool:
    """Whether a CHECK on shop.orders refuses an order of this total: tried for real in a
    transaction that is rolled back, so any correct constraint passes, however it is written."""
    import pymysql

    conn = db_connect(database="shop", autocommit=False)
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO customers (customer_id, name, email, country) VALUES (2000000001, 'Check', %s, "
                        "'Nowhere')", (f"check-{secrets.token_hex(4)}@example.com",))
            cur.execute("INSERT INTO orders (order_id, customer_id, ordered_at, total) "
                        f"VALUES (2000000001, 2000000001, NOW(), {total})")
    except pymysql.err.MySQLError as exc:
        if exc.args and exc.args[0] in CHECK_VIOLATIONS:
            return True
        if exc.args and exc.args[0] == 1264:          # ER_WARN_DATA_OUT_OF_RANGE: an UNSIGNED total
            fail(f"shop.orders refused a total of {total} as out of range, not by a CHECK: total is UNSIGNED, which "
                 "refuses a negative only in strict SQL mode (elsewhere it stores 0.00 instead; MySQL also "
                 "deprecates UNSIGNED for DECIMAL) — make it DECIMAL(10,2) NOT NULL and add CHECK (total >= 0)")
        fail(f"a test order with a total of {total} could not be written, and not because of a CHECK: "
             f"{exc.args[-1]} — are shop.customers and shop.orders as the step describes?")
    finally:
        conn.rollback()
        conn.close()
    return False


def orders_loaded(db, db_connect, lab_dir, after_a_load=True):
    rows = data.rows(lab_dir, "orders.csv")
    _columns(db, "orders")
    count, total = _rows(db, "SELECT COUNT(*), COALESCE(SUM(total), 0) FROM shop.orders WHERE order_id <= %s",
                         (max(int(r["order_id"]) for r in rows),))[0]
    hint = ""
    free = data.free_orders(lab_dir)
    if count < len(rows) and free and _has_table(db, "customers") and _refuses_total(db_connect, "0.00"):
        hint = (f" — your CHECK on shop.orders refuses a total of 0.00, and {free} orders in orders.csv are free "
                "(0.00): LOAD DATA LOCAL skipped them with a warning each (SHOW WARNINGS). Make it CHECK (total >= 0) "
                "(step 2: ALTER TABLE shop.orders DROP CONSTRAINT <name>, then ADD CHECK (total >= 0); "
                "SHOW CREATE TABLE shop.orders names it), then load the orders again")
    data.expect_orders(count, total, lab_dir, "shop.orders",
                       hint or ("" if count or not after_a_load else NOTHING_KEPT))
    first = min(datetime.strptime(r["ordered_at"], "%Y-%m-%dT%H:%M:%SZ") for r in rows)
    stored_first = _rows(db, "SELECT MIN(ordered_at) FROM shop.orders WHERE order_id <= %s", (len(rows) * 2,))[0][0]
    expect(stored_first == first, f"the earliest ordered_at is {stored_first}; orders.csv says {first} — were the "
                                  "dates converted (STR_TO_DATE(@ordered_at, '%Y-%m-%dT%H:%i:%sZ'))?")


# ---- step 4: index ---------------------------------------------------------------------

def orders_by_date_uses_an_index(db):
    _columns(db, "orders")
    _rows(db, "ANALYZE TABLE shop.orders")
    with db.cursor() as cur:
        cur.execute(f"EXPLAIN SELECT * FROM shop.orders WHERE ordered_at >= '{WEEK[0]}' AND ordered_at < '{WEEK[1]}'")
        names = [d[0].lower() for d in cur.description]
        plan = [dict(zip(names, row)) for row in cur.fetchall()]
    used = [p for p in plan if p.get("key") and p.get("type") in ("range", "ref", "index_merge")]
    if used:
        return f"the plan uses index {used[0]['key']} ({used[0]['type']})"
    indexes: dict = {}
    for name, column in _rows(db, "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE "
                                  "TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'orders' AND INDEX_NAME <> 'PRIMARY' "
                                  "ORDER BY INDEX_NAME, SEQ_IN_INDEX"):
        indexes.setdefault(name, []).append((column or "(an expression)").lower())
    later = {name: cols for name, cols in indexes.items() if "ordered_at" in cols[1:]}
    if later:
        name, cols = next(iter(later.items()))
        wanted = ["ordered_at"] + [c for c in cols if c != "ordered_at"]
        fail(f"index {name} on shop.orders is on ({', '.join(cols)}): ordered_at is column "
             f"{cols.index('ordered_at') + 1} of it, and a range on ordered_at can only use an index with ordered_at "
             f"first — create one on ({', '.join(wanted)}), or on (ordered_at) alone; the plan is still type "
             f"{plan[0].get('type')} (a full scan)")
    indexed = sorted({cols[0] for cols in indexes.values()} - {"customer_id"})
    if indexed:
        fail(f"shop.orders has an index on {', '.join(indexed)}, but not on ordered_at: the plan is still "
             f"type {plan[0].get('type')} (a full scan)")
    fail(f"EXPLAIN of the week's orders is still type {plan[0].get('type')} (a full table scan): "
         "create an index on shop.orders (ordered_at)")


# ---- step 5: users ----------------------------------------------------------------------

def _as_reporting(db_connect, autocommit=True, db=None):
    import pymysql

    try:
        return db_connect(user="reporting", password=REPORTING_PASSWORD, database="", autocommit=autocommit)
    except pymysql.err.MySQLError as exc:
        fail(f"could not log in as reporting with password '{REPORTING_PASSWORD}': {exc.args[-1]}"
             f"{_reporting_accounts_hint(db) if db is not None else ''}")


def _reporting_accounts_hint(db):
    """Why a log-in failed, from the accounts the server has: none, another host, or the password."""
    hosts = [r[0] for r in _rows(db, "SELECT Host FROM mysql.user WHERE User = 'reporting'")]
    if not hosts:
        return " — there is no account named reporting: CREATE USER 'reporting'@'%' IDENTIFIED BY '...'"
    if "%" not in hosts:
        shown = ", ".join(f"'reporting'@'{h}'" for h in hosts)
        return (f" — the only accounts named reporting are {shown}, which this connection does not come from; "
                "clients of an RDS instance connect from other hosts: CREATE USER 'reporting'@'%' IDENTIFIED BY "
                f"'{REPORTING_PASSWORD}' (and DROP USER {shown})")
    return (f" — 'reporting'@'%' exists, so its password is not '{REPORTING_PASSWORD}': "
            f"ALTER USER 'reporting'@'%' IDENTIFIED BY '{REPORTING_PASSWORD}'")


def reporting_can_log_in(db, db_connect):
    _as_reporting(db_connect, db=db).close()


def reporting_can_read_shop(db, db_connect):
    import pymysql

    tables = [r[0] for r in _rows(db, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' "
                                      "ORDER BY TABLE_NAME")]
    expect(tables, "database shop has no tables to read")
    conn = _as_reporting(db_connect, db=db)
    try:
        for table in tables:
            try:
                _rows(conn, f"SELECT COUNT(*) FROM shop.`{table}`")
            except pymysql.err.MySQLError as exc:
                fail(f"reporting cannot read shop.{table}: {exc.args[-1]} (GRANT SELECT ON shop.* TO 'reporting'@'%')")
    finally:
        conn.close()


def _expect_reach_is_shop_only(db, db_connect):
    """Whatever route gave reporting its rights (grants, roles, a default role), ask the server
    what it reaches: a table the check makes in another database must stay out of its sight."""
    import pymysql

    other = f"check_private_{secrets.token_hex(3)}"
    _rows(db, f"CREATE DATABASE `{other}`")
    try:
        _rows(db, f"CREATE TABLE `{other}`.secrets (x INT)")
        conn = _as_reporting(db_connect)
        try:
            _rows(conn, f"SELECT COUNT(*) FROM `{other}`.secrets")
            reached = True
        except pymysql.err.MySQLError:
            reached = False
        finally:
            conn.close()
    finally:
        _rows(db, f"DROP DATABASE `{other}`")
    expect(not reached, "reporting can read a table in another database (the check made one to see): it reaches "
                        "beyond shop — grant SELECT ON shop.* only, not ON *.*, to reporting or to its roles")


def reporting_cannot_write(db, db_connect):
    import pymysql

    global_privileges = [r[0] for r in _rows(db, "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES "
                                                 "WHERE GRANTEE = \"'reporting'@'%'\" AND PRIVILEGE_TYPE <> 'USAGE'")]
    expect(not global_privileges, f"reporting has privileges on every database ({', '.join(global_privileges)}): "
                                  "least privilege means SELECT on shop.* only")
    attempts = [("INSERT into shop.customers", "INSERT INTO shop.customers (customer_id, name, email, country) "
                                                "VALUES (2000000002, 'x', 'x-check@example.com', 'x')"),
                ("UPDATE shop.orders", "UPDATE shop.orders SET total = total WHERE order_id = 1"),
                ("DELETE from shop.orders", "DELETE FROM shop.orders WHERE order_id = -1"),
                ("CREATE a table in shop", "CREATE TABLE shop.check_reporting_write (x INT)")]
    _expect_reach_is_shop_only(db, db_connect)
    # Changes to a table's shape, tried on a table the check makes for the purpose (never on the shop's).
    probe = f"check_probe_{secrets.token_hex(3)}"
    attempts += [("ALTER a table in shop", f"ALTER TABLE shop.{probe} ADD COLUMN y INT"),
                 ("CREATE an INDEX in shop", f"CREATE INDEX check_probe_idx ON shop.{probe} (x)"),
                 ("DROP a table in shop", f"DROP TABLE shop.{probe}")]
    _rows(db, f"CREATE TABLE shop.{probe} (x INT)")
    conn = _as_reporting(db_connect, autocommit=False, db=db)
    try:
        for what, sql in attempts:
            try:
                _rows(conn, sql)
            except pymysql.err.MySQLError:
                conn.rollback()
                continue
            conn.rollback()
            fail(f"reporting could {what}: a reporting user must only read — REVOKE ALL PRIVILEGES ON shop.* FROM "
                 "'reporting'@'%', then GRANT SELECT ON shop.* TO 'reporting'@'%'")
    finally:
        conn.close()
        _rows(db, "DROP TABLE IF EXISTS shop.check_reporting_write")
        _rows(db, f"DROP TABLE IF EXISTS shop.{probe}")


# ---- step 6: parameter -------------------------------------------------------------------

def slow_query_log_is_half_a_second(db):
    enabled, seconds = _rows(db, "SELECT @@GLOBAL.slow_query_log, @@GLOBAL.long_query_time")[0]
    expect(int(enabled) == 1, "slow_query_log is OFF; expected ON (SET GLOBAL slow_query_log = ON)")
    expect(float(seconds) == 0.5, f"long_query_time is {float(seconds):g} seconds; expected 0.5 "
                                  "(SET GLOBAL long_query_time = 0.5)")


# ---- step 7: snapshot ----------------------------------------------------------------------

def _dump_text(path):
    """A file's bytes, gunzipped if it is gzip (mysqldump ... | gzip > shop.sql.gz), at most 50 MB."""
    import gzip
    import zlib

    body = path.read_bytes()
    if body[:2] != b"\x1f\x8b":
        return body
    try:
        with gzip.open(path) as fh:
            return fh.read(50_000_000)
    except (OSError, EOFError, zlib.error):
        return b""


def _find_dumps(workspace):
    found = []
    for path in sorted(workspace.path.rglob("*")):
        if not path.is_file() or ".labrunner-backup" in path.parts or path.stat().st_size > 50_000_000:
            continue
        head = _dump_text(path)
        if (b"-- MySQL dump" in head[:400] or b"-- MariaDB dump" in head[:400]) and b"CREATE TABLE `orders`" in head:
            found.append(path)
    return found


def _find_dump(workspace):
    dumps = _find_dumps(workspace)
    return dumps[0] if dumps else None


def shop_dump_in_workspace(workspace, session):
    dump_tool = DUMP_TOOLS[next(iter(session.services))][0]
    found = _find_dump(workspace)
    expect(found, f"no dump of database shop in your workspace ({workspace.path}) yet: there, run "
                  f"labrunner tool {next(iter(session.services))} {dump_tool} --single-transaction "
                  "--databases shop > shop.sql")
    return f"found {found.name}"


def shop_restored_intact(db, db_connect, lab_dir, workspace):
    for table in ("customers", "orders"):
        expect(_has_table(db, table), f"shop.{table} is missing: restore it from your dump (see the step)")
    dumps = _find_dumps(workspace)
    expect(dumps, "there is no dump of database shop in your workspace to restore from yet")
    # The oldest dump: one made again after the restore (to look at it) is newer than the tables.
    dump = min(dumps, key=lambda path: path.stat().st_mtime)
    created = _rows(db, "SELECT UNIX_TIMESTAMP(CREATE_TIME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                        "'shop' AND TABLE_NAME = 'orders'")[0][0]
    expect(created is None or float(created) >= int(dump.stat().st_mtime) - 1,
           f"shop.orders is older than {dump.name}: drop database shop and restore it from the dump, as "
           "restoring a snapshot would")
    customers_loaded(db, lab_dir, after_a_load=False)
    orders_loaded(db, db_connect, lab_dir, after_a_load=False)
    orders_reference_customers(db)


# ---- reference solutions ---------------------------------------------------------------------

CUSTOMERS = """CREATE TABLE shop.customers (
    customer_id INT AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    email VARCHAR(255) NOT NULL UNIQUE,
    country VARCHAR(60) NOT NULL) ENGINE=InnoDB"""
ORDERS = """CREATE TABLE shop.orders (
    order_id INT AUTO_INCREMENT PRIMARY KEY,
    customer_id INT NOT NULL,
    ordered_at DATETIME NOT NULL,
    total DECIMAL(10, 2) NOT NULL,
    CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES shop.customers (customer_id),
    CONSTRAINT orders_total_check CHECK (total >= 0)) ENGINE=InnoDB"""


def create_shop_database(db):
    _rows(db, "CREATE DATABASE shop")


def create_tables(db):
    _rows(db, CUSTOMERS)
    _rows(db, ORDERS)


def _load(db, lab_dir, table):
    rows = data.rows(lab_dir, f"{table}.csv")
    if table == "orders":
        values = [(r["order_id"], r["customer_id"], datetime.strptime(r["ordered_at"], "%Y-%m-%dT%H:%M:%SZ"),
                   r["total"]) for r in rows]
        sql = "INSERT INTO shop.orders (order_id, customer_id, ordered_at, total) VALUES (%s, %s, %s, %s)"
    else:
        values = [(r["customer_id"], r["name"], r["email"], r["country"]) for r in rows]
        sql = "INSERT INTO shop.customers (customer_id, name, email, country) VALUES (%s, %s, %s, %s)"
    with db.cursor() as cur:
        cur.executemany(sql, values)


def load_csv(db, lab_dir):
    _load(db, lab_dir, "customers")          # first: orders refer to customers
    _load(db, lab_dir, "orders")


def create_orders_date_index(db):
    _rows(db, "CREATE INDEX orders_ordered_at_idx ON shop.orders (ordered_at)")
    _rows(db, "ANALYZE TABLE shop.orders")


def create_reporting_user(db):
    _rows(db, "CREATE USER 'reporting'@'%%' IDENTIFIED BY %s", (REPORTING_PASSWORD,))
    _rows(db, "GRANT SELECT ON shop.* TO 'reporting'@'%'")


def set_slow_query_log(db):
    _rows(db, "SET GLOBAL slow_query_log = ON")
    _rows(db, "SET GLOBAL long_query_time = 0.5")


def run_tool(session, workspace, program, *args, stdin=None, stdout=None):
    """What `labrunner tool SERVICE PROGRAM ARGS` does, from the workspace folder."""
    from labrunner import clients

    command = clients.resolve(session, next(iter(session.services)), program, cwd=str(workspace.path))
    subprocess.run(command.argv + list(args), env=command.env, cwd=workspace.path, check=True, stdin=stdin,
                   stdout=stdout, stderr=subprocess.PIPE, timeout=120)


def _dump(session, workspace):
    dump_tool = DUMP_TOOLS[next(iter(session.services))][0]
    with open(workspace.path / "shop.sql", "wb") as out:
        run_tool(session, workspace, dump_tool, "--single-transaction", "--databases", "shop", stdout=out)


def snapshot_and_restore(db, session, workspace):
    _dump(session, workspace)
    _rows(db, "DROP DATABASE shop")
    with open(workspace.path / "shop.sql", "rb") as dump:
        run_tool(session, workspace, DUMP_TOOLS[next(iter(session.services))][1], stdin=dump)


# ---- typical mistakes ----------------------------------------------------------------------------

def database_named_with_capitals(db):
    _rows(db, "CREATE DATABASE Shop")


def tables_in_myisam(db):
    _rows(db, CUSTOMERS.replace("ENGINE=InnoDB", "ENGINE=MyISAM"))
    _rows(db, ORDERS.replace("ENGINE=InnoDB", "ENGINE=MyISAM"))


def orders_without_foreign_key(db):
    _rows(db, CUSTOMERS)
    _rows(db, ORDERS.replace(
        "    CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES shop.customers (customer_id),\n", ""))


def customers_only(db, lab_dir):
    _load(db, lab_dir, "customers")


def index_on_total(db):
    _rows(db, "CREATE INDEX orders_total_idx ON shop.orders (total)")


def reporting_with_all_privileges(db):
    _rows(db, "CREATE USER 'reporting'@'%%' IDENTIFIED BY %s", (REPORTING_PASSWORD,))
    _rows(db, "GRANT ALL PRIVILEGES ON shop.* TO 'reporting'@'%'")


def slow_log_without_threshold(db):
    _rows(db, "SET GLOBAL slow_query_log = ON")


def dump_without_restore(db, session, workspace):
    _dump(session, workspace)
    _rows(db, "DROP DATABASE shop")


def _is_mariadb(db) -> bool:
    return "mariadb" in _rows(db, "SELECT VERSION()")[0][0].lower()


def _default_role(db, role, user="'reporting'@'%'"):
    """SET DEFAULT ROLE in each engine's words (MySQL: TO the user; MariaDB: FOR the user)."""
    _rows(db, f"SET DEFAULT ROLE {role} {'FOR' if _is_mariadb(db) else 'TO'} {user}")


def total_check_refuses_free_orders(db, lab_dir):
    """CHECK (total > 0) passes step 2's test of a negative total; at load, LOAD DATA LOCAL skips
    the 17 free orders with a warning each."""
    _rows(db, "ALTER TABLE shop.orders DROP CONSTRAINT orders_total_check")
    _rows(db, "ALTER TABLE shop.orders ADD CONSTRAINT orders_total_positive CHECK (total > 0)")
    _load(db, lab_dir, "customers")
    path = str((lab_dir / "workspace" / "orders.csv").resolve()).replace("\\", "/")
    _rows(db, f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE shop.orders FIELDS TERMINATED BY ',' IGNORE 1 LINES "
              "(order_id, customer_id, @ordered_at, total) "
              "SET ordered_at = STR_TO_DATE(@ordered_at, '%%Y-%%m-%%dT%%H:%%i:%%sZ')", ())


def index_with_ordered_at_second(db):
    """The right columns in the wrong order: a range on ordered_at cannot start from it."""
    _rows(db, "CREATE INDEX orders_customer_date_idx ON shop.orders (customer_id, ordered_at)")
    _rows(db, "ANALYZE TABLE shop.orders")


def reporting_reads_every_database(db):
    """SELECT on *.*, through a default role: nothing shows in the user's own grants."""
    _rows(db, "CREATE ROLE all_readers")
    _rows(db, "GRANT SELECT ON *.* TO all_readers")
    _rows(db, "CREATE USER 'reporting'@'%%' IDENTIFIED BY %s", (REPORTING_PASSWORD,))
    _rows(db, "GRANT all_readers TO 'reporting'@'%'")
    _default_role(db, "all_readers")


def slow_log_threshold_in_milliseconds(db):
    """long_query_time counts seconds: 500 is more than eight minutes."""
    _rows(db, "SET GLOBAL slow_query_log = ON")
    _rows(db, "SET GLOBAL long_query_time = 500")


def dump_not_restored(db, session, workspace):
    """A dump, but the database was never dropped and restored from it."""
    import time

    time.sleep(2.1)                 # a learner's dump comes a while after the tables were made
    _dump(session, workspace)


def tables_without_auto_increment(db):
    _rows(db, CUSTOMERS.replace("customer_id INT AUTO_INCREMENT PRIMARY KEY", "customer_id INT PRIMARY KEY"))
    _rows(db, ORDERS)


def foreign_key_to_customers_in_another_database(db):
    """A first draft of the tables in another database, and orders' foreign key names the
    draft's customers table instead of shop's."""
    _rows(db, "CREATE DATABASE shop_draft")
    _rows(db, "CREATE TABLE shop_draft.customers (customer_id INT PRIMARY KEY)")
    _rows(db, CUSTOMERS)
    _rows(db, ORDERS.replace("REFERENCES shop.customers", "REFERENCES shop_draft.customers"))


def total_unsigned_instead_of_check(db):
    """DECIMAL UNSIGNED instead of a CHECK: it refuses -1.00 in strict mode, as out of range."""
    _rows(db, CUSTOMERS)
    _rows(db, ORDERS.replace("total DECIMAL(10, 2) NOT NULL", "total DECIMAL(10, 2) UNSIGNED NOT NULL")
          .replace(",\n    CONSTRAINT orders_total_check CHECK (total >= 0))", ")"))


def load_without_commit(db_connect, lab_dir):
    """Rows inserted from Python on a connection that is not in autocommit mode, and no commit:
    they vanish when the connection closes."""
    conn = db_connect(database="shop", autocommit=False)
    try:
        rows = data.rows(lab_dir, "customers.csv")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO customers (customer_id, name, email, country) VALUES (%s, %s, %s, %s)",
                            [(r["customer_id"], r["name"], r["email"], r["country"]) for r in rows])
    finally:
        conn.close()                      # no commit


def reporting_may_drop_tables(db):
    """SELECT and DROP: it cannot change a row, but it can drop the shop's tables."""
    _rows(db, "CREATE USER 'reporting'@'%%' IDENTIFIED BY %s", (REPORTING_PASSWORD,))
    _rows(db, "GRANT SELECT, DROP ON shop.* TO 'reporting'@'%'")


def reporting_only_from_localhost(db):
    """An account for 'localhost' only: clients that connect over the network are refused."""
    _rows(db, "CREATE USER 'reporting'@'localhost' IDENTIFIED BY %s", (REPORTING_PASSWORD,))
    _rows(db, "GRANT SELECT ON shop.* TO 'reporting'@'localhost'")


# ---- routes: correct answers the reference solutions do not take ---------------------------

def _client(session):
    return DUMP_TOOLS[next(iter(session.services))][1]


def database_from_the_client(session, workspace):
    """The mysql (or mariadb) client's shape, with a character set named."""
    run_tool(session, workspace, _client(session), "-e",
             "CREATE DATABASE IF NOT EXISTS shop CHARACTER SET utf8mb4")


def tables_with_bigint_and_column_checks(db):
    """BIGINT keys, TIMESTAMP, a column-level CHECK, a named UNIQUE KEY, no ENGINE clause
    (InnoDB is the default), and the foreign key added afterwards with ALTER TABLE."""
    _rows(db, """CREATE TABLE shop.customers (
        customer_id BIGINT NOT NULL AUTO_INCREMENT,
        name VARCHAR(200) NOT NULL,
        email VARCHAR(320) NOT NULL,
        country VARCHAR(100) NOT NULL,
        PRIMARY KEY (customer_id),
        UNIQUE KEY customers_email_uq (email))""")
    _rows(db, """CREATE TABLE shop.orders (
        order_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        customer_id BIGINT NOT NULL,
        ordered_at TIMESTAMP NOT NULL,
        total DECIMAL(12, 2) NOT NULL CHECK (total >= 0))""")
    _rows(db, "ALTER TABLE shop.orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
              "REFERENCES shop.customers (customer_id)")


def load_data_from_the_client(session, workspace):
    """LOAD DATA LOCAL INFILE from the client started in the lab folder, as the step shows."""
    run_tool(session, workspace, _client(session), "-e",
             "LOAD DATA LOCAL INFILE 'customers.csv' INTO TABLE shop.customers "
             "FIELDS TERMINATED BY ',' IGNORE 1 LINES; "
             "LOAD DATA LOCAL INFILE 'orders.csv' INTO TABLE shop.orders "
             "FIELDS TERMINATED BY ',' IGNORE 1 LINES (order_id, customer_id, @ordered_at, total) "
             "SET ordered_at = STR_TO_DATE(@ordered_at, '%Y-%m-%dT%H:%i:%sZ')")


def composite_index_starting_with_ordered_at(db):
    _rows(db, "ALTER TABLE shop.orders ADD INDEX by_date_and_customer (ordered_at, customer_id)")
    _rows(db, "ANALYZE TABLE shop.orders")


def reporting_through_a_default_role(db):
    """The rights go to a role, the role to the user, and it is the user's default role."""
    _rows(db, "CREATE ROLE shop_reader")
    _rows(db, "GRANT SELECT ON shop.* TO shop_reader")
    _rows(db, "CREATE USER 'reporting'@'%%' IDENTIFIED BY %s", (REPORTING_PASSWORD,))
    _rows(db, "GRANT shop_reader TO 'reporting'@'%'")
    _default_role(db, "shop_reader")


def slow_log_from_the_client(session, workspace):
    run_tool(session, workspace, _client(session), "-e",
             "SET GLOBAL slow_query_log = 1; SET GLOBAL long_query_time = 0.500")


def dump_without_databases_restored_into_shop(db, session, workspace):
    """A dump of the tables only (no --databases, so no CREATE DATABASE in it), restored into a
    new, empty shop with -D shop."""
    with open(workspace.path / "shop-tables.sql", "wb") as out:
        run_tool(session, workspace, DUMP_TOOLS[next(iter(session.services))][0], "--single-transaction", "shop",
                 stdout=out)
    _rows(db, "DROP DATABASE shop")
    _rows(db, "CREATE DATABASE shop")
    with open(workspace.path / "shop-tables.sql", "rb") as dump:
        run_tool(session, workspace, _client(session), "-D", "shop", stdin=dump)


def tables_with_capitalised_column_names(db):
    """Column names in capitals and mixed case (MySQL's column names ignore case), the foreign key
    and CHECK named in yet another case, after USE shop."""
    _rows(db, "USE shop")
    _rows(db, """CREATE TABLE customers (
        Customer_ID INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        Name VARCHAR(100) NOT NULL,
        EMAIL VARCHAR(255) NOT NULL,
        Country VARCHAR(60) NOT NULL,
        CONSTRAINT customers_email_uq UNIQUE (Email))""")
    _rows(db, """CREATE TABLE orders (
        ORDER_ID INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        Customer_Id INT NOT NULL,
        Ordered_At DATETIME NOT NULL,
        Total DECIMAL(10, 2) NOT NULL,
        CONSTRAINT FOREIGN KEY (CUSTOMER_ID) REFERENCES customers (customer_ID),
        CONSTRAINT total_not_negative CHECK (TOTAL >= 0))""")


def reporting_table_by_table(db):
    """SELECT on each table of shop by name, and SHOW VIEW: reading only, granted table by table."""
    _rows(db, "CREATE USER reporting IDENTIFIED BY %s", (REPORTING_PASSWORD,))
    for (table,) in _rows(db, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop'"):
        _rows(db, f"GRANT SELECT ON shop.`{table}` TO reporting")
    _rows(db, "GRANT SHOW VIEW ON shop.* TO reporting")


def dump_gzipped_and_restored(db, session, workspace):
    """mysqldump ... | gzip > shop.sql.gz, then gunzip < shop.sql.gz | mysql: only the .gz stays."""
    import gzip

    dump_tool, client = DUMP_TOOLS[next(iter(session.services))]
    plain = workspace.path / "shop.sql.tmp"
    with open(plain, "wb") as out:
        run_tool(session, workspace, dump_tool, "--single-transaction", "--databases", "shop", stdout=out)
    (workspace.path / "shop.sql.gz").write_bytes(gzip.compress(plain.read_bytes()))
    plain.unlink()
    _rows(db, "DROP DATABASE shop")
    plain.write_bytes(gzip.decompress((workspace.path / "shop.sql.gz").read_bytes()))
    try:
        with open(plain, "rb") as dump:
            run_tool(session, workspace, client, stdin=dump)
    finally:
        plain.unlink()


def snapshot_then_dump_again(db, session, workspace):
    """Dump, drop, restore: then, a while later, the same dump once more into another file."""
    import time

    snapshot_and_restore(db, session, workspace)
    time.sleep(2.1)
    with open(workspace.path / "after-restore.sql", "wb") as out:
        run_tool(session, workspace, DUMP_TOOLS[next(iter(session.services))][0], "--single-transaction",
                 "--databases", "shop", stdout=out)
