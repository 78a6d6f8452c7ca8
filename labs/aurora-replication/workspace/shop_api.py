"""Steps 4 and 5: the shop's order pages. WRITER_URL is the cluster endpoint, READER_URL the
reader endpoint (`labrunner env` sets both, as an application's configuration would)."""

import os

import psycopg

WRITER_URL = os.environ.get("WRITER_URL", "")
READER_URL = os.environ.get("READER_URL", "")


def place_order(customer_id, total):
    """Store an order of `total` (text, e.g. '19.99') for customer_id, then return the customer's
    order totals as the page shows them right after: a list that includes the new order."""
    raise NotImplementedError("step 4")


def orders_of(customer_id):
    """The customer's order totals, for the 'my orders' page that every visitor loads."""
    raise NotImplementedError("step 5")
