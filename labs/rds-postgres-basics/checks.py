"""Checks for rds-postgres-basics. Each reads the live engine (or runs the learner's
function against it); none reads the learner's SQL.

Fixtures: postgres (the master user, autocommit), postgres_connect(user=, password=,
autocommit=), answer, workspace, lab_dir.
"""

import secrets

from labrunner.checks import expect, fail
from labrunner.labs.shared import load

data = load("bookshop_data", __file__)

REPORTING_PASSWORD = "read-only-please"
INTEGER = {"integer", "bigint"}
TEXT = {"text", "character varying"}


# ---- helpers -------------------------------------------------------------

def _columns(postgres, table):
    rows = postgres.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'shop' AND table_name = %s", (table,)).fetchall()
    if not rows:
        found = [r[0] for r in postgres.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'shop'")]
        close = [name for name in found if name.lower() == table]
        why = (f" — \"{close[0]}\" was created with quotes, which keep capitals, so it is not {table}: "
               f"ALTER TABLE shop.\"{close[0]}\" RENAME TO {table}") if close else ""
        fail(f"there is no table shop.{table} yet (tables in shop: {', '.join(found) or 'none'}){why}")
    return {name: (kind, nullable == "YES") for name, kind, nullable in rows}


def _expect_column(columns, table, name, kinds, not_null=True):
    close = [c for c in columns if c.lower() == name and c != name]
    why = (f" — \"{close[0]}\" was created with quotes, which keep capitals: "
           f"ALTER TABLE shop.{table} RENAME COLUMN \"{close[0]}\" TO {name}") if close else ""
    expect(name in columns, f"shop.{table} has no column '{name}' (it has: {', '.join(sorted(columns))}){why}")
    kind, nullable = columns[name]
    expect(kind in kinds, f"shop.{table}.{name} is {kind}; expected {' or '.join(sorted(kinds))}")
    if not_null:
        expect(not nullable, f"shop.{table}.{name} allows NULL; expected NOT NULL")


def _key_columns(postgres, table, kind):
    """Columns of each PRIMARY KEY ('p') or UNIQUE ('u') constraint of shop.<table>."""
    rows = postgres.execute(
        "SELECT array_agg(a.attname ORDER BY a.attnum) FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) "
        "WHERE c.conrelid = %s::regclass AND c.contype = %s GROUP BY c.oid", (f"shop.{table}", kind)).fetchall()
    return [list(r[0]) for r in rows]


def _unique_index_on(postgres, table, column):
    return postgres.execute(
        "SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
        "WHERE i.indrelid = %s::regclass AND i.indisunique AND i.indnatts = 1 AND a.attname = %s",
        (f"shop.{table}", column)).fetchone() is not None


def _has_table(postgres, table):
    return postgres.execute("SELECT to_regclass(%s)", (f"shop.{table}",)).fetchone()[0] is not None


# ---- step 1: connect ---------------------------------------------------------

def shop_schema_exists(postgres):
    schemas = [r[0] for r in postgres.execute(
        "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'")]
    if "shop" in schemas:
        return
    close = [s for s in schemas if s.lower() == "shop"]
    if close:
        fail(f"found a schema \"{close[0]}\" but not shop — unquoted names are folded to lower case, "
             "so create it as CREATE SCHEMA shop;")
    database = postgres.info.dbname
    fail(f"there is no schema 'shop' in database {database} yet (schemas: {', '.join(schemas)}) — "
         "from Python, nothing is kept until conn.commit() (or the end of a `with psycopg.connect(...)` block)")


# ---- step 2: schema ----------------------------------------------------------

def customers_table_is_right(postgres):
    columns = _columns(postgres, "customers")
    _expect_column(columns, "customers", "customer_id", INTEGER)
    for name in ("name", "email", "country"):
        _expect_column(columns, "customers", name, TEXT)
    expect(["customer_id"] in _key_columns(postgres, "customers", "p"),
           "shop.customers has no PRIMARY KEY (customer_id)")
    expect(["email"] in _key_columns(postgres, "customers", "u") or _unique_index_on(postgres, "customers", "email"),
           "shop.customers.email is not UNIQUE: two customers could share an email")


def orders_table_is_right(postgres):
    columns = _columns(postgres, "orders")
    _expect_column(columns, "orders", "order_id", INTEGER)
    _expect_column(columns, "orders", "customer_id", INTEGER)
    _expect_column(columns, "orders", "ordered_at", {"timestamp with time zone"})
    _expect_column(columns, "orders", "total", {"numeric"})
    expect(["order_id"] in _key_columns(postgres, "orders", "p"), "shop.orders has no PRIMARY KEY (order_id)")


def orders_reference_customers(postgres):
    _columns(postgres, "orders")
    # The target is named from the catalog, not from regclass::text: that drops the schema whenever
    # it is on the search_path (ALTER ROLE ... SET search_path = shop is a common convenience).
    rows = postgres.execute(
        "SELECT n.nspname || '.' || t.relname, "
        "(SELECT array_agg(attname) FROM pg_attribute WHERE attrelid = conrelid AND attnum = ANY (conkey)) "
        "FROM pg_constraint c JOIN pg_class t ON t.oid = c.confrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE c.conrelid = 'shop.orders'::regclass AND c.contype = 'f'").fetchall()
    targets = {target: list(cols) for target, cols in rows}
    expect("shop.customers" in targets, "shop.orders has no foreign key to shop.customers: an order could "
                                        "name a customer who does not exist (REFERENCES shop.customers)")
    expect(targets["shop.customers"] == ["customer_id"],
           f"shop.orders' foreign key to shop.customers is on {targets['shop.customers']}; expected (customer_id)")


def _refuses_total(postgres_connect, total: str) -> bool:
    """Whether shop.orders refuses an order of this total with a CHECK, tried for real in a
    transaction that is rolled back (any correct constraint passes, however it is written).
    Other refusals are told in the learner's words, never as the driver's text."""
    import psycopg

    with postgres_connect(autocommit=False) as conn:
        try:
            # OVERRIDING SYSTEM VALUE: ids GENERATED ALWAYS AS IDENTITY take the test's ids too
            conn.execute("INSERT INTO shop.customers (customer_id, name, email, country) OVERRIDING SYSTEM VALUE "
                         "VALUES (-7, 'Check', %s, 'Nowhere')", (f"check-{secrets.token_hex(4)}@example.com",))
            conn.execute("INSERT INTO shop.orders (order_id, customer_id, ordered_at, total) OVERRIDING SYSTEM VALUE "
                         f"VALUES (-7, -7, now(), {total})")
        except psycopg.errors.CheckViolation:
            return True
        except psycopg.errors.UndefinedColumn:
            conn.rollback()
            for table in ("customers", "orders"):
                _columns(conn, table)
            fail(f"a test order could not be written: a column of shop.customers or shop.orders is missing "
                 "or misspelt (customer_id, name, email, country; order_id, customer_id, ordered_at, total)")
        except psycopg.errors.NotNullViolation as exc:
            fail(f"a test order could not be written: shop.{exc.diag.table_name}.{exc.diag.column_name} needs a "
                 "value this lab's data does not have — only the columns of the step, please")
        except psycopg.Error as exc:
            kind = type(exc).__name__
            fail(f"a test order with a total of {total} was refused, but not by a CHECK ({kind}): "
                 "are shop.customers and shop.orders as the step describes?")
        finally:
            conn.rollback()
    return False


def orders_total_cannot_be_negative(postgres, postgres_connect):
    _columns(postgres, "customers")       # "there is no table shop.customers yet", not the driver's words
    _columns(postgres, "orders")
    expect(_refuses_total(postgres_connect, "-1.00"),
           "shop.orders accepted a negative total (-1.00): add CHECK (total >= 0)")


# ---- step 3: load ---------------------------------------------------------------

def customers_loaded(postgres, lab_dir):
    _columns(postgres, "customers")
    stored = {row[0]: row[1:] for row in postgres.execute("SELECT customer_id, name, email, country FROM shop.customers")}
    data.expect_customers(stored, lab_dir, "shop.customers")


def orders_loaded(postgres, postgres_connect, lab_dir):
    ids = [int(r["order_id"]) for r in data.rows(lab_dir, "orders.csv")]
    _columns(postgres, "orders")
    count, total = postgres.execute(
        "SELECT count(*), coalesce(sum(total), 0) FROM shop.orders WHERE order_id = ANY (%s)", (ids,)).fetchone()
    hint = ""
    if count < len(ids) and data.free_orders(lab_dir) and _has_table(postgres, "customers") \
            and _refuses_total(postgres_connect, "0.00"):
        hint = (f" — your CHECK on shop.orders refuses a total of 0.00, and {data.free_orders(lab_dir)} orders in "
                "orders.csv are free (0.00), so \\copy refused the file: make it CHECK (total >= 0) "
                "(step 2), then load again")
    data.expect_orders(count, total, lab_dir, "shop.orders", hint)


# ---- step 4: index -------------------------------------------------------------

def _plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def orders_by_customer_uses_an_index(postgres):
    _columns(postgres, "orders")
    postgres.execute("ANALYZE shop.orders")
    plan = postgres.execute("EXPLAIN (FORMAT JSON) SELECT * FROM shop.orders WHERE customer_id = 42").fetchone()[0]
    nodes = {node["Node Type"] for node in _plan_nodes(plan[0]["Plan"])}
    if nodes & {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}:
        return f"the plan uses {', '.join(sorted(nodes & {'Index Scan', 'Index Only Scan', 'Bitmap Index Scan'}))}"
    indexes = postgres.execute(
        "SELECT c.relname, array_agg(coalesce(a.attname, '(an expression)') ORDER BY k.n), "
        "pg_get_expr(i.indpred, i.indrelid), i.indisvalid FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid "
        "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
        "LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
        "WHERE i.indrelid = 'shop.orders'::regclass AND NOT i.indisprimary "
        "GROUP BY c.relname, i.indpred, i.indrelid, i.indisvalid ORDER BY 1").fetchall()
    leading = [(name, where, valid) for name, cols, where, valid in indexes if cols[0] == "customer_id"]
    for name, where, valid in leading:
        if not valid:
            fail(f"index {name} on shop.orders (customer_id) is INVALID (a CREATE INDEX CONCURRENTLY that failed "
                 f"or was interrupted), so the planner ignores it: DROP INDEX shop.{name}; then create it again")
        if where:
            fail(f"index {name} on shop.orders (customer_id) is partial (WHERE {where}): it holds only some orders, "
                 "so it cannot answer customer_id = 42 for all of them and the plan is still a Seq Scan — "
                 "create it without a WHERE clause")
    if leading:
        fail(f"index {leading[0][0]} leads with customer_id, but the planner still chose a Seq Scan for "
             "customer_id = 42 — run ANALYZE shop.orders and look at EXPLAIN again")
    if indexes:
        shown = "; ".join(f"{name} on ({', '.join(cols)})" for name, cols, _, _ in indexes)
        later = [name for name, cols, _, _ in indexes if "customer_id" in cols]
        why = (f" — customer_id is not its first column, and a lookup by customer_id can only start from an index "
               "that leads with it: (customer_id), or (customer_id, ...)") if later else ""
        fail(f"shop.orders has an index, but none that starts with customer_id ({shown}){why}; "
             "the plan is still a Seq Scan")
    fail("EXPLAIN SELECT * FROM shop.orders WHERE customer_id = 42 is still a Seq Scan: "
         "create an index on shop.orders (customer_id)")


# ---- step 5: transaction -------------------------------------------------------

def discounts_table_exists(postgres):
    columns = _columns(postgres, "discounts_used")
    _expect_column(columns, "discounts_used", "order_id", INTEGER)
    _expect_column(columns, "discounts_used", "code", TEXT)
    expect(["order_id"] in _key_columns(postgres, "discounts_used", "p"),
           "shop.discounts_used has no PRIMARY KEY (order_id)")


def _free_order_id(postgres):
    return postgres.execute("SELECT coalesce(max(order_id), 0) + 1000 + %s FROM shop.orders",
                            (secrets.randbelow(1000),)).fetchone()[0]


def _rows_for(postgres, order_id):
    orders = postgres.execute("SELECT count(*) FROM shop.orders WHERE order_id = %s", (order_id,)).fetchone()[0]
    discounts = postgres.execute("SELECT count(*) FROM shop.discounts_used WHERE order_id = %s",
                                 (order_id,)).fetchone()[0]
    return orders, discounts


def _forget(postgres, order_id):
    postgres.execute("DELETE FROM shop.discounts_used WHERE order_id = %s", (order_id,))
    postgres.execute("DELETE FROM shop.orders WHERE order_id = %s", (order_id,))


def place_order_commits_both_rows(answer, postgres):
    discounts_table_exists(postgres)
    order_id = _free_order_id(postgres)
    customer = postgres.execute("SELECT min(customer_id) FROM shop.customers").fetchone()[0]
    try:
        result = answer.call("place_order.py", "place_order", order_id, customer, "12.50", "SPRING10",
                             connect="postgres")
        result.value_or_fail()
        orders, discounts = _rows_for(postgres, order_id)
    finally:
        _forget(postgres, order_id)
    expect(orders == 1, f"after place_order(conn, {order_id}, ...) returned, order {order_id} is not in shop.orders: "
                        "did the transaction commit? (conn.commit(), or `with conn.transaction():`)")
    expect(discounts == 1, f"place_order wrote order {order_id} but no row in shop.discounts_used")
    expect(result.value == order_id, f"place_order returned {result.value!r}; expected the order id, {order_id}")


def place_order_rolls_back_as_a_unit(answer, postgres):
    discounts_table_exists(postgres)
    customer = postgres.execute("SELECT min(customer_id) FROM shop.customers").fetchone()[0]
    cases = [
        ("writing its discount failed (the code was NULL)", (customer, "9.99", None)),
        ("its total was negative", (customer, "-5.00", "SPRING10")),
        ("its customer does not exist", (-424242, "9.99", "SPRING10")),
    ]
    ids = [_free_order_id(postgres) + n for n in range(len(cases))]
    try:
        results = answer.call_many("place_order.py", "place_order",
                                   [(oid, *args) for oid, (_, args) in zip(ids, cases)], connect="postgres")
        leftovers = [_rows_for(postgres, oid) for oid in ids]
    finally:
        for oid in ids:
            _forget(postgres, oid)
    for oid, (why, _), result, (orders, discounts) in zip(ids, cases, results, leftovers):
        if result.error_type in ("NotImplementedError", "Timeout", "MissingFunction", "Crash"):
            fail(result.failure())
        expect(orders == 0 and discounts == 0,
               f"place_order left order {oid} in shop.orders although {why}: both inserts must be one "
               "transaction that is rolled back as a unit")
        expect(not result.ok, f"place_order returned {result.value!r} although {why}; expected it to "
                               "roll back and raise the error")
    _connection_usable_after_a_failed_order(answer, postgres, customer)


def _connection_usable_after_a_failed_order(answer, postgres, customer):
    """An application keeps its connection: after an order fails, the next one on the same
    connection must go through. Without conn.rollback() the connection stays in the failed
    transaction and refuses every statement until the transaction is ended."""
    bad, good = _free_order_id(postgres) + 10, _free_order_id(postgres) + 20
    try:
        first, second = answer.call_many("place_order.py", "place_order",
                                         [(bad, customer, "9.99", None), (good, customer, "9.99", "SPRING10")],
                                         connect="postgres", shared=True)
        orders, discounts = _rows_for(postgres, good)
    finally:
        for oid in (bad, good):
            _forget(postgres, oid)
    if second.error_type in ("NotImplementedError", "Timeout", "MissingFunction", "Crash"):
        fail(second.failure())
    if not second.ok and second.error_type == "InFailedSqlTransaction":
        fail(f"after a failed order, the next place_order on the same connection (order {good}) was refused: "
             "\"current transaction is aborted\" — call conn.rollback() before raising the error again, or the "
             "connection stays in the failed transaction")
    expect(second.ok and orders == 1 and discounts == 1,
           f"after a failed order, a good one on the same connection (order {good}) was not committed: "
           f"{second.failure() if not second.ok else 'its rows are missing'}")


# ---- step 6: read-only role ----------------------------------------------------------

def _as_reporting(postgres_connect, autocommit=True):
    import psycopg

    try:
        return postgres_connect(user="reporting", password=REPORTING_PASSWORD, autocommit=autocommit)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1].split("FATAL:")[-1].strip()
        fail(f"could not log in as reporting with password '{REPORTING_PASSWORD}': {reason}")


