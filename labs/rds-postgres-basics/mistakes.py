"""Typical wrong answers; `labrunner test` proves each is caught with the message lab.yaml promises.
They reuse the reference solutions (the `lab` fixture) and change one thing."""


def _solutions(lab):
    return lab.modules["solutions"]


def orders_without_foreign_key(postgres, lab):
    sol = _solutions(lab)
    postgres.execute(sol.CUSTOMERS)
    postgres.execute(sol.ORDERS.replace(" REFERENCES shop.customers (customer_id)", ""))


def total_without_check(postgres, lab):
    sol = _solutions(lab)
    postgres.execute(sol.CUSTOMERS)
    postgres.execute(sol.ORDERS.replace(" CHECK (total >= 0)", ""))


def customers_only(postgres, lab_dir, lab):
    _solutions(lab).copy_csv(postgres, lab_dir, "customers")


def index_on_the_wrong_column(postgres):
    postgres.execute("CREATE INDEX orders_ordered_at_idx ON shop.orders (ordered_at)")
    postgres.execute("ANALYZE shop.orders")


def place_order_commits_twice(postgres, workspace):
    postgres.execute("CREATE TABLE shop.discounts_used ("
                     "order_id integer PRIMARY KEY REFERENCES shop.orders (order_id), code text NOT NULL)")
    workspace.file("place_order.py").write_text('''
def place_order(conn, order_id, customer_id, total, discount_code):
    conn.execute("INSERT INTO shop.orders (order_id, customer_id, ordered_at, total) "
                 "VALUES (%s, %s, now(), %s)", (order_id, customer_id, total))
    conn.commit()          # too early: the order stays even if the discount fails
    conn.execute("INSERT INTO shop.discounts_used (order_id, code) VALUES (%s, %s)", (order_id, discount_code))
    conn.commit()
    return order_id
''')


def reporting_with_all_privileges(postgres):
    postgres.execute("CREATE ROLE reporting WITH LOGIN PASSWORD 'read-only-please'")
    postgres.execute("GRANT USAGE ON SCHEMA shop TO reporting")
    postgres.execute("GRANT ALL ON ALL TABLES IN SCHEMA shop TO reporting")
    postgres.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO reporting")


def reporting_without_login(postgres):
    postgres.execute("CREATE ROLE reporting PASSWORD 'read-only-please'")
    postgres.execute("GRANT USAGE ON SCHEMA shop TO reporting")
    postgres.execute("GRANT SELECT ON ALL TABLES IN SCHEMA shop TO reporting")


def parameter_not_reloaded(postgres):
    postgres.execute("ALTER SYSTEM SET log_min_duration_statement = '500ms'")


def dump_without_restore(postgres, session, workspace, lab):
    _solutions(lab).run_tool(session, workspace, "pg_dump", "-Fc", "-n", "shop", "-f", "shop.dump")
    postgres.execute("DROP SCHEMA shop CASCADE")


def schema_named_with_capitals(postgres):
    postgres.execute('CREATE SCHEMA "Shop"')


def total_check_refuses_free_orders(postgres, lab_dir, lab):
    """CHECK (total > 0) passes step 2's test of a negative total, then refuses the 17 free
    orders at load: \\copy refuses the whole file."""
    import psycopg

    postgres.execute("ALTER TABLE shop.orders DROP CONSTRAINT orders_total_check")
    postgres.execute("ALTER TABLE shop.orders ADD CONSTRAINT orders_total_positive CHECK (total > 0)")
    _solutions(lab).copy_csv(postgres, lab_dir, "customers")
    try:
        _solutions(lab).copy_csv(postgres, lab_dir, "orders")
    except psycopg.errors.CheckViolation:
        pass                                # what the learner's \copy said


def index_with_customer_id_second(postgres):
    """The right column, second: a lookup by customer_id cannot start from it."""
    postgres.execute("CREATE INDEX orders_date_customer_idx ON shop.orders (ordered_at, customer_id)")
    postgres.execute("ANALYZE shop.orders")


def reporting_in_pg_read_all_data(postgres):
    """Reads shop, writes nothing: and reads every other table of the database too."""
    postgres.execute("CREATE ROLE reporting WITH LOGIN PASSWORD 'read-only-please'")
    postgres.execute("GRANT pg_read_all_data TO reporting")


def reporting_reads_through_public(postgres):
    """reporting reads shop and writes nothing, but so does every other role that logs in."""
    postgres.execute("CREATE ROLE reporting WITH LOGIN PASSWORD 'read-only-please'")
    postgres.execute("GRANT USAGE ON SCHEMA shop TO PUBLIC")
    postgres.execute("GRANT SELECT ON ALL TABLES IN SCHEMA shop TO PUBLIC")
    postgres.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO PUBLIC")


def parameter_for_the_database_only(postgres):
    """ALTER DATABASE ... SET: new sessions of this database get 500ms, the server does not."""
    postgres.execute(f"ALTER DATABASE {postgres.info.dbname} SET log_min_duration_statement = 500")


def tar_dump_not_restored(session, workspace, lab):
    """A tar-format dump, but the schema was never dropped and restored."""
    _solutions(lab).run_tool(session, workspace, "pg_dump", "-Ft", "-n", "shop", "-f", "shop.tar")


def place_order_without_rollback(postgres, workspace):
    """Both INSERTs and one commit, but no rollback on an error: the caller's connection stays in
    the failed transaction and refuses the next order."""
    postgres.execute("CREATE TABLE shop.discounts_used ("
                     "order_id integer PRIMARY KEY REFERENCES shop.orders (order_id), code text NOT NULL)")
    workspace.file("place_order.py").write_text('''
def place_order(conn, order_id, customer_id, total, discount_code):
    with conn.cursor() as cur:
        cur.execute("INSERT INTO shop.orders (order_id, customer_id, ordered_at, total) "
                    "VALUES (%s, %s, now(), %s)", (order_id, customer_id, total))
        cur.execute("INSERT INTO shop.discounts_used (order_id, code) VALUES (%s, %s)",
                    (order_id, discount_code))
    conn.commit()
    return order_id
''')



def partial_index_on_customer_id(postgres):
    """The right column, but a partial index: only big orders are in it, so customer 42's
    lookup cannot use it."""
    postgres.execute("CREATE INDEX orders_big_by_customer_idx ON shop.orders (customer_id) WHERE total > 100")
    postgres.execute("ANALYZE shop.orders")


def plain_dump_not_restored(session, workspace, lab):
    """A plain SQL dump (it records no OIDs), but the schema was never dropped and restored."""
    _solutions(lab).run_tool(session, workspace, "pg_dump", "-n", "shop", "-f", "shop.sql")

