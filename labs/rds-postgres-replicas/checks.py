"""Checks for rds-postgres-replicas.

Fixtures: rds_instance (status, fault, failover, wait_replayed), session, answer. The learner's
functions in app.py read INSTANCE_URL and REPLICA_URL from the environment, as an application
reads its configuration; the answer runner sets them.

The checks seed their own orders (random ids, customers and totals) and make the replica lag on
purpose (pause its replay, or cut it off from the primary), so only code that reads from the
right place gives the right answer. The failover steps kill the primary themselves while the
learner's code runs, and count the acknowledged orders that were lost. Every check that disturbs
the instance waits, before it ends, until it is whole again (primary, standby, replica following).
"""

import random
import threading
import time
import uuid
from decimal import Decimal

from labrunner.checks import expect, fail
from labrunner.labs.shared import load
from labrunner.services import postgres

failover_client = load("failover_client", __file__)
commit_trace = load("commit_trace", __file__)

SERVICE = "rds-postgres-multiaz"
REPLICA = "replica-1"
KILL_AFTER = 25             # orders stored before the check kills the primary
PAUSE = 0.01                # seconds write_orders waits between two orders
RUN_TIMEOUT = 90.0          # seconds write_orders may take, failover included
WHOLE_WAIT = 90.0           # seconds to wait for the instance to be whole again
RDS_FAILOVER = "60–120 s"   # what AWS documents for a Multi-AZ DB instance failover
CLOCK_SLACK = 0.005         # seconds: the client's clock and the server's are the same machine's
REFUSE_FOR = 1.0            # seconds the primary refuses one order's COMMIT (serialization failures)
MOST_TRIES = 12             # attempts at that order within REFUSE_FOR beyond which the client did not back off


# ---- connections and the instance ------------------------------------------------------------

def _endpoint(session, where=None):
    endpoint = session.endpoint(SERVICE)
    return endpoint.at(where) if where else endpoint


def _connect(session, where=None, wait=30.0):
    """A fresh autocommit connection: the instance endpoint, "replica" (its endpoint) or a host,
    retried while a failover is under way."""
    return failover_client.retry_connect(postgres.connect, _endpoint(session, where),
                                         f"the {where or 'instance'} endpoint", wait)


def _rows(conn, sql, args=None):
    cur = conn.execute(sql, args)
    return cur.fetchall() if cur.description else []


def _query(session, sql, args=None, where=None):
    with _connect(session, where) as conn:
        return _rows(conn, sql, args)


def _roles(rds_instance):
    return {n["role"]: n["name"] for n in rds_instance.status().get("nodes", [])}


def _wait_whole(session, rds_instance, seconds=WHOLE_WAIT):
    """Until a primary, a standby and the replica are up, none rebuilding, and the replica has
    replayed the primary's last change."""
    deadline = time.monotonic() + seconds
    while True:
        nodes = rds_instance.status().get("nodes", [])
        roles = sorted(n["role"] for n in nodes)
        if "standalone" in roles:
            _promoted_by_hand()
        if roles == ["primary", "replica", "standby"] and all(n.get("alive") and not n.get("rejoining")
                                                              for n in nodes):
            break
        if time.monotonic() > deadline:
            fail(f"the instance is not whole {seconds:.0f} s after the check disturbed it "
                 f"({', '.join(n['name'] + ' ' + n['role'] for n in nodes)}): `labrunner status` shows it")
        time.sleep(0.3)
    rds_instance.wait_replayed(timeout=max(5.0, deadline - time.monotonic()))
    return _roles(rds_instance)


def _control(rds_instance, action):
    """One of the replica's control actions (pause-replay, detach, promote, ...)."""
    if action != "rebuild" and any(n["role"] == "standalone" for n in rds_instance.status().get("nodes", [])):
        _promoted_by_hand()
    rds_instance.fault(REPLICA, action)


def _promoted_by_hand():
    fail(f"{REPLICA} was promoted to a standalone instance (`labrunner promote`), and this check needs a read "
         f"replica: `labrunner promote {SERVICE} --new-replica` builds one in its place")


# ---- the table --------------------------------------------------------------------------------

