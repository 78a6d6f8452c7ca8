"""Typical wrong answers for memorydb-durability, each proven caught by `labrunner test`."""

import time


def hello_only_on_memorydb(memorydb):
    memorydb.set("lab:hello", "world")


def orders_only_on_memorydb(memorydb, lab):
    lab.modules["solutions"].write_all(memorydb)


def orders_written_with_aof_off(memorydb, fault, lab):
    """Orders written while the append-only file is off are not in it: a crash loses them."""
    memorydb.flushall()                                # logged: the file now ends empty
    memorydb.config_set("appendonly", "no")
    lab.modules["solutions"].write_all(memorydb)       # not logged
    lab.modules["solutions"].crash_both(fault)


def memorydb_not_crashed(fault):
    fault("kill", "elasticache")
    fault("restart", "elasticache")


def answers_with_everysec(workspace):
    workspace.file("answers.yaml").write_text(
        "memorydb_appendonly: yes\nmemorydb_appendfsync: everysec\nelasticache_appendonly: no\n"
        "survives_a_node_loss: memorydb\n", encoding="utf-8")


def fsync_without_appendonly(elasticache):
    elasticache.config_set("appendfsync", "everysec")


def hello_as_a_list(memorydb, elasticache):
    """RPUSH where SET was meant: the key is there, but a list."""
    for conn in (memorydb, elasticache):
        conn.rpush("lab:hello", "world")


def written_at_as_a_date(memorydb, elasticache, lab):
    """The orders, and the time written as a date instead of a Unix time."""
    for conn in (memorydb, elasticache):
        lab.modules["solutions"].write_all(conn)
        conn.set("lab:written_at", "2026-11-30 16:20")


def clean_restart_instead_of_kill(fault):
    """fault stop (SIGTERM) and restart: the servers shut down in good order, as no lost node does."""
    for service in ("memorydb", "elasticache"):
        fault("stop", service)
    for service in ("memorydb", "elasticache"):
        fault("restart", service)


def cache_said_to_survive(workspace):
    workspace.file("answers.yaml").write_text(
        "memorydb_appendonly: yes\nmemorydb_appendfsync: always\nelasticache_appendonly: no\n"
        "survives_a_node_loss: elasticache\n", encoding="utf-8")


def everysec_on_memorydb_instead(memorydb):
    memorydb.config_set("appendfsync", "everysec")


def written_at_in_milliseconds(memorydb, elasticache, lab):
    """The time in milliseconds (Date.now(), date +%s%3N): step 3 would read it as far in the future."""
    for conn in (memorydb, elasticache):
        lab.modules["solutions"].write_all(conn)
        conn.set("lab:written_at", int(time.time() * 1000))


def cache_refilled_after_the_crash(elasticache, fault, lab):
    """Both killed and back, then write_orders.py run again: the cache is full of orders once more."""
    lab.modules["solutions"].crash_both(fault)
    lab.modules["solutions"].write_all(elasticache)


def aof_set_then_restarted(elasticache, fault):
    """The right CONFIG SETs, then a restart of the cache: its startup settings come back."""
    elasticache.config_set("appendonly", "yes")
    elasticache.config_set("appendfsync", "everysec")
    fault("kill", "elasticache")
    fault("restart", "elasticache")
