"""The shop's database side: PostgreSQL is the source of truth. Read it; do not change it.

Your cache goes in cache.py; this file is what the cache sits in front of.

    report_from_db(db, product_id)   the product page's report: slow, it aggregates
                                     every order line of the product's category
    set_price(db, product_id, price) change a price (and commit)

`db` is a psycopg connection. Connect with psycopg.connect() after
eval "$(labrunner env)": it reads PGHOST, PGPORT, PGUSER, PGPASSWORD and
PGDATABASE, the five settings an RDS instance gives you.
"""

# How well the product sells, and its rank among the products of its category.
# The rank needs every product of the category summed up first: an index on
# order_lines.product_id would not spare the database that work.
REPORT_SQL = """
WITH category_sales AS (
    SELECT p.id, p.name, p.category, p.price,
           coalesce(sum(l.qty), 0)                AS units_sold,
           coalesce(sum(l.qty * l.unit_price), 0) AS revenue
    FROM products p
    LEFT JOIN order_lines l ON l.product_id = p.id
    WHERE p.category = (SELECT category FROM products WHERE id = %(id)s)
    GROUP BY p.id
), ranked AS (
    SELECT *, rank() OVER (ORDER BY units_sold DESC) AS category_rank,
              count(*) OVER ()                       AS products_in_category
    FROM category_sales
)
SELECT id, name, category, price, units_sold, revenue, category_rank, products_in_category
FROM ranked WHERE id = %(id)s
"""

FIELDS = ("id", "name", "category", "price", "units_sold", "revenue", "category_rank",
          "products_in_category")


def report_from_db(db, product_id):
    """The report as a dict of strings and ints (JSON can hold it as it is), or None."""
    with db.cursor() as cur:
        cur.execute(REPORT_SQL, {"id": product_id})
        row = cur.fetchone()
    db.commit()                       # end the read's transaction: no idle transaction left open
    if row is None:
        return None
    report = dict(zip(FIELDS, row))
    report["price"] = str(report["price"])          # numeric -> "9.79": exact, and JSON-friendly
    report["revenue"] = str(report["revenue"])
    return report


def set_price(db, product_id, price):
    """UPDATE the price (a string such as "9.99", or a Decimal) and commit."""
    with db.cursor() as cur:
        cur.execute("UPDATE products SET price = %s WHERE id = %s", (str(price), product_id))
        if cur.rowcount != 1:
            raise ValueError(f"there is no product {product_id}")
    db.commit()
