"""Step 5: one order, one transaction.

Write place_order(conn, order_id, customer_id, total, discount_code): record
an order in shop.orders AND the discount code it used in shop.discounts_used,
as ONE transaction. Either both rows are there afterwards, or neither is.

- conn is a psycopg 3 connection in its default mode (not autocommit): the
  first statement opens a transaction, and nothing is kept until
  conn.commit().
- Two INSERTs with %s placeholders (never build SQL with f-strings), then
  conn.commit().
- If anything fails (a negative total breaks the CHECK, an unknown customer
  the foreign key, a missing code the NOT NULL), call conn.rollback() so that
  nothing of the order stays, and re-raise the error: the caller must see it.
- Return the order_id.

Create the table shop.discounts_used first (see the step's text).

Try it:  python place_order.py   (after  eval "$(labrunner env)")
"""


def place_order(conn, order_id, customer_id, total, discount_code):
    """Insert an order and the discount it used, all or nothing; return order_id.

    conn          -- a psycopg 3 connection, not in autocommit mode
    order_id      -- the new order's id (an int not yet in shop.orders)
    customer_id   -- an existing shop.customers.customer_id, e.g. 42
    total         -- the amount, a Decimal (or int) >= 0, e.g. Decimal("19.99")
    discount_code -- the code the customer used, e.g. "SPRING10"

    On any error, rolls the transaction back (neither row stays) and
    re-raises it, e.g. psycopg.errors.CheckViolation for a negative total.
    """
    try:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO shop.orders (order_id, customer_id, ordered_at, total)"
                " VALUES (%s, %s, now(), %s)",
                (order_id, customer_id, total),
            )
            cur.execute(
                "INSERT INTO shop.discounts_used (order_id, code) VALUES (%s, %s)",
                (order_id, discount_code),
            )
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    return order_id


if __name__ == "__main__":
    import os
    from decimal import Decimal

    import psycopg

    if not os.environ.get("PGHOST"):
        raise SystemExit(
            "PGHOST is not set, so there is no lab database to talk to.\n"
            'Run  eval "$(labrunner env)"  first (PowerShell:'
            "  labrunner env --shell powershell | Invoke-Expression)."
        )

    def stored(conn, order_id):
        """Which of the two rows exist for order_id (read in a fresh transaction)."""
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM shop.orders WHERE order_id = %s),"
            "       EXISTS (SELECT 1 FROM shop.discounts_used WHERE order_id = %s)",
            (order_id, order_id),
        ).fetchone()
        conn.rollback()  # end this read-only transaction: leave conn idle
        return f"order row: {'yes' if row[0] else 'no'}, discount row: {'yes' if row[1] else 'no'}"

    # psycopg.connect() with no arguments reads PGHOST, PGPORT, PGUSER,
    # PGPASSWORD and PGDATABASE, which  labrunner env  set.
    with psycopg.connect() as conn:
        next_id = conn.execute(
            "SELECT coalesce(max(order_id), 0) + 1 FROM shop.orders"
        ).fetchone()[0]
        conn.rollback()

        placed = place_order(conn, next_id, 42, Decimal("19.99"), "SPRING10")
        print(f"Placed order {placed} for customer 42 with SPRING10: {stored(conn, placed)}")

        attempts = [
            ("a negative total", next_id + 1, 42, Decimal("-5.00"), "SPRING10"),
            ("an unknown customer", next_id + 1, 999999, Decimal("12.00"), "SPRING10"),
            ("no discount code", next_id + 1, 42, Decimal("12.00"), None),
        ]
        for what, order_id, customer_id, total, code in attempts:
            try:
                place_order(conn, order_id, customer_id, total, code)
                print(f"Oops: order {order_id} with {what} was accepted")
            except psycopg.errors.IntegrityError as err:
                print(f"Refused {what} ({type(err).__name__}): {stored(conn, order_id)}")
