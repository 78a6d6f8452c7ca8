"""Your cache in front of the shop's database: the file you change in this lab.

    product_report(db, cache, product_id)       steps 2 and 3
    update_price(db, cache, product_id, price)  steps 4 and 5

`db` is a psycopg connection to PostgreSQL (the source of truth), `cache` a
redis-py client with decode_responses=True (the ElastiCache stand-in).
"""

import json

from shop import report_from_db, set_price

TTL_SECONDS = 300          # five minutes: how stale a cached report may get (step 3)


def cache_key(product_id):
    """One key per product: report:<id>."""
    return f"report:{product_id}"


def product_report(db, cache, product_id):
    """Cache-aside (lazy loading): the cache first; on a miss the database, then the cache."""
    cached = cache.get(cache_key(product_id))
    if cached is not None:
        return json.loads(cached)                      # a hit: PostgreSQL is not asked
    report = report_from_db(db, product_id)            # a miss: ask the source of truth
    if report is not None:
        cache.set(cache_key(product_id), json.dumps(report), ex=TTL_SECONDS)
    return report


def update_price(db, cache, product_id, price):
    """Write-through: write to the database, then put the new report in the cache."""
    set_price(db, product_id, price)
    report = report_from_db(db, product_id)
    cache.set(cache_key(product_id), json.dumps(report), ex=TTL_SECONDS)