def _table_is_right(session):
    columns = {name: (kind, default, identity) for name, kind, default, identity in _query(
        session, "SELECT column_name, data_type, column_default, is_identity FROM information_schema.columns "
                 "WHERE table_schema = 'shop' AND table_name = 'orders'")}
    if not columns:
        fail("there is no table shop.orders on the primary yet: create it through the instance endpoint "
             "(`psql` after `eval \"$(labrunner env)\"`)")
    for name in ("order_id", "customer_id", "total"):
        expect(name in columns, f"shop.orders has no column {name} (it has: {', '.join(sorted(columns))})")
    kind, default, identity = columns["order_id"]
    expect(identity != "YES" and not default,
           "shop.orders.order_id is numbered by the database; the client chooses it (a uuid), so a retry "
           "names the same order")
    expect(kind in ("uuid", "text", "character varying"), f"shop.orders.order_id is {kind}; make it uuid")
    key = _query(session, "SELECT array_agg(a.attname::text) FROM pg_index i JOIN pg_attribute a "
                          "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                          "WHERE i.indrelid = 'shop.orders'::regclass AND i.indisprimary")[0][0]
    expect(key == ["order_id"], f"the primary key of shop.orders is {key or 'missing'}; make it order_id")
    expect(columns["total"][0] == "numeric", f"shop.orders.total is {columns['total'][0]}; make it numeric(10, 2)")


def _order(customers=(1, 5000)):
    return [str(uuid.uuid4()), random.randint(*customers), f"{random.randint(100, 99999) / 100:.2f}"]


def _stored(session, ids, where=None):
    rows = _query(session, "SELECT order_id::text, customer_id, total FROM shop.orders "
                           "WHERE order_id::text = ANY(%s)", (list(ids),), where=where)
    return {order_id: (customer, total) for order_id, customer, total in rows}


def _explain(result, what, after=""):
    """A failure message for a learner's function that raised, naming the likely fault."""
    message = f"{result.error_type}: {result.error_message[:200]}"
    text = result.error_message
    if "pg_hba.conf rejects" in text:
        fail(f"{what} raised {message}{after}: it connected to the Multi-AZ standby's host, which accepts no "
             "connections at all — on RDS it has no endpoint. Write through INSTANCE_URL (it follows the "
             "primary) and read reports from REPLICA_URL")
    if "read-only" in text:
        fail(f"{what} raised {message}{after}: it reached the read replica, which takes no writes. Write "
             "through INSTANCE_URL, the instance endpoint")
    if result.error_type in ("UniqueViolation", "IntegrityError"):
        fail(f"{what} raised {message} for an order already stored: the same order twice must be harmless — "
             "INSERT ... ON CONFLICT (order_id) DO NOTHING")
    result.value_or_fail()


# ---- step 1: writes go to the instance endpoint -----------------------------------------------------

def place_order_through_the_instance_endpoint(session, rds_instance, answer):
    _table_is_right(session)
    old = _wait_whole(session, rds_instance)
    first, second = _order(), _order()
    _explain(answer.call("app.py", "place_order", *first), "place_order")
    expect(first[0] in _stored(session, [first[0]]),
           f"place_order{tuple(first)} returned, but order {first[0]} is not on the primary — did it COMMIT?")
    rds_instance.failover()                   # as reboot-db-instance --force-failover
    new = _wait_whole(session, rds_instance)
    expect(new["primary"] != old["primary"], f"the failover left {old['primary']} the primary: `labrunner status`")
    again = answer.run("app.py", [("place_order", tuple(second)), ("place_order", tuple(first))])
    after = f" after a failover ({old['primary']} → {new['primary']}, now the primary)"
    _explain(again[0], "place_order", after)
    _explain(again[1], "place_order", " when the check sent an order a second time (a retry)")
    there = _stored(session, [first[0], second[0]])
    expect(second[0] in there, f"place_order{tuple(second)} returned{after}, but the primary does not hold it")
    expect(there[second[0]] == (second[1], Decimal(second[2])),
           f"order {second[0]} is stored as {there[second[0]]}; it was sent as customer {second[1]}, total {second[2]}")
    count = _query(session, "SELECT count(*) FROM shop.orders WHERE order_id::text = %s", (first[0],))[0][0]
    expect(count == 1, f"order {first[0]} is stored {count} times")
    on_replica = _stored(session, [first[0], second[0]], where="replica")
    expect(len(on_replica) == 2, "the read replica does not hold both orders: `labrunner status` shows it")
    return (f"one order on {old['primary']}, one on {new['primary']} after the failover, both through the instance "
            f"endpoint; the replica ({REPLICA}) holds both; the repeated order was stored once")


# ---- step 2: reports from the replica ---------------------------------------------------------------

def _totals(session, min_total, where):
    return {c: t for c, t in _query(session, "SELECT customer_id, sum(total) FROM shop.orders GROUP BY customer_id "
                                             "HAVING sum(total) >= %s", (Decimal(min_total),), where=where)}


def _normal(found, what):
    expect(isinstance(found, dict), f"{what} returned {str(found)[:100]}; expected a dict {{customer_id: total}}")
    try:
        return {int(k): Decimal(str(v)).quantize(Decimal("0.01")) for k, v in found.items()}
    except (ValueError, ArithmeticError, TypeError):
        fail(f"{what} returned {str(found)[:100]}; expected {{customer_id: '123.45', ...}}")


def customer_totals_from_the_replica(session, rds_instance, answer):
    _table_is_right(session)
    _wait_whole(session, rds_instance)
    base = random.randint(100_000, 900_000)
    customers = list(range(base, base + random.randint(6, 10)))
    with _connect(session) as conn:
        for customer in customers:
            for _ in range(random.randint(1, 4)):
                conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, %s, %s)",
                             (str(uuid.uuid4()), customer, f"{random.randint(2000, 20000) / 100:.2f}"))
    min_total = f"{random.randint(150, 300)}.00"
    rds_instance.wait_replayed()
    _control(rds_instance, "pause-replay")      # the replica lags from here on
    try:
        late = [customers[0], customers[-1], base - 1]
        with _connect(session) as conn:
            for customer in late:
                conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, %s, %s)",
                             (str(uuid.uuid4()), customer, "999.99"))
        replica_view = _totals(session, min_total, "replica")
        primary_view = _totals(session, min_total, None)
        result = answer.call("app.py", "customer_totals", min_total)
    finally:
        _control(rds_instance, "resume-replay")
    if not result.ok:
        _explain(result, "customer_totals")
    got = _normal(result.value, f"customer_totals({min_total!r})")
    if got == primary_view and got != replica_view:
        fail(f"customer_totals({min_total!r}) includes orders the replica had not applied yet: it read from the "
             "primary. Reports go to the read replica's own endpoint (REPLICA_URL), so they do not load the "
             "primary; the price is that they may be a little behind")
    if got != replica_view:
        wrong = sorted(set(got.items()) ^ set(replica_view.items()))[:3]
        fail(f"customer_totals({min_total!r}) returned {len(got)} customer(s); the replica holds {len(replica_view)} "
             f"with at least {min_total} (differences: {wrong}): sum each customer's totals and keep those whose "
             "sum is at least min_total")
    newer = len(set(primary_view.items()) - set(replica_view.items()))
    return (f"{len(got)} customer(s) with at least {min_total}, read on the replica while it lagged (on the "
            f"primary, {newer} of those totals were already newer): the report came from REPLICA_URL")


