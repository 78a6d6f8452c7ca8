"""An order service on an RDS for PostgreSQL Multi-AZ DB instance with one read replica.

INSTANCE_URL is the DB instance's endpoint (the primary, wherever it runs); REPLICA_URL is the
read replica's own endpoint. `labrunner env` sets both, as an application's configuration
would. Try the functions from your terminal after `eval "$(labrunner env)"`:

    python app.py               # places an order, reads it back, prints the replica's lag
"""

import os
import sys
import time
import uuid

import psycopg

INSTANCE_URL = os.environ.get("INSTANCE_URL", "")
REPLICA_URL = os.environ.get("REPLICA_URL", "")


def place_order(order_id, customer_id, total):
    """Step 1: store one order (order_id a uuid as text, total as text, e.g. '19.99') and commit;
    the same order sent twice must be harmless. Return True."""
    with psycopg.connect(INSTANCE_URL, connect_timeout=5) as conn:     # writes: the instance endpoint
        conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, %s, %s) "
                     "ON CONFLICT (order_id) DO NOTHING", (order_id, customer_id, total))
        conn.commit()
    return True


def customer_totals(min_total):
    """Step 2: a report for the finance team, from the read replica: {customer_id: sum of that
    customer's order totals as a string with two decimals} for every customer whose sum is at
    least min_total (a string such as '250.00')."""
    raise NotImplementedError("customer_totals() (step 2)")


def order_page(order_id):
    """Step 3: the total of order `order_id` as a string ('19.99'), right after the customer
    placed it, or None if there is no such order. The customer must see their own order."""
    raise NotImplementedError("order_page() (step 3)")


def replica_lag():
    """Step 4: how many seconds the read replica's data is behind the primary right now, as a
    float (0.0 when it has applied everything the primary wrote)."""
    raise NotImplementedError("replica_lag() (step 4)")


def write_orders(orders, pause=0.0):
    """Step 5: store every [order_id, customer_id, total] of `orders`, in order, waiting `pause`
    seconds between two, through a failover: retry each order with a growing wait on a fresh
    connection to the instance endpoint. Return [[order_id, time.time() when COMMIT returned], ...]."""
    raise NotImplementedError("write_orders() (step 5)")


def unreplicated(acks):
    """Step 6: the order ids of `acks` ([[order_id, time], ...]) that the read replica does not
    hold: what promoting it now would lose."""
    raise NotImplementedError("unreplicated() (step 6)")


if __name__ == "__main__":
    order = str(uuid.uuid4())
    try:
        place_order(order, 42, "19.99")
        print(f"placed {order}; the customer sees total {order_page(order)}")
        print(f"customers with 100.00 or more: {customer_totals('100.00')}")
        print(f"the replica is {replica_lag():.3f} s behind")
    except NotImplementedError as exc:
        sys.exit(f"app.py: {exc} is not written yet")
