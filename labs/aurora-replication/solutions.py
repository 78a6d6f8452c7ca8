"""Reference solutions for aurora-replication (what `labrunner solve` applies)."""

ORDERS = """CREATE TABLE shop.orders (
    order_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id integer NOT NULL,
    total numeric(10, 2) NOT NULL CHECK (total >= 0),
    placed_at timestamptz NOT NULL DEFAULT now())"""


def create_orders(aurora):
    aurora.execute("CREATE SCHEMA IF NOT EXISTS shop")
    aurora.execute(ORDERS)
    aurora.execute("INSERT INTO shop.orders (customer_id, total) VALUES (1, 19.99), (2, 5.00)")


def write_role_of(workspace):
    workspace.install_solution("cluster.py", source="cluster-2.py")


def write_replica_lag(workspace):
    workspace.install_solution("cluster.py")


def write_place_order(workspace):
    workspace.install_solution("shop_api.py", source="shop_api-4.py")


def write_orders_of(workspace):
    workspace.install_solution("shop_api.py")