# ---- step 3: the customer's own order ----------------------------------------------------------------

def order_page_shows_the_customers_own_order(session, rds_instance, answer):
    _table_is_right(session)
    _wait_whole(session, rds_instance)
    orders = [_order() for _ in range(random.randint(2, 4))]
    unknown = str(uuid.uuid4())
    _control(rds_instance, "pause-replay")      # as a busy replica lags
    try:
        calls = []
        for order in orders:
            calls += [("place_order", tuple(order)), ("order_page", (order[0],))]
        calls.append(("order_page", (unknown,)))
        results = answer.run("app.py", calls)
    finally:
        _control(rds_instance, "resume-replay")
    for (name, args), result in zip(calls, results):
        if not result.ok:
            _explain(result, name)
        if name != "order_page":
            continue
        got = result.value
        if args[0] == unknown:
            expect(got is None, f"order_page({unknown!r}) returned {got!r} for an order that does not exist; "
                                "expected None")
            continue
        total = next(o[2] for o in orders if o[0] == args[0])
        if got is None:
            fail(f"order_page({args[0]!r}) returned None right after place_order stored it: it read from the read "
                 "replica, which had not applied the order yet — replication to a replica is asynchronous. A "
                 "customer's read of their own write goes to the primary (INSTANCE_URL), or waits until the "
                 "replica has it")
        expect(Decimal(str(got)) == Decimal(total), f"order_page({args[0]!r}) returned {got!r}; the order's total "
                                                     f"is {total}")
    return (f"{len(orders)} orders placed and shown back at once while the replica lagged: read-your-writes "
            "went to the primary")


# ---- step 4: replica lag ------------------------------------------------------------------------------

