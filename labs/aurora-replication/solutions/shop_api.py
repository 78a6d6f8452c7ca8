"""Steps 4 and 5: the shop's order pages. WRITER_URL is the cluster endpoint, READER_URL the
reader endpoint (`labrunner env` sets both, as an application's configuration would)."""

import os

import psycopg

WRITER_URL = os.environ.get("WRITER_URL", "")
READER_URL = os.environ.get("READER_URL", "")


def place_order(customer_id, total):
    """Store an order of `total` (text, e.g. '19.99') for customer_id, then return the customer's
    order totals as the page shows them right after: a list that includes the new order."""
    with psycopg.connect(WRITER_URL) as conn:          # the write, and reading it back: the writer
        conn.execute("INSERT INTO shop.orders (customer_id, total) VALUES (%s, %s)", (customer_id, total))
        conn.commit()
        rows = conn.execute("SELECT total FROM shop.orders WHERE customer_id = %s ORDER BY order_id",
                            (customer_id,)).fetchall()
    return [str(total) for (total,) in rows]


def orders_of(customer_id):
    """The customer's order totals, for the 'my orders' page that every visitor loads."""
    with psycopg.connect(READER_URL) as conn:          # a read that may be a moment old: a reader
        rows = conn.execute("SELECT total FROM shop.orders WHERE customer_id = %s ORDER BY order_id",
                            (customer_id,)).fetchall()
    return [str(total) for (total,) in rows]
