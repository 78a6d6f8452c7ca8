"""Step 2: how much faster is a read from the cache? Measure it.

    python measure.py

Run  eval "$(labrunner env)"  in this shell first (it sets PGHOST ... and
ELASTICACHE_URL). It reads the reports of 5 products 8 times each through
product_report() in cache.py, then asks the cache server for its own counters
(INFO stats: keyspace_hits and keyspace_misses, before and after, so the
hit ratio is for these 40 reads only), and times report_from_db() alone,
straight from PostgreSQL. It prints the p50 of each (the median: half the
reads were faster, half slower) as a small chart.
"""

import os
import random
import statistics
import sys
import time

PRODUCTS = 5
READS_EACH = 8
WIDTH = 40                  # characters of the longest bar


def p50_ms(seconds):
    return statistics.median(seconds) * 1000


def chart(rows, width=WIDTH):
    """Lines of a bar chart: rows are (label, milliseconds); the longest bar is `width` wide."""
    longest = max(ms for _, ms in rows) or 1
    pad = max(len(label) for label, _ in rows)
    lines = []
    for label, ms in rows:
        bar = "█" * max(1, round(ms / longest * width))
        lines.append(f"{label:<{pad}}  {bar} {ms:.2f} ms")
    return lines


def hit_ratio(before, after):
    """(hits, misses, ratio) between two INFO stats; the ratio is 0.0 when nothing was looked up."""
    hits = after["keyspace_hits"] - before["keyspace_hits"]
    misses = after["keyspace_misses"] - before["keyspace_misses"]
    return hits, misses, hits / (hits + misses) if hits + misses else 0.0


def main():
    import psycopg
    import redis

    from cache import product_report
    from shop import report_from_db

    if "ELASTICACHE_URL" not in os.environ or "PGHOST" not in os.environ:
        sys.exit('ELASTICACHE_URL or PGHOST is not set: run  eval "$(labrunner env)"  first.')
    db = psycopg.connect(connect_timeout=5)
    url = os.environ["ELASTICACHE_URL"]          # redis-py reads redis://; valkey:// names the same server
    cache = redis.Redis.from_url("redis://" + url.split("://", 1)[1], decode_responses=True)
    products = random.sample(range(1, 2001), PRODUCTS)

    before = cache.info("stats")            # the server's counters since it started
    cached = []
    for product_id in products:
        for _ in range(READS_EACH):
            started = time.perf_counter()
            product_report(db, cache, product_id)
            cached.append(time.perf_counter() - started)
    hits, misses, ratio = hit_ratio(before, cache.info("stats"))

    direct = []
    for product_id in products:
        started = time.perf_counter()
        report_from_db(db, product_id)
        direct.append(time.perf_counter() - started)

    print(f"hit ratio {ratio:.0%}: keyspace_hits {hits}, keyspace_misses {misses} (INFO stats)")
    print("\n".join(chart([(f"p50 of {len(cached)} reads through cache.py", p50_ms(cached)),
                           (f"p50 of {len(direct)} reads from PostgreSQL", p50_ms(direct))])))


if __name__ == "__main__":
    main()
