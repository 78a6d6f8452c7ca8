"""Checks for memorydb-durability: each reads the live servers.

Fixtures: memorydb and elasticache (valkey clients, decode_responses=True), workspace.
"""

import time

from labrunner.checks import expect, fail

ORDERS = [f"order:{n}" for n in range(1, 10001)]


def _orders(conn):
    return conn.exists(*ORDERS)


def _config(conn, key):
    return conn.config_get(key).get(key, "")


# ---- step 1: connect -------------------------------------------------------------

def hello_in_both(memorydb, elasticache):
    for name, conn in (("memorydb", memorydb), ("elasticache", elasticache)):
        value = conn.get("lab:hello")
        expect(value is not None, f"{name} has no key lab:hello yet (SET lab:hello world)")
        expect(value == "world", f"lab:hello on {name} is {value!r}; expected 'world'")


# ---- step 2: write -----------------------------------------------------------------

def _has_the_orders(name, conn):
    count = _orders(conn)
    expect(count == len(ORDERS), f"{name} has {count} of the {len(ORDERS)} orders (order:1 … order:10000) — "
                                 "run python write_orders.py in your workspace")
    expect(conn.get("lab:written_at"), f"{name} has no lab:written_at: write_orders.py sets it last")


def memorydb_has_the_orders(memorydb):
    _has_the_orders("memorydb", memorydb)


def elasticache_has_the_orders(elasticache):
    _has_the_orders("elasticache", elasticache)


# ---- step 3: crash --------------------------------------------------------------------

def _restarted_since_write(conn) -> bool | None:
    """Whether the server was restarted after the orders were written (None: cannot tell)."""
    info = conn.info("server")
    run_id = conn.get("lab:run_id")
    if run_id:
        return run_id != info["run_id"]
    written = conn.get("lab:written_at")
    if written:
        return info["uptime_in_seconds"] < time.time() - float(written)
    return None


def memorydb_kept_every_order(memorydb):
    if _restarted_since_write(memorydb) is False:
        fail("memorydb has not crashed since you wrote the orders: labrunner fault kill memorydb, "
             "then labrunner fault restart memorydb")
    count = _orders(memorydb)
    expect(count == len(ORDERS), f"memorydb has {count} of the {len(ORDERS)} orders after the crash "
                                 f"(appendonly is {_config(memorydb, 'appendonly')}, appendfsync "
                                 f"{_config(memorydb, 'appendfsync')}): a durable store keeps every acknowledged write")


def elasticache_lost_its_orders(elasticache):
    count = _orders(elasticache)
    if count == 0:
        return
    # A few orders put back by lazy loading (step 3's "then") are fine once the crash is shown.
    expect(elasticache.get("lab:written_at") is None and count < 100,
           f"elasticache still holds {count} of the orders: it has not lost its node yet — "
           "labrunner fault kill elasticache, then labrunner fault restart elasticache")
    return f"{count} orders are back, loaded again after the crash"


# ---- step 4: explain --------------------------------------------------------------------

def _answer(value) -> str:
    """YAML reads yes/no as booleans: take them back to the words CONFIG GET uses."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return "" if value is None else str(value).strip().lower()


def answers_match_the_servers(workspace, memorydb, elasticache):
    import yaml

    path = workspace.file("answers.yaml")
    expect(path.exists(), f"there is no answers.yaml in your workspace ({workspace.path})")
    try:
        answers = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        fail(f"answers.yaml is not valid YAML: {str(exc).splitlines()[0]}")
    expect(isinstance(answers, dict), "answers.yaml should hold `key: value` lines")
    truth = {
        "memorydb_appendonly": (_config(memorydb, "appendonly"), "CONFIG GET appendonly on memorydb"),
        "memorydb_appendfsync": (_config(memorydb, "appendfsync"), "CONFIG GET appendfsync on memorydb"),
        "elasticache_appendonly": (_config(elasticache, "appendonly"), "CONFIG GET appendonly on elasticache"),
        "survives_a_node_loss": ("memorydb", "what step 3 showed"),
    }
    for key, (want, where) in truth.items():
        got = _answer(answers.get(key))
        expect(got, f"answers.yaml: {key} is empty — {where} tells")
        expect(got == want, f"answers.yaml: {key} is {got!r}; {where} says otherwise")


# ---- step 5: trade-off ---------------------------------------------------------------------

def elasticache_appends_every_second(elasticache):
    appendonly, fsync = _config(elasticache, "appendonly"), _config(elasticache, "appendfsync")
    expect(appendonly == "yes", f"appendonly is {appendonly} on elasticache; expected yes (CONFIG SET appendonly yes)")
    expect(fsync == "everysec", f"appendfsync is {fsync} on elasticache; expected everysec")
