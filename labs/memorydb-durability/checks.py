"""Checks for memorydb-durability: each reads the live servers.

Fixtures: memorydb and elasticache (redis-py clients, decode_responses=True), workspace, session.
"""

import time

from labrunner.checks import expect, fail

ORDERS = [f"order:{n}" for n in range(1, 10001)]


KINDS = {"list": "a list", "hash": "a hash", "set": "a set", "zset": "a sorted set", "stream": "a stream"}
CLEAN_STOP = ("User requested shutdown", "ready to exit", "Received SIGTERM", "Received SIGINT")
STARTING = "Valkey is starting"
WRITTEN_AT_AGE = 30 * 86400   # seconds: lab:written_at older than a month was not written in this lab


def _orders(conn):
    return conn.exists(*ORDERS)


def _config(conn, key):
    return conn.config_get(key).get(key, "")


def _text(conn, name, key, want="a string"):
    """The key's value if it is a string, None if it is not there; another type is the learner's
    to fix, and said so (GET would answer WRONGTYPE)."""
    kind = conn.type(key)
    if kind == "none":
        return None
    if kind != "string":
        fail(f"{key} on {name} holds {KINDS.get(kind, kind)}; expected {want} — DEL {key}, then SET it again")
    return conn.get(key)


def _unix_time(conn, name, key="lab:written_at"):
    value = _text(conn, name, key, want="a number")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        fail(f"{key} on {name} holds {value!r}; expected a number, the Unix time in seconds "
             "(date +%s in a shell, int(time.time()) in Python) — write_orders.py sets it")


def _how_it_stopped(session, name):
    """How the server's previous run ended, from its own log: "clean" (it logged a shutdown),
    "killed" (it logged nothing before the next start: SIGKILL, a lost node) or None (one run)."""
    from labrunner import lifecycle

    try:
        log = lifecycle.runtime_of(session).logs(session.services[name], lines=400)
    except Exception:
        return None
    runs = log.split(STARTING)
    if len(runs) < 3:                       # [before the first start, run 1, run 2, ...]
        return None
    return "clean" if any(marker in runs[-2] for marker in CLEAN_STOP) else "killed"


def _expect_killed(session, name):
    expect(_how_it_stopped(session, name) != "clean",
           f"{name} was shut down cleanly, not killed: its log says it was asked to shut down (SIGTERM or SHUTDOWN) "
           "and had time to finish. A lost node gets no such chance — labrunner fault kill "
           f"{name} (SIGKILL), then labrunner fault restart {name}")


# ---- step 1: connect -------------------------------------------------------------

def hello_in_both(memorydb, elasticache):
    for name, conn in (("memorydb", memorydb), ("elasticache", elasticache)):
        value = _text(conn, name, "lab:hello")
        expect(value is not None, f"{name} has no key lab:hello yet (SET lab:hello world)")
        expect(value == "world", f"lab:hello on {name} is {value!r}; expected 'world'")


# ---- step 2: write -----------------------------------------------------------------

def _has_the_orders(name, conn):
    count = _orders(conn)
    expect(count == len(ORDERS), f"{name} has {count} of the {len(ORDERS)} orders (order:1 … order:10000) — "
                                 "run python write_orders.py in your workspace")
    written = _unix_time(conn, name)
    expect(written, f"{name} has no lab:written_at: write_orders.py sets it last")
    now = time.time()
    unit = " — in milliseconds? " if written > now * 100 else " — "
    expect(now - WRITTEN_AT_AGE <= written <= now + 60,
           f"lab:written_at on {name} holds {written:.0f}, which is not a time of the last month{unit}"
           f"it must be the Unix time in seconds, now about {now:.0f} (date +%s in a shell, int(time.time()) in "
           "Python): step 3 compares it with the server's uptime to tell whether it restarted since")


def memorydb_has_the_orders(memorydb):
    _has_the_orders("memorydb", memorydb)


def elasticache_has_the_orders(elasticache):
    _has_the_orders("elasticache", elasticache)


# ---- step 3: crash --------------------------------------------------------------------

def _restarted_since_write(conn, name) -> bool | None:
    """Whether the server was restarted after the orders were written (None: cannot tell)."""
    info = conn.info("server")
    run_id = _text(conn, name, "lab:run_id")
    if run_id:
        return run_id != info["run_id"]
    written = _unix_time(conn, name)
    if written:
        return info["uptime_in_seconds"] < time.time() - written
    return None


def memorydb_kept_every_order(memorydb, session):
    if _restarted_since_write(memorydb, "memorydb") is False:
        fail("memorydb has not crashed since you wrote the orders: labrunner fault kill memorydb, "
             "then labrunner fault restart memorydb")
    _expect_killed(session, "memorydb")
    count = _orders(memorydb)
    expect(count == len(ORDERS), f"memorydb has {count} of the {len(ORDERS)} orders after the crash "
                                 f"(appendonly is {_config(memorydb, 'appendonly')}, appendfsync "
                                 f"{_config(memorydb, 'appendfsync')}): a durable store keeps every acknowledged write")


def elasticache_lost_its_orders(elasticache, session):
    count = _orders(elasticache)
    _expect_killed(session, "elasticache")
    if count == 0:
        return
    # A few orders put back by lazy loading (step 3's "then") are fine once the crash is shown.
    refilled = _how_it_stopped(session, "elasticache") == "killed" and _restarted_since_write(elasticache,
                                                                                              "elasticache") is False
    expect(not refilled or count < 100,
           f"elasticache was killed, but holds {count} of the orders again, written after its restart "
           "(lab:written_at is newer than its start): write_orders.py was run again and refilled it — "
           "labrunner fault kill elasticache, then labrunner fault restart elasticache, and leave the script be")
    expect(_text(elasticache, "elasticache", "lab:written_at") is None and count < 100,
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
    expect(appendonly == "yes", f"appendonly is {appendonly} on elasticache; expected yes (CONFIG SET appendonly yes). "
                                "CONFIG SET changes the running server only: a restart after it brings back its "
                                "startup settings, so set it again if elasticache was restarted since")
    expect(fsync == "everysec", f"appendfsync is {fsync} on elasticache; expected everysec")