class _Ticker(threading.Thread):
    """Writes a row on the primary every 0.1 s, as a busy application does."""

    def __init__(self, session):
        super().__init__(daemon=True)
        self.session = session
        self.done = threading.Event()

    def run(self):
        with _connect(self.session) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS public.labrunner_ticks (at timestamptz DEFAULT clock_timestamp())")
            while not self.done.wait(0.1):
                conn.execute("INSERT INTO public.labrunner_ticks DEFAULT VALUES")

    def finish(self):
        self.done.set()
        self.join(10)


def _lag(answer, case):
    result = answer.call("app.py", "replica_lag")
    if not result.ok:
        _explain(result, "replica_lag")
    got = result.value
    if got is None:
        fail(f"replica_lag() returned None {case}: on the primary, pg_last_xact_replay_timestamp() is NULL (it "
             "replays nothing); ask the replica, or read the replica's row of pg_stat_replication on the primary")
    expect(isinstance(got, (int, float, Decimal)) and not isinstance(got, bool),
           f"replica_lag() returned {got!r}; expected a number of seconds")
    return float(got)


def replica_lag_as_seconds_behind(session, rds_instance, answer):
    _wait_whole(session, rds_instance)
    behind = round(random.uniform(3.0, 4.5), 1)
    ticker = _Ticker(session)
    ticker.start()
    try:
        time.sleep(1.5)
        busy = _lag(answer, "while the primary was busy and the replica kept up")
        _control(rds_instance, "pause-replay")
        try:
            time.sleep(behind)
            lagging = _lag(answer, f"while the replica had applied nothing for {behind} s")
        finally:
            _control(rds_instance, "resume-replay")
    finally:
        ticker.finish()
    rds_instance.wait_replayed()
    time.sleep(3.5)                             # the primary idle, the replica caught up
    idle = _lag(answer, "while the primary was idle and the replica had applied everything")
    with _connect(session) as conn:
        conn.execute("DROP TABLE IF EXISTS public.labrunner_ticks")
    if lagging < behind - 1.3:
        fail(f"replica_lag() returned {lagging:.2f} s while the replica had applied nothing for {behind} s (the "
             "primary wrote every 0.1 s): it did not measure the replica's replay. The Multi-AZ standby's row of "
             "pg_stat_replication (sync_state 'sync', application_name host_…) says nothing about the replica, and "
             "write_lag/flush_lag tell when the WAL arrived, not when it was applied — use replay_lag of the "
             "replica's row (application_name replica_1), or measure on the replica")
    if lagging > behind + 1.5:
        fail(f"replica_lag() returned {lagging:.2f} s while the replica was {behind} s behind: too much. "
             "now() - pg_last_xact_replay_timestamp() on the primary is the last commit it replayed while it was "
             "a standby, before a failover (NULL if it never was one): ask the replica, or read replay_lag of the "
             "replica's row of pg_stat_replication")
    if busy > 1.5:                             # a loaded machine replays a busy primary's WAL a moment late
        fail(f"replica_lag() returned {busy:.2f} s while the replica kept up with a busy primary; expected a second "
             "at most (it applies what it receives at once)")
    if idle > 1.0:
        fail(f"replica_lag() returned {idle:.2f} s while the replica had applied everything and the primary was "
             "idle: now() - pg_last_xact_replay_timestamp() on the replica grows when nothing is written, though "
             "nothing is missing. Count it only while the replica has received WAL it has not applied yet "
             "(pg_last_wal_receive_lsn() <> pg_last_wal_replay_lsn()), or read replay_lag on the primary "
             "(NULL: caught up)")
    return (f"replica_lag(): {busy:.2f} s while it kept up, {lagging:.2f} s with the replay held for {behind} s, "
            f"{idle:.2f} s when idle and caught up")


# ---- steps 5 and 6: acknowledged orders through a failover and a promotion ---------------------------

class _Killer(threading.Thread):
    """Kill the primary once KILL_AFTER of the run's orders are stored."""

    def __init__(self, session, rds_instance, ids):
        super().__init__(daemon=True)
        self.session, self.instance, self.ids = session, rds_instance, list(ids)
        self.done = threading.Event()
        self.killed_at = self.victim = self.error = self.tries = None

    def run(self):
        try:
            with postgres.connect(_endpoint(self.session)) as conn:
                while not self.done.wait(0.03):
                    stored = _rows(conn, "SELECT count(*) FROM shop.orders WHERE order_id::text = ANY(%s)",
                                   (self.ids,))[0][0]
                    if stored >= KILL_AFTER:
                        self.tries = commit_trace.tries(conn)      # before the kill: a promoted node's sequences jump ahead
                        self.victim = _roles(self.instance)["primary"]
                        self.instance.fault("primary", "kill")
                        self.killed_at = time.time()
                        return
        except Exception as exc:
            self.error = exc

    def finish(self):
        self.done.set()
        self.join(30)


