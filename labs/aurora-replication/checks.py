"""Checks for aurora-replication.

Fixtures: aurora (the master user through the cluster endpoint, autocommit), aurora_node(name)
(one instance endpoint), aurora_cluster (status, fault, failover), session, answer. The learner's
functions read WRITER_URL and READER_URL from the environment, as an application reads its
configuration; checks call them through the answer runner, which sets both.
"""

import random
import time
from decimal import Decimal

from labrunner.checks import expect, fail
from labrunner.labs.shared import load

reader_down = load("reader_down", __file__)

READERS_WAIT = 10.0        # seconds a check waits for the readers to replay what it wrote
ROUND_TIMEOUT = 15.0       # seconds the learner's reads may take while one reader is down


def _rows(conn, sql, args=None):
    cur = conn.execute(sql, args)
    return cur.fetchall() if cur.description else []


def _writer_and_readers(aurora_cluster):
    found = aurora_cluster.status()
    nodes = found.get("nodes", [])
    writer = found.get("writer")
    readers = [n["name"] for n in nodes if n["name"] != writer and n.get("alive")]
    expect(writer, "the cluster has no writer right now: `labrunner status` shows its nodes")
    return writer, readers


def _urls(session):
    endpoint = session.endpoint("aurora-postgresql")
    names = {"cluster endpoint": endpoint, "reader endpoint": endpoint.at("reader")}
    for node in ("aurora-1", "aurora-2", "aurora-3"):
        names[node] = endpoint.at(node)
    return {label: e.url for label, e in names.items()}


def _wait_for_readers(aurora, aurora_node, readers):
    """Until every reader has replayed everything the writer has written so far."""
    target = _rows(aurora, "SELECT pg_current_wal_lsn()")[0][0]
    deadline = time.monotonic() + READERS_WAIT
    for name in readers:
        with aurora_node(name) as conn:
            while True:
                behind = _rows(conn, "SELECT pg_wal_lsn_diff(%s, pg_last_wal_replay_lsn())", (target,))[0][0]
                if behind is not None and behind <= 0:
                    break
                if time.monotonic() > deadline:
                    fail(f"{name} has not replayed the writer's last changes after {READERS_WAIT:.0f} s: "
                         "`labrunner status` shows the cluster (is its replay paused? "
                         "SELECT pg_wal_replay_resume() on it)")
                time.sleep(0.1)


class _ReplayPaused:
    """Pause WAL replay on some readers for the length of a check (a reader that falls behind)."""

    def __init__(self, aurora_node, names):
        self.aurora_node, self.names = aurora_node, names

    def __enter__(self):
        for name in self.names:
            with self.aurora_node(name) as conn:
                conn.execute("SELECT pg_wal_replay_pause()")
        return self

    def __exit__(self, *exc):
        for name in self.names:
            with self.aurora_node(name) as conn:
                conn.execute("SELECT pg_wal_replay_resume()")


# ---- step 1: endpoints ------------------------------------------------------------------------

def _orders_columns(conn):
    return {name: (kind, default, identity) for name, kind, default, identity in _rows(
        conn, "SELECT column_name, data_type, column_default, is_identity FROM information_schema.columns "
              "WHERE table_schema = 'shop' AND table_name = 'orders'")}


def orders_table_is_right(aurora):
    columns = _orders_columns(aurora)
    if not columns:
        found = [f"{s}.{t}" for s, t in _rows(aurora, "SELECT table_schema, table_name FROM information_schema.tables "
                                                      "WHERE table_name = 'orders'")]
        fail("there is no table shop.orders on the writer yet" + (f" (there is {', '.join(found)}: create it in "
                                                                  "schema shop)" if found else ""))
    for name in ("order_id", "customer_id", "total"):
        expect(name in columns, f"shop.orders has no column {name} (it has: {', '.join(sorted(columns))})")
    kind, default, identity = columns["order_id"]
    expect(identity == "YES" or (default or "").startswith("nextval("),
           "shop.orders.order_id has no default: make it GENERATED ALWAYS AS IDENTITY, so the database numbers orders")
    expect(columns["total"][0] == "numeric", f"shop.orders.total is {columns['total'][0]}; money wants numeric(10,2)")


def every_node_has_the_orders(aurora, aurora_node, aurora_cluster):
    orders_table_is_right(aurora)
    count = _rows(aurora, "SELECT count(*) FROM shop.orders")[0][0]
    expect(count > 0, "shop.orders is empty on the writer: INSERT an order through the cluster endpoint")
    writer, readers = _writer_and_readers(aurora_cluster)
    _wait_for_readers(aurora, aurora_node, readers)
    for name in readers:
        with aurora_node(name) as conn:
            there = _rows(conn, "SELECT count(*) FROM shop.orders")[0][0]
        expect(there == count, f"{name} has {there} orders, the writer {count}")
    return f"{count} order(s) on the writer {writer}, and the same on {' and '.join(readers)}"


