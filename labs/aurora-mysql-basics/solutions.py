"""Reference solutions for aurora-mysql-basics (what `labrunner solve` applies)."""

ORDERS = """CREATE TABLE shop.orders (
    order_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    customer_id INT NOT NULL,
    total DECIMAL(10, 2) NOT NULL CHECK (total >= 0),
    placed_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    KEY by_customer (customer_id))"""


def create_orders(aurora):
    with aurora.cursor() as cur:
        cur.execute("CREATE DATABASE IF NOT EXISTS shop")
        cur.execute(ORDERS)
        cur.execute("INSERT INTO shop.orders (customer_id, total) VALUES (1, 19.99), (2, 5.00)")


def write_role_of(workspace):
    workspace.install_solution("cluster.py", source="cluster-2.py")


def write_replica_lag(workspace):
    workspace.install_solution("cluster.py")


def write_orders_of(workspace):
    workspace.install_solution("shop_api.py")


def write_write_payments(workspace):
    workspace.install_solution("writer.py")