def _judge_run(result, killer, count):
    if result.ok:
        return
    message = f"{result.error_type}: {result.error_message[:160]}"
    when = f"after the primary ({killer.victim}) was killed" if killer.killed_at else "before the check killed the primary"
    if result.error_type == "ReadOnlySqlTransaction" or "read-only" in result.error_message:
        fail(f"write_orders raised {message} {when}: it wrote to the read replica. A failover never promotes a "
             "read replica; the standby takes over and the instance endpoint follows it — keep retrying through "
             "INSTANCE_URL")
    if result.error_type == "Timeout":
        fail(f"write_orders did not finish its {count} orders within {RUN_TIMEOUT:.0f} s, {when}: close a dead "
             "connection and connect again to INSTANCE_URL before each retry, and give up after a bounded time")
    if "pg_hba.conf rejects" in result.error_message:
        _explain(result, "write_orders", f" {when}")
    if result.error_type in ("UniqueViolation", "IntegrityError"):
        _explain(result, "write_orders")
    if result.no_answer:
        result.value_or_fail()
    fail(f"write_orders raised {message} {when}: a client that writes through a failover must retry — catch "
         "psycopg.OperationalError, wait a little longer each time, reconnect to INSTANCE_URL, try the same order again")


def _traced_run(session, rds_instance, answer, orders, killer):
    """Run write_orders with the trace in place; return (result, roles after, written, refused id, tries)."""
    refused = orders[random.randint(3, 10)][0]
    with _connect(session) as conn:
        commit_trace.install(conn, refused, REFUSE_FOR)
    killer.start()
    try:
        result = answer.call("app.py", "write_orders", orders, PAUSE, timeout=RUN_TIMEOUT)
    finally:
        killer.finish()
        after = None
        try:
            after = _wait_whole(session, rds_instance)
            with _connect(session) as conn:
                written = commit_trace.written(conn)
        finally:
            with _connect(session) as conn:
                commit_trace.remove(conn)
    return result, after, written, refused, killer.tries or 0


def write_orders_loses_nothing_in_a_failover(session, rds_instance, answer):
    _table_is_right(session)
    before = _wait_whole(session, rds_instance)
    orders = [_order() for _ in range(random.randint(220, 300))]
    ids = [o[0] for o in orders]
    early = random.sample(ids[KILL_AFTER + 20:], 3)         # stored already, as after a lost answer
    with _connect(session) as conn:
        for order in orders:
            if order[0] in early:
                conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, %s, %s)", order)
    killer = _Killer(session, rds_instance, ids)
    result, after, written, refused, tries = _traced_run(session, rds_instance, answer, orders, killer)
    _judge_run(result, killer, len(orders))
    expect(killer.killed_at is not None, f"write_orders finished before {KILL_AFTER} orders were stored, so the "
                                         f"check could not kill the primary mid-run ({killer.error or 'no error'})")
    acks = result.value
    expect(isinstance(acks, list) and all(isinstance(a, list) and len(a) == 2 for a in acks),
           f"write_orders returned {str(acks)[:120]}; expected [[order_id, time.time()], ...], one per order")
    acked = [str(a[0]) for a in acks]
    for order_id, at in acks:
        if isinstance(at, (int, float)) and str(order_id) in written and at < written[str(order_id)] - CLOCK_SLACK:
            fail(f"order {order_id} was acknowledged at {at:.3f}, but the transaction that stored it wrote it at "
                 f"{written[str(order_id)]:.3f}, {written[str(order_id)] - at:.3f} s later: an earlier COMMIT of it "
                 "had failed. Count an order as acknowledged only after COMMIT returned")
    expect(len(set(acked)) == len(acked), "write_orders acknowledged an order twice: record it once, after COMMIT")
    if tries > MOST_TRIES:
        fail(f"write_orders tried order {refused} {tries} times while the primary refused its COMMIT for "
             f"{REFUSE_FOR:.0f} s (a serialization failure each time): it retried without backing off. Wait a "
             "little longer after each failure (0.05 s, 0.1 s, 0.2 s, ... at most 1 s)")
    stored = _stored(session, ids)
    lost = [i for i in acked if i not in stored]
    expect(not lost, f"{len(lost)} acknowledged order(s) are LOST ({', '.join(lost[:3])}): count an order only "
                     "once COMMIT returned")
    missing = [i for i in ids if i not in set(acked)]
    expect(not missing, f"write_orders acknowledged {len(acked)} of {len(ids)} orders: retry every order until stored")
    expect(after["primary"] == before["standby"],
           f"the primary is {after['primary']}; the failover should have moved it to the standby {before['standby']}")
    expect(after["replica"] == REPLICA, f"{REPLICA} is no longer a read replica after the failover: `labrunner status`")
    on_replica = _stored(session, ids, where="replica")
    expect(len(on_replica) == len(ids), f"the replica holds {len(on_replica)} of the {len(ids)} orders after the "
                                        "failover: `labrunner status` shows whether it follows the new primary")
    failover = rds_instance.status()["failovers"][-1]
    first_after = min(at for _, at in acks if at > killer.killed_at)
    return (f"{len(orders)} orders; primary {killer.victim} killed mid-run, the standby {after['primary']} took over in "
            f"{failover['seconds']:.2f} s (RDS documents {RDS_FAILOVER}); 0 of {len(acks)} acknowledged orders lost "
            f"(synchronous standby); your client's first write after the kill: +{first_after - killer.killed_at:.2f} s; "
            f"{REPLICA} followed the new primary and holds every order")