# ---- step 2: who is who ---------------------------------------------------------------------------

def role_of_tells_writer_from_reader(session, aurora_cluster, answer):
    writer, _ = _writer_and_readers(aurora_cluster)
    urls = _urls(session)
    labels = list(urls)
    random.shuffle(labels)
    results = answer.run("cluster.py", [("role_of", (urls[label],)) for label in labels])
    for label, result in zip(labels, results):
        got = result.value_or_fail()
        want = "writer" if label in ("cluster endpoint", writer) else "reader"
        expect(got in ("writer", "reader"), f"role_of({label}) returned {got!r}; expected 'writer' or 'reader'")
        if got != want:
            fail(f"role_of said {got!r} for the {label if 'endpoint' in label else 'instance ' + label}, which "
                 f"reaches a {want}: ask the server whether it is replaying a writer's WAL (pg_is_in_recovery())")
    return f"role_of named the writer ({writer}) and the readers through every endpoint"


# ---- step 3: replica lag ------------------------------------------------------------------------------

def replica_lag_sees_a_reader_fall_behind(aurora, aurora_node, aurora_cluster, answer):
    writer, readers = _writer_and_readers(aurora_cluster)
    expect(len(readers) == 2, f"this check needs both readers up; the cluster has {', '.join(readers) or 'none'}")
    behind = random.choice(readers)
    other = next(r for r in readers if r != behind)
    aurora.execute("CREATE TABLE IF NOT EXISTS public.labrunner_lag_probe (n int)")
    _wait_for_readers(aurora, aurora_node, readers)
    with _ReplayPaused(aurora_node, [behind]):
        aurora.execute("INSERT INTO public.labrunner_lag_probe SELECT generate_series(1, 20000)")
        deadline = time.monotonic() + READERS_WAIT       # the other reader catches up; the paused one cannot
        with aurora_node(other) as conn:
            target = _rows(aurora, "SELECT pg_current_wal_lsn()")[0][0]
            while _rows(conn, "SELECT pg_wal_lsn_diff(%s, pg_last_wal_replay_lsn())", (target,))[0][0] > 0:
                if time.monotonic() > deadline:
                    fail(f"{other} did not catch up with the writer in {READERS_WAIT:.0f} s")
                time.sleep(0.1)
        result = answer.call("cluster.py", "replica_lag")
    aurora.execute("DROP TABLE public.labrunner_lag_probe")
    lags = result.value_or_fail()
    expect(isinstance(lags, dict), f"replica_lag() returned {lags!r}; expected a dict, reader -> bytes behind")
    named = {str(k).replace("_", "-"): v for k, v in lags.items()}
    expect(set(named) == set(readers), f"replica_lag() named {', '.join(map(str, lags)) or 'no reader'}; the readers "
                                       f"are {' and '.join(readers)} (pg_stat_replication's application_name)")
    expect(all(isinstance(v, (int, float, Decimal)) for v in named.values()),
           f"replica_lag() returned {lags!r}: each value should be a number of bytes")
    expect(named[behind] > 0, f"replica_lag() says {behind} is {named[behind]} bytes behind, but its replay was "
                              "paused while the writer wrote 20,000 rows: compare the writer's position with what "
                              "the reader has REPLAYED (replay_lsn), not what it was sent or wrote")
    expect(named[other] < named[behind], f"replica_lag() says {other} ({named[other]} bytes) is no closer than "
                                         f"{behind} ({named[behind]}), which had stopped replaying")
    return f"replica_lag saw {behind} fall {int(named[behind]):,} bytes behind while {other} kept up"


# ---- step 4: read your own writes ----------------------------------------------------------------------

