"""Your cache in front of the shop's database: the file you change in this lab.

    product_report(db, cache, product_id)       steps 2 and 3
    update_price(db, cache, product_id, price)  steps 4 and 5

`db` is a psycopg connection to PostgreSQL (the source of truth), `cache` a
redis-py client with decode_responses=True (the ElastiCache stand-in). You can
try them yourself:

    import psycopg, redis, os
    db = psycopg.connect()
    cache = redis.Redis.from_url(os.environ["ELASTICACHE_URL"], decode_responses=True)

`labrunner check` calls these functions with its own products and prices, and
measures them with the cache server's own statistics.
"""

import json  # noqa: F401  (you will need it: Valkey stores strings, the report is a dict)

from shop import report_from_db, set_price

TTL_SECONDS = 300          # five minutes: how stale a cached report may get (step 3)


def product_report(db, cache, product_id):
    """The product page's report: from the cache when it is there, else from PostgreSQL.

    Today it asks the database every time. Step 2 makes it cache-aside (lazy
    loading): look in the cache first; on a miss, ask the database and put the
    answer in the cache for next time. Step 3 gives that cached copy a TTL.
    """
    return report_from_db(db, product_id)


def update_price(db, cache, product_id, price):
    """Change a product's price in PostgreSQL, the source of truth.

    Step 4: once the database has the new price, no reader may get the old
    report from the cache. Step 5: write-through: put the new report in the
    cache as you write.
    """
    set_price(db, product_id, price)
