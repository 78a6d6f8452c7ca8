"""Step 2: write 10,000 orders to both servers, and time each.

Read this file before you run it: it is short, and each line is part of the
lesson.

    python write_orders.py

Run  eval "$(labrunner env)"  in this shell first: that sets MEMORYDB_URL and
ELASTICACHE_URL (valkey://:password@host:port/0, which connect() below hands
to redis-py as redis://), which this script reads. On AWS those URLs would
hold your cluster's endpoint instead, start with rediss:// (TLS) and carry
an AUTH token or an ACL user's password.

It writes the same keys to both servers: order:1 ... order:10000, each a small
JSON string, in pipelines of 1,000, then lab:written_at (the Unix time, in
seconds). Then it writes the first 200 orders again, one command at a time,
to time a single acknowledged write. Running it again is harmless: SET
replaces a key's value, so there are still 10,000 orders.

On AWS, MemoryDB always runs in cluster mode: its keys are spread over shards,
and you would connect with redis.cluster.RedisCluster, whose pipelines send
each command to the shard that holds its key.
"""

import json
import os
import sys
import time

import redis

ORDERS = 10_000
BATCH = 1_000                      # commands per pipeline (one round trip each)
ITEMS = ["tea", "coffee", "biscuits", "jam", "honey", "oats", "rice", "soap"]


def order(n):
    """A made-up order, the same every run: order n is always the same JSON."""
    qty = n % 5 + 1
    price_cents = 150 + (n * 37) % 900
    return {
        "id": n,
        "customer": f"customer-{n % 500 + 1:04d}",
        "item": ITEMS[n % len(ITEMS)],
        "qty": qty,
        "total": round(qty * price_cents / 100, 2),
    }


def write_orders(client, count=ORDERS, batch=BATCH):
    """SET order:1 ... order:<count> in pipelines of `batch`; return the seconds it took."""
    started = time.perf_counter()
    for first in range(1, count + 1, batch):
        # A pipeline sends `batch` commands in one go and reads all the replies
        # at the end: one network round trip instead of `batch` of them.
        # transaction=False: no MULTI/EXEC around it, just the commands.
        pipe = client.pipeline(transaction=False)
        for n in range(first, min(first + batch, count + 1)):
            pipe.set(f"order:{n}", json.dumps(order(n)))
        # The replies come back once the server has applied the writes and,
        # with appendfsync always, appended them to its AOF and fsynced it.
        pipe.execute()
    # Stamp the time the orders were written (an int, seconds since 1970).
    client.set("lab:written_at", int(time.time()))
    return time.perf_counter() - started


def one_at_a_time(client, count=200):
    """Write order:1 ... order:<count> again, one command and one reply at a time.

    Same keys and the same values as before, so nothing changes in the data:
    this only measures how long one acknowledged write takes on this server.
    Returns milliseconds per write.
    """
    started = time.perf_counter()
    for n in range(1, count + 1):
        client.set(f"order:{n}", json.dumps(order(n)))
    return (time.perf_counter() - started) * 1000 / count


def persistence(client):
    """How this server keeps its data, in words, from its own settings."""
    settings = client.config_get("appendonly", "appendfsync", "save")
    if settings["appendonly"] == "yes":
        return f"AOF, fsync {settings['appendfsync']}"
    return "no persistence" if not settings["save"] else f"snapshots ({settings['save']})"


def connect(url):
    """A redis-py client for a labrunner URL. redis-py reads redis:// URLs; a valkey:// URL names
    the same server, in Valkey's own words."""
    if url.startswith("valkey://"):
        url = "redis://" + url[len("valkey://"):]
    return redis.Redis.from_url(url, decode_responses=True)


def main():
    urls = {name: os.environ.get(var) for name, var in
            (("memorydb", "MEMORYDB_URL"), ("elasticache", "ELASTICACHE_URL"))}
    if not all(urls.values()):
        sys.exit("MEMORYDB_URL or ELASTICACHE_URL is not set.\n"
                 'Run  eval "$(labrunner env)"  first (PowerShell:'
                 "  labrunner env --shell powershell | Invoke-Expression).")
    row = "{:<12} {:<20} {:>18} {:>15} {:>7}"
    print(row.format("server", "persistence", f"{ORDERS:,} pipelined",
                     "one at a time", "keys"))
    for name, url in urls.items():
        client = connect(url)
        seconds = write_orders(client)
        per_write = one_at_a_time(client)
        print(row.format(name, persistence(client), f"{seconds:.2f} s",
                         f"{per_write:.2f} ms/write", f"{client.dbsize():,}"))
        client.close()


if __name__ == "__main__":
    main()
