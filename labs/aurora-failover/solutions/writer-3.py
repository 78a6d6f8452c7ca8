"""A client that keeps writing orders while the cluster fails over.

WRITER_URL is the cluster endpoint (`labrunner env` sets it, as an application's configuration
would). Try it from your terminal after `eval "$(labrunner env)"`:

    python writer.py            # writes an order every 20 ms until Ctrl-C, and reports each batch

and, in another terminal, `labrunner fault kill aurora-postgresql/writer`.
"""

import os
import random
import sys
import time
import uuid

import psycopg

WRITER_URL = os.environ.get("WRITER_URL", "")
GIVE_UP = 15.0          # seconds one order may keep failing before the client gives up
RETRYABLE = (psycopg.OperationalError,              # connection lost or refused, serialization failure
             psycopg.errors.ReadOnlySqlTransaction)  # an old connection that reached a node now a reader


def place_order(order_id, customer_id, total):
    """Step 2: store one order (order_id a uuid as text, total as text, e.g. '19.99') through the
    cluster endpoint and commit; sending the same order again must be harmless. Return True."""
    with psycopg.connect(WRITER_URL, connect_timeout=3) as conn:    # the cluster endpoint
        conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, %s, %s) "
                     "ON CONFLICT (order_id) DO NOTHING", (order_id, customer_id, total))
        conn.commit()
    return True


def write_orders(orders, pause=0.0):
    """Step 3: store every [order_id, customer_id, total] of `orders`, in order, waiting `pause`
    seconds between two orders, through failovers: retry each order with a growing wait,
    on a fresh connection, until it is stored. Return the acknowledgements: a list of
    [order_id, time.time() when its COMMIT returned], one per order."""
    acks = []
    conn = None
    for order_id, customer_id, total in orders:
        wait, failing_since = 0.05, None
        while True:
            try:
                if conn is None:
                    conn = psycopg.connect(WRITER_URL, connect_timeout=3)
                conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, %s, %s) "
                             "ON CONFLICT (order_id) DO NOTHING", (order_id, customer_id, total))
                conn.commit()
                acks.append([order_id, time.time()])       # acknowledged: COMMIT returned
                break
            except RETRYABLE:
                if conn is not None:
                    conn.close()
                conn = None                                 # the next try connects again
                failing_since = failing_since or time.monotonic()
                if time.monotonic() - failing_since > GIVE_UP:
                    raise
                time.sleep(wait)
                wait = min(wait * 2, 1.0)                   # 0.05, 0.1, 0.2, ... at most 1 s
        time.sleep(pause)
    if conn is not None:
        conn.close()
    return acks


def longest_outage(acks):
    """Step 4: the longest time, in seconds, between two consecutive acknowledgements of `acks`
    (a list of [order_id, time]): the longest the client could not write."""
    raise NotImplementedError("step 4")


def missing_acks(acks, url):
    """Step 5: the order ids of `acks` that the node at `url` does not hold in shop.orders."""
    raise NotImplementedError("step 5")


def new_orders(count):
    return [[str(uuid.uuid4()), random.randint(1, 500), f"{random.randint(100, 9999) / 100:.2f}"]
            for _ in range(count)]


if __name__ == "__main__":
    batch = 50
    print(f"writing {batch} orders at a time through {WRITER_URL.split('@')[-1]}; Ctrl-C to stop")
    try:
        while True:
            acks = write_orders(new_orders(batch), pause=0.02)
            try:
                gap = f"longest gap {longest_outage(acks):.3f} s"
            except NotImplementedError:
                gap = "longest_outage() not written yet"
            print(f"{time.strftime('%H:%M:%S')}  {len(acks)} orders acknowledged, {gap}", flush=True)
    except NotImplementedError as exc:
        sys.exit(f"writer.py: write_orders() is not written yet ({exc})")
    except KeyboardInterrupt:
        sys.exit(0)