def reporting_can_log_in(postgres_connect):
    with _as_reporting(postgres_connect):
        pass


def reporting_can_read_shop(postgres, postgres_connect):
    import psycopg
    from psycopg import sql

    tables = [r[0] for r in postgres.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'shop' ORDER BY tablename")]
    expect(tables, "schema shop has no tables to read")
    probe = f"check_later_{secrets.token_hex(3)}"
    postgres.execute(f"CREATE TABLE shop.{probe} (x integer)")      # a table made after the GRANTs
    try:
        with _as_reporting(postgres_connect) as conn:
            for table in tables + [probe]:
                try:
                    conn.execute(sql.SQL("SELECT count(*) FROM shop.{}").format(sql.Identifier(table)))
                except psycopg.errors.InsufficientPrivilege:
                    if table == probe:
                        fail("reporting can read today's tables but not one created later: "
                             "ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO reporting")
                    fail(f"reporting cannot read shop.{table}: permission denied "
                         "(GRANT USAGE ON SCHEMA shop, GRANT SELECT ON ALL TABLES IN SCHEMA shop)")
    finally:
        postgres.execute(f"DROP TABLE shop.{probe}")


WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def _expect_reach_is_shop_only(postgres):
    """What reporting can reach, asked of the server: its memberships (direct or through other
    roles), its privileges on every table of shop, and on a table outside shop made for the test."""
    wide = [r[0] for r in postgres.execute(
        "SELECT rolname FROM pg_roles WHERE (rolname LIKE 'pg\\_%%' OR rolsuper OR rolcreaterole OR rolcreatedb "
        "OR rolbypassrls) AND rolname <> 'reporting' AND pg_has_role('reporting', oid, 'MEMBER') "
        "ORDER BY rolname LIKE 'pg\\_%%' DESC, rolname").fetchall()]
    if wide:
        fail(f"reporting is a member of {', '.join(wide)}: through {wide[0]} it reaches far beyond reading "
             f"schema shop — REVOKE {wide[0]} FROM reporting, and grant only USAGE on shop and SELECT on its tables")
    for (table,) in postgres.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'shop' ORDER BY 1").fetchall():
        for privilege in WRITES:
            if postgres.execute("SELECT has_table_privilege('reporting', format('shop.%%I', %s::text), %s)",
                                (table, privilege)).fetchone()[0]:
                fail(f"reporting may {privilege} on shop.{table}: a reporting role must only read — "
                     f"REVOKE {privilege} ON shop.{table} FROM reporting (or REVOKE ALL, then GRANT SELECT)")
    expect(not postgres.execute("SELECT has_schema_privilege('reporting', 'shop', 'CREATE')").fetchone()[0],
           "reporting may CREATE tables in schema shop: REVOKE CREATE ON SCHEMA shop FROM reporting")
    other = f"check_private_{secrets.token_hex(3)}"
    postgres.execute(f"CREATE SCHEMA {other}")
    try:
        postgres.execute(f"CREATE TABLE {other}.secrets (x integer)")
        outside = postgres.execute("SELECT has_table_privilege('reporting', %s, 'SELECT')",
                                   (f"{other}.secrets",)).fetchone()[0]
    finally:
        postgres.execute(f"DROP SCHEMA {other} CASCADE")
    expect(not outside, "reporting can read a table in a schema other than shop (the check made one to see): "
                        "grant SELECT on shop's tables only, not on every schema")
    _expect_nothing_granted_to_public(postgres)


def _expect_nothing_granted_to_public(postgres):
    """A grant TO PUBLIC lets reporting read, and every other role that logs in, now or later."""
    public = [r[0] for r in postgres.execute(
        "SELECT 'table shop.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, "
        "aclexplode(c.relacl) a WHERE n.nspname = 'shop' AND a.grantee = 0 "
        "UNION ALL SELECT 'schema shop' FROM pg_namespace n, aclexplode(n.nspacl) a "
        "WHERE n.nspname = 'shop' AND a.grantee = 0 "
        "UNION ALL SELECT 'the default privileges of schema shop' FROM pg_default_acl d "
        "JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a "
        "WHERE n.nspname = 'shop' AND a.grantee = 0 ORDER BY 1").fetchall()]
    if public:
        fail(f"{public[0]} grants to PUBLIC, that is to every role that can log in, now or later, not to reporting "
             "alone: REVOKE it FROM PUBLIC (REVOKE SELECT ON ALL TABLES IN SCHEMA shop FROM PUBLIC; REVOKE USAGE "
             "ON SCHEMA shop FROM PUBLIC) and grant it TO reporting")


def reporting_cannot_write(postgres, postgres_connect):
    import psycopg

    super_, createrole, createdb = postgres.execute(
        "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'reporting'").fetchone() or (None,) * 3
    expect(super_ is not None, "there is no role named reporting")
    expect(not (super_ or createrole or createdb), "reporting is a superuser or may create roles or databases: "
                                                   "least privilege means none of that")
    attempts = [("INSERT into shop.customers", "INSERT INTO shop.customers (customer_id, name, email, country) "
                                                "VALUES (-9, 'x', 'x-check@example.com', 'x')"),
                ("UPDATE shop.orders", "UPDATE shop.orders SET total = total WHERE order_id = 1"),
                ("DELETE from shop.orders", "DELETE FROM shop.orders WHERE order_id = -1"),
                ("CREATE a table in shop", "CREATE TABLE shop.check_reporting_write (x integer)")]
    with _as_reporting(postgres_connect, autocommit=False) as conn:
        for what, sql in attempts:
            try:
                conn.execute(sql)
            except psycopg.errors.InsufficientPrivilege:
                conn.rollback()
                continue
            except psycopg.Error:
                conn.rollback()
                continue
            conn.rollback()
            fail(f"reporting could {what}: a reporting role must only read (REVOKE it, or grant only SELECT)")
    _expect_reach_is_shop_only(postgres)


# ---- step 7: parameter ------------------------------------------------------------

def slow_query_logging_is_500ms(postgres):
    import time

    for _ in range(20):      # a reload reaches the server a moment after pg_reload_conf() returns
        setting, unit, source = postgres.execute(
            "SELECT setting, unit, source FROM pg_settings WHERE name = 'log_min_duration_statement'").fetchone()
        in_file = postgres.execute(
            "SELECT setting FROM pg_file_settings WHERE name = 'log_min_duration_statement' AND error IS NULL "
            "ORDER BY seqno DESC LIMIT 1").fetchone()
        if setting == "500" or not in_file:
            break
        time.sleep(0.1)
    if setting != "500":
        if in_file:
            fail(f"log_min_duration_statement = {in_file[0]} is in the configuration file but the server still "
                 f"uses {setting}{unit if setting != '-1' else ''}: you did not reload it — SELECT pg_reload_conf()")
        shown = "-1 (off)" if setting == "-1" else f"{setting}{unit}"
        fail(f"log_min_duration_statement is {shown} for a new session; expected 500ms — SET changes only your own "
             "session: ALTER SYSTEM SET log_min_duration_statement = '500ms', then SELECT pg_reload_conf()")
    expect(source == "configuration file",
           f"log_min_duration_statement is 500ms only through {source} settings; a parameter group sets it for "
           "the whole instance: use ALTER SYSTEM SET log_min_duration_statement = '500ms' and reload")


# ---- step 8: snapshot ----------------------------------------------------------------

def _dump_kind(path):
    """"custom", "tar", "directory" or "plain" for a dump of schema shop at path, else None."""
    if path.is_dir():
        toc = path / "toc.dat"
        if toc.is_file():
            body = toc.read_bytes()
            if body[:5] == b"PGDMP" and b"orders" in body and b"shop" in body:
                return "directory"
        return None
    if not path.is_file() or path.stat().st_size > 50_000_000:
        return None
    with open(path, "rb") as fh:
        body = fh.read()
    if body[:2] == b"\x1f\x8b":          # pg_dump -n shop | gzip > shop.sql.gz: a plain dump, gzipped
        body = _gunzipped(path)
        return "plain" if b"PostgreSQL database dump" in body[:4096] and b"shop.orders" in body else None
    if body[:5] == b"PGDMP" and b"orders" in body and b"shop" in body:
        return "custom"
    if body[257:262] == b"ustar" and b"toc.dat" in body[:512] and b"PGDMP" in body and b"orders" in body:
        return "tar"
    if b"PostgreSQL database dump" in body[:4096] and b"shop.orders" in body:
        return "plain"
    return None


def _gunzipped(path, limit=50_000_000):
    import gzip
    import zlib

    try:
        with gzip.open(path) as fh:
            return fh.read(limit)
    except (OSError, EOFError, zlib.error):
        return b""


def _find_dumps(workspace):
    """(path, format) of every dump of schema shop in the workspace, in any format pg_restore
    reads (custom, tar, directory) or plain SQL."""
    found = []
    for path in sorted(workspace.path.rglob("*")):
        if ".labrunner-backup" in path.parts or path.name == "toc.dat":
            continue
        kind = _dump_kind(path)
        if kind:
            found.append((path, kind))
    return found


def _find_dump(workspace):
    """The first dump of schema shop in the workspace, as (path, format); None if there is none."""
    dumps = _find_dumps(workspace)
    return dumps[0] if dumps else None


def shop_dump_in_workspace(workspace):
    found = _find_dump(workspace)
    expect(found, f"no pg_dump of schema shop in your workspace ({workspace.path}) yet: there, run "
                  "labrunner tool postgres pg_dump -Fc -n shop -f shop.dump (or -Ft, -Fd, or plain SQL)")
    return f"found {found[0].name} ({found[1]} format)"


def _dumped_oid(session, workspace, dump, table):
    """The OID the table had when it was dumped, from the dump's table of contents (pg_restore -l)."""
    import subprocess

    from labrunner import clients

    command = clients.resolve(session, "postgres", "pg_restore", cwd=str(workspace.path))
    listing = subprocess.run(command.argv + ["-l", str(dump.relative_to(workspace.path))], env=command.env,
                             cwd=workspace.path, capture_output=True, text=True, timeout=60).stdout
    for line in listing.splitlines():
        parts = line.split()          # "215; 1259 16390 TABLE shop orders postgres"
        if len(parts) >= 6 and parts[3] == "TABLE" and parts[4] == "shop" and parts[5] == table:
            return int(parts[2])
    return None


def shop_restored_intact(postgres, postgres_connect, lab_dir, session, workspace):
    found = _find_dump(workspace)
    database = postgres.info.dbname
    for table in ("customers", "orders"):
        expect(_has_table(postgres, table), f"shop.{table} is missing: restore it from your dump with "
                                            f"labrunner tool postgres pg_restore -d {database} shop.dump "
                                            "(a plain SQL dump: labrunner tool postgres psql -f shop.sql)")
    expect(found, "there is no dump of schema shop in your workspace to restore from yet")
    dump, kind = found
    now = postgres.execute("SELECT 'shop.orders'::regclass::oid").fetchone()[0]
    # OIDs come from one counter for the whole server, and the role reporting (step 6) is in no
    # dump of shop: a restored shop.orders was made after it, the one from step 2 before it. This
    # holds for a plain dump too (it records no OIDs), and when pg_dump was run again after the
    # restore (that dump holds the restored table's OID).
    role = postgres.execute("SELECT oid FROM pg_roles WHERE rolname = 'reporting'").fetchone()
    if role is not None and now > role[0]:
        pass
    elif kind != "plain" or role is None:
        dumped = [(path, _dumped_oid(session, workspace, path, "orders"))
                  for path, kind in _find_dumps(workspace) if kind != "plain"]
        expect(not dumped or any(then is None or then != now for _, then in dumped),
               f"shop.orders is still the table you dumped (OID {now}): drop schema shop and restore it from "
               f"{dumped[0][0].name if dumped else dump.name}, as restoring a snapshot would")
    else:
        fail(f"shop.orders is still the table you had before the dump (it is older than the role reporting of "
             f"step 6): drop schema shop and restore it from {dump.name}, as restoring a snapshot would")
    customers_loaded(postgres, lab_dir)
    orders_loaded(postgres, postgres_connect, lab_dir)
    orders_reference_customers(postgres)
