"""Reference solutions for rds-postgres-basics, one per step (what `labrunner solve` applies)."""

import subprocess

CUSTOMERS = """CREATE TABLE shop.customers (
    customer_id integer PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL UNIQUE,
    country text NOT NULL)"""
ORDERS = """CREATE TABLE shop.orders (
    order_id integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES shop.customers (customer_id),
    ordered_at timestamptz NOT NULL,
    total numeric(10, 2) NOT NULL CHECK (total >= 0))"""


def create_shop_schema(postgres):
    postgres.execute("CREATE SCHEMA shop")


def create_tables(postgres):
    postgres.execute(CUSTOMERS)
    postgres.execute(ORDERS)


def copy_csv(postgres, lab_dir, table):
    text = (lab_dir / "workspace" / f"{table}.csv").read_text(encoding="utf-8")
    with postgres.cursor() as cur:
        with cur.copy(f"COPY shop.{table} FROM STDIN WITH (FORMAT csv, HEADER)") as copy:
            copy.write(text)


def load_csv(postgres, lab_dir):
    copy_csv(postgres, lab_dir, "customers")      # first: orders refer to customers
    copy_csv(postgres, lab_dir, "orders")


def create_orders_index(postgres):
    postgres.execute("CREATE INDEX orders_customer_id_idx ON shop.orders (customer_id)")
    postgres.execute("ANALYZE shop.orders")


def install_place_order(postgres, workspace):
    postgres.execute("CREATE TABLE shop.discounts_used ("
                     "order_id integer PRIMARY KEY REFERENCES shop.orders (order_id), code text NOT NULL)")
    workspace.install_solution("place_order.py")


def create_reporting_role(postgres):
    postgres.execute("CREATE ROLE reporting WITH LOGIN PASSWORD 'read-only-please'")
    postgres.execute("GRANT USAGE ON SCHEMA shop TO reporting")
    postgres.execute("GRANT SELECT ON ALL TABLES IN SCHEMA shop TO reporting")
    postgres.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO reporting")


def set_slow_query_log(postgres):
    postgres.execute("ALTER SYSTEM SET log_min_duration_statement = '500ms'")
    postgres.execute("SELECT pg_reload_conf()")


def run_tool(session, workspace, program, *args):
    """What `labrunner tool postgres PROGRAM ARGS` does, from the workspace folder."""
    from labrunner import clients

    command = clients.resolve(session, "postgres", program, cwd=str(workspace.path))
    subprocess.run(command.argv + list(args), env=command.env, cwd=workspace.path, check=True,
                   capture_output=True, timeout=120)


def snapshot_and_restore(postgres, session, workspace):
    run_tool(session, workspace, "pg_dump", "-Fc", "-n", "shop", "-f", "shop.dump")
    postgres.execute("DROP SCHEMA shop CASCADE")
    run_tool(session, workspace, "pg_restore", "-d", postgres.info.dbname, "shop.dump")