def placed_order_shows_at_once(aurora, aurora_node, aurora_cluster, answer):
    orders_table_is_right(aurora)
    writer, readers = _writer_and_readers(aurora_cluster)
    customer = random.randint(5000, 9000)
    before = [Decimal(t) for (t,) in _rows(aurora, "SELECT total FROM shop.orders WHERE customer_id = %s", (customer,))]
    total = Decimal(random.randint(500, 9999)) / 100
    through = _cluster_endpoint_connections(aurora_cluster)
    with _ReplayPaused(aurora_node, readers):          # the readers fall behind, as they may at any moment
        result = answer.call("shop_api.py", "place_order", customer, str(total))
    through = _cluster_endpoint_connections(aurora_cluster) - through
    shown = result.value_or_fail()
    stored = [Decimal(t) for (t,) in _rows(aurora, "SELECT total FROM shop.orders WHERE customer_id = %s", (customer,))]
    expect(len(stored) == len(before) + 1 and total in stored,
           f"place_order({customer}, '{total}') did not store one order of {total} for customer {customer} "
           f"(the writer has {stored or 'none'}) — did it COMMIT?")
    expect(isinstance(shown, list), f"place_order returned {shown!r}; expected the list of the customer's totals")
    got = sorted(Decimal(str(t)) for t in shown)
    if total not in got:
        fail(f"place_order({customer}, '{total}') returned {shown!r}: the order it just placed is missing. The "
             "readers had not replayed it yet (replica lag): read your own writes through the cluster endpoint")
    expect(got == sorted(stored), f"place_order returned {shown!r}; the customer's orders are {sorted(stored)}")
    expect(through > 0,
           f"place_order reached the writer without the cluster endpoint (it made no connection through it): "
           f"{writer}'s instance endpoint reaches the writer only until a failover makes {writer} a reader. "
           "Connect to WRITER_URL, the cluster endpoint, which always reaches the current writer")
    return f"the new order showed at once, although every reader was behind"


def _cluster_endpoint_connections(aurora_cluster):
    """How many client connections the cluster endpoint has taken so far (the router counts them)."""
    return aurora_cluster.status()["connections_accepted"]["cluster"]


# ---- step 5: read scaling -------------------------------------------------------------------------------

def _scans(conn):
    row = _rows(conn, "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables "
                      "WHERE schemaname = 'shop' AND relname = 'orders'")
    return row[0][0] if row else 0


def _scans_per_node(aurora_node, names):
    counts = {}
    for name in names:
        with aurora_node(name) as conn:
            counts[name] = _scans(conn)
    return counts


def reads_go_to_the_readers(aurora, aurora_node, aurora_cluster, answer):
    orders_table_is_right(aurora)
    writer, readers = _writer_and_readers(aurora_cluster)
    customers = random.sample(range(10000, 20000), 3)
    expected = {}
    for customer in customers:
        totals = [Decimal(random.randint(100, 9999)) / 100 for _ in range(random.randint(1, 4))]
        for t in totals:
            aurora.execute("INSERT INTO shop.orders (customer_id, total) VALUES (%s, %s)", (customer, t))
        expected[customer] = sorted(totals)
    _wait_for_readers(aurora, aurora_node, readers)
    nodes = [writer, *readers]
    before = _scans_per_node(aurora_node, nodes)
    asked, results = [], []
    for paused in random.sample(readers, len(readers)):
        # One reader at a time is down (as a reader being rebooted or replaced is): the reader
        # endpoint stops choosing it, and reads sent there carry on; reads sent to that reader's
        # own instance endpoint fail.
        round_ = [customer for customer in customers for _ in range(2)]
        # Stopped (and restarted after), not paused: a read sent to a stopped reader's instance
        # endpoint is refused at once, where a paused one keeps the learner waiting a round.
        with reader_down.ReaderDown(aurora_cluster, paused, "stop", READERS_WAIT):
            got = answer.run("shop_api.py", [("orders_of", (customer,)) for customer in round_], timeout=ROUND_TIMEOUT)
        stuck = next((r for r in got if r.error_type in ("Timeout", "OperationalError", "ConnectionTimeout")), None)
        if stuck:
            said = (f"did not answer within {ROUND_TIMEOUT:.0f} s" if stuck.error_type == "Timeout" else
                    f"raised {stuck.error_type}: {stuck.error_message[:100]}")
            fail(f"orders_of {said} while {paused} was down, although the "
                 f"reader endpoint had stopped choosing it and {' and '.join(r for r in readers if r != paused)} "
                 f"was serving: it reads from {paused}'s own instance endpoint. Connect to READER_URL, the reader "
                 "endpoint, which spreads connections over the readers that answer")
        asked += round_
        results += got
    for customer, result in zip(asked, results):
        got = result.value_or_fail()
        expect(isinstance(got, list) and sorted(Decimal(str(t)) for t in got) == expected[customer],
               f"orders_of({customer}) returned {got!r}; customer {customer} has {[str(t) for t in expected[customer]]}")
    deadline = time.monotonic() + 5           # a backend reports its counts when it ends
    while True:
        after = _scans_per_node(aurora_node, nodes)
        served = {name: after[name] - before[name] for name in nodes}
        if sum(served[r] for r in readers) >= len(asked) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    on_readers = sum(served[r] for r in readers)
    expect(served[writer] == 0 and on_readers > 0,
           f"of your {len(asked)} reads, the writer ({writer}) served {served[writer]} and the readers {on_readers}: "
           "send reads to the reader endpoint (READER_URL), so the writer keeps its capacity for writes")
    spread = ", ".join(f"{r} {served[r]}" for r in readers)
    return f"the readers served your {len(asked)} reads ({spread}); the writer served none"
