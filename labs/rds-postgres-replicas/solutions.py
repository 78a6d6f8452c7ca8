"""Reference solutions for rds-postgres-replicas (what `labrunner solve` applies)."""

ORDERS = """CREATE TABLE shop.orders (
    order_id uuid PRIMARY KEY,
    customer_id integer NOT NULL,
    total numeric(10, 2) NOT NULL CHECK (total >= 0),
    placed_at timestamptz NOT NULL DEFAULT now())"""


def create_orders_and_place_order(rds, workspace):
    rds.execute("CREATE SCHEMA IF NOT EXISTS shop")
    rds.execute(ORDERS)
    workspace.install_solution("app.py", source="app-1.py")


def write_customer_totals(workspace):
    workspace.install_solution("app.py", source="app-2.py")


def write_order_page(workspace):
    workspace.install_solution("app.py", source="app-3.py")


def write_replica_lag(workspace):
    workspace.install_solution("app.py", source="app-4.py")


def write_write_orders(workspace):
    workspace.install_solution("app.py", source="app-5.py")


def write_unreplicated(workspace):
    workspace.install_solution("app.py")
