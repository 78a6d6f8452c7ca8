"""Reference solutions for memorydb-durability (what `labrunner solve` applies)."""

import time

ORDERS = 10000


def say_hello(memorydb, elasticache):
    for conn in (memorydb, elasticache):
        conn.set("lab:hello", "world")


def write_all(conn):
    """What write_orders.py does: 10,000 orders in pipelines of 1,000, then the bookkeeping keys."""
    for start in range(1, ORDERS + 1, 1000):
        pipe = conn.pipeline(transaction=False)
        for n in range(start, start + 1000):
            pipe.set(f"order:{n}", f'{{"order_id": {n}, "total": {n % 97}.50}}')
        pipe.execute()
    conn.set("lab:run_id", conn.info("server")["run_id"])
    conn.set("lab:written_at", int(time.time()))


def write_orders(memorydb, elasticache):
    write_all(memorydb)
    write_all(elasticache)


def crash_both(fault):
    for service in ("memorydb", "elasticache"):
        fault("kill", service)
    for service in ("memorydb", "elasticache"):
        fault("restart", service)


def write_answers(workspace):
    workspace.install_solution("answers.yaml")


def cache_appends_every_second(elasticache):
    elasticache.config_set("appendonly", "yes")
    elasticache.config_set("appendfsync", "everysec")
