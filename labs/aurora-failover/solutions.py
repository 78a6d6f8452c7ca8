"""Reference solutions for aurora-failover (what `labrunner solve` applies)."""

ORDERS = """CREATE TABLE shop.orders (
    order_id uuid PRIMARY KEY,
    customer_id integer NOT NULL,
    total numeric(10, 2) NOT NULL CHECK (total >= 0),
    placed_at timestamptz NOT NULL DEFAULT now())"""


def create_orders(aurora):
    aurora.execute("CREATE SCHEMA IF NOT EXISTS shop")
    aurora.execute(ORDERS)


def write_place_order(workspace):
    workspace.install_solution("writer.py", source="writer-2.py")


def write_write_orders(workspace):
    workspace.install_solution("writer.py", source="writer-3.py")


def write_longest_outage(workspace):
    workspace.install_solution("writer.py", source="writer-4.py")


def write_missing_acks(workspace):
    workspace.install_solution("writer.py")