def unreplicated_is_what_a_promotion_loses(session, rds_instance, answer):
    _table_is_right(session)
    before = _wait_whole(session, rds_instance)
    seen = [_order() for _ in range(random.randint(20, 40))]
    unseen = [_order() for _ in range(random.randint(3, 12))]
    with _connect(session) as conn:
        for order in seen:
            conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, %s, %s)", order)
    rds_instance.wait_replayed()
    acks = [[o[0], time.time()] for o in seen]
    _control(rds_instance, "detach")             # the replica's link to the primary is cut
    try:
        with _connect(session) as conn:
            for order in unseen:
                conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, %s, %s)", order)
                acks.append([order[0], time.time()])
        rds_instance.fault("standby", "stop")     # both hosts of the instance gone
        rds_instance.fault("primary", "kill")
        time.sleep(2.0)
        found = rds_instance.status()
        roles = {n["name"]: n["role"] for n in found["nodes"]}
        expect(roles[REPLICA] == "replica" and not any(f["to"] == REPLICA for f in found["failovers"]),
               f"{REPLICA} took over by itself ({roles}): the stand-in is wrong, a replica is only promoted by hand")
        journal = list(acks)
        random.shuffle(journal)
        result = answer.call("app.py", "unreplicated", journal)
        _control(rds_instance, "promote")         # by hand, as promote-read-replica
        promoted_lacks = [a[0] for a in acks if a[0] not in _stored(session, [a[0] for a in acks], where="replica")]
    finally:
        rds_instance.fault("standby", "restart")
        _control(rds_instance, "rebuild")
        _wait_whole(session, rds_instance)
    if not result.ok and result.error_type == "OperationalError":
        fail(f"unreplicated raised {result.error_type}: {result.error_message[:160]} — with both hosts of the "
             "instance down, only the read replica answered: it asked the primary (or the standby), which would "
             "hold every acknowledged order anyway. Ask the replica (REPLICA_URL)")
    if not result.ok:
        _explain(result, "unreplicated")
    got = result.value
    expect(isinstance(got, list), f"unreplicated returned {str(got)[:80]}; expected a list of order ids")
    want = sorted(o[0] for o in unseen)
    expect(sorted(promoted_lacks) == want, f"the promoted replica lacks {len(promoted_lacks)} orders; the check "
                                           f"expected {len(want)}: `labrunner status`")
    if sorted(map(str, got)) != want:
        if not got:
            fail(f"unreplicated returned [] but the replica lacked {len(want)} acknowledged orders: it asked the "
                 "primary (or the standby), which holds every acknowledged order. Ask the replica (REPLICA_URL)")
        fail(f"unreplicated returned {len(got)} id(s) {sorted(map(str, got))[:2]}; the replica lacked exactly "
             f"{len(want)} of the {len(acks)} acknowledged orders ({want[:2]}...): compare the ids, not counts")
    return (f"with both hosts of the instance down, {REPLICA} stayed a replica (no automatic failover to it); "
            f"promoted by hand, it lacked {len(want)} acknowledged orders — exactly those unreplicated() named. "
            f"The Multi-AZ failover of step 5 lost 0. Primary now {before['primary']} again, standby and a new "
            "replica rebuilt")
