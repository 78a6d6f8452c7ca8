"""Step 1: load the shop into PostgreSQL: 2,000 products and 300,000 order lines.

    python load_shop.py

Run  eval "$(labrunner env)"  in this shell first: it sets PGHOST, PGPORT,
PGUSER, PGPASSWORD and PGDATABASE, which psycopg.connect() reads.

The data is made up, and the same on every run: PostgreSQL's generate_series()
makes the rows on the server, so the load takes seconds and sends no data over
the network. Running it again starts the shop over.
"""

import time

import psycopg

PRODUCTS = 2_000
ORDER_LINES = 300_000

SCHEMA = """
DROP TABLE IF EXISTS order_lines, products;
CREATE TABLE products (
    id       integer PRIMARY KEY,
    name     text NOT NULL UNIQUE,
    category text NOT NULL,
    price    numeric(8, 2) NOT NULL CHECK (price > 0)
);
CREATE TABLE order_lines (
    id         bigint PRIMARY KEY,
    product_id integer NOT NULL REFERENCES products,
    qty        integer NOT NULL CHECK (qty > 0),
    unit_price numeric(8, 2) NOT NULL,
    ordered_at timestamptz NOT NULL
);
"""

# The SQL is built from the two constants above (our own numbers, never user input).
# Eight kinds of product, each in a category; product n is kind n % 8.
PRODUCTS_SQL = f"""
INSERT INTO products (id, name, category, price)
SELECT n,
       format('%s #%s', (ARRAY['Tea', 'Coffee', 'Biscuits', 'Jam', 'Honey', 'Oats', 'Rice', 'Soap'])[n % 8 + 1],
              lpad(n::text, 4, '0')),
       (ARRAY['drinks', 'drinks', 'bakery', 'pantry', 'pantry', 'breakfast', 'pantry', 'household'])[n % 8 + 1],
       1.50 + (n * 37 % 900) / 100.0
FROM generate_series(1, {PRODUCTS}) AS n
"""

# Line g buys 1 to 4 of one product, picked by u, a number from 0 to 1,999 that looks random
# (hashint4 is PostgreSQL's own hash of an integer: the same on every run); mapping u through
# (u * u / 2000 + u) / 2 makes low ids sell about three times as well as high ones.
ORDER_LINES_SQL = f"""
INSERT INTO order_lines (id, product_id, qty, unit_price, ordered_at)
SELECT s.g, p.id, s.qty, p.price, timestamptz '2026-01-01' + s.g * interval '100 seconds'
FROM (SELECT g, abs(hashint4(g)::bigint) % {PRODUCTS} AS u, 1 + abs(hashint4(-g)::bigint) % 4 AS qty
      FROM generate_series(1, {ORDER_LINES}) AS g) AS s
JOIN products p ON p.id = (s.u * s.u / {PRODUCTS} + s.u) / 2 + 1
"""


def load(conn):
    """Create the two tables and fill them; return (products, order lines)."""
    with conn.cursor() as cur:
        cur.execute(SCHEMA)
        cur.execute(PRODUCTS_SQL)
        cur.execute(ORDER_LINES_SQL)
        cur.execute("ANALYZE products, order_lines")       # fresh statistics for the planner
        counts = cur.execute("SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM order_lines)").fetchone()
    conn.commit()
    return counts


def main():
    from shop import report_from_db

    with psycopg.connect(connect_timeout=5) as conn:
        started = time.perf_counter()
        products, lines = load(conn)
        print(f"loaded {products:,} products and {lines:,} order lines "
              f"in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        report = report_from_db(conn, 42)
        print(f"report_from_db(conn, 42) took {(time.perf_counter() - started) * 1000:.0f} ms:")
        print(report)


if __name__ == "__main__":
    main()
