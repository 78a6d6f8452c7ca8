"""Checks for aurora-failover.

Fixtures: aurora_node(name) (one instance endpoint, a fresh connection), aurora_cluster (status,
fault, failover), session, answer. The learner's functions read WRITER_URL from the environment, as
an application reads its configuration; checks call them through the answer runner, which sets it.

The kill checks run the learner's write_orders in the answer runner while a thread of the check
watches the orders arrive and kills the writer (aurora_cluster.fault("writer", "kill")) once a
few dozen are stored: the client meets the failover in the middle of its work, as on AWS.
Every check that kills ends by waiting for the cluster to be whole again (the old writer back
as a reader), so the next check starts on three nodes.
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

SERVICE = "aurora-postgresql"
KILL_AFTER = 25            # orders stored before the check kills the writer
PAUSE = 0.01               # seconds write_orders waits between orders (a steady stream)
RUN_TIMEOUT = 75.0         # seconds the learner's write_orders may take, failover included
WHOLE_WAIT = 90.0          # seconds to wait for the old writer to rejoin as a reader
CLOCK_SLACK = 0.005        # seconds: the client's clock and the server's are the same machine's
REFUSE_FOR = 1.0           # seconds the writer refuses one order's COMMIT (serialization failures), from the first
MOST_TRIES = 12            # attempts at that order within REFUSE_FOR beyond which the client did not back off


# ---- connections and the cluster ---------------------------------------------------------------

def _endpoint(session, node=None):
    endpoint = session.endpoint(SERVICE)
    return endpoint.at(node) if node else endpoint


def _connect(session, node=None):
    """A fresh autocommit connection (the cluster endpoint, or one node), retried while a
    failover is under way."""
    return failover_client.retry_connect(postgres.connect, _endpoint(session, node),
                                         "the cluster endpoint" if node is None else node)


def _rows(conn, sql, args=None):
    cur = conn.execute(sql, args)
    return cur.fetchall() if cur.description else []


def _query(session, sql, args=None, node=None):
    with _connect(session, node) as conn:
        return _rows(conn, sql, args)


def _writer(aurora_cluster):
    writer = aurora_cluster.status().get("writer")
    expect(writer, "the cluster has no writer right now: `labrunner status` shows its nodes")
    return writer


def _wait_whole(session, aurora_cluster, seconds=WHOLE_WAIT):
    """Until every node is up, none is being rebuilt, and every reader has replayed the writer."""
    deadline = time.monotonic() + seconds
    while True:
        found = aurora_cluster.status()
        nodes = found.get("nodes", [])
        if nodes and all(n.get("alive") and not n.get("rejoining") for n in nodes):
            break
        if time.monotonic() > deadline:
            down = ", ".join(n["name"] for n in nodes if not n.get("alive") or n.get("rejoining"))
            fail(f"{down or 'a node'} did not come back within {seconds:.0f} s after the failover: "
                 "`labrunner status` shows the cluster")
        time.sleep(0.3)
    target = _query(session, "SELECT pg_current_wal_lsn()")[0][0]
    for node in nodes:
        if node["name"] == found["writer"]:
            continue
        with _connect(session, node["name"]) as conn:
            while _rows(conn, "SELECT pg_wal_lsn_diff(%s, pg_last_wal_replay_lsn()) > 0", (target,))[0][0]:
                if time.monotonic() > deadline:
                    fail(f"{node['name']} has not replayed the writer's last changes: `labrunner status`")
                time.sleep(0.1)
    return found


def _caught_up(session, names, seconds=15.0):
    """Until the named readers have replayed everything the writer has written so far."""
    target = _query(session, "SELECT pg_current_wal_lsn()")[0][0]
    deadline = time.monotonic() + seconds
    for name in names:
        with _connect(session, name) as conn:
            while _rows(conn, "SELECT pg_wal_lsn_diff(%s, pg_last_wal_replay_lsn()) > 0", (target,))[0][0]:
                if time.monotonic() > deadline:
                    fail(f"{name} has not replayed the writer's last changes: `labrunner status`")
                time.sleep(0.1)


# ---- step 1: a key the client chooses ------------------------------------------------------------

def _columns(session):
    return {name: (kind, default, identity, length) for name, kind, default, identity, length in _query(
        session, "SELECT column_name, data_type, column_default, is_identity, character_maximum_length "
                 "FROM information_schema.columns WHERE table_schema = 'shop' AND table_name = 'orders'")}


def _table_is_right(session):
    columns = _columns(session)
    if not columns:
        found = [f"{s}.{t}" for s, t in _query(session, "SELECT table_schema, table_name FROM "
                                                        "information_schema.tables WHERE table_name = 'orders'")]
        fail("there is no table shop.orders on the writer yet" + (
            f" (there is {', '.join(found)}: create it in schema shop)" if found else ""))
    for name in ("order_id", "customer_id", "total"):
        expect(name in columns, f"shop.orders has no column {name} (it has: {', '.join(sorted(columns))})")
    kind, default, identity, length = columns["order_id"]
    if identity == "YES" or default:
        fail("shop.orders.order_id is numbered by the database: a client whose COMMIT got no answer cannot "
             "tell whether its order was stored, and a retry stores it twice. Let the client choose the id "
             "(a uuid it makes before the first attempt), so a retry names the same order")
    expect(kind in ("uuid", "text", "character varying") and (length is None or length >= 36),
           f"shop.orders.order_id is {kind}{f'({length})' if length else ''}; the client's ids are uuids: "
           "make it uuid (or text)")
    key = _query(session, "SELECT array_agg(a.attname::text) FROM pg_index i JOIN pg_attribute a "
                          "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                          "WHERE i.indrelid = 'shop.orders'::regclass AND i.indisprimary")[0][0]
    expect(key == ["order_id"], f"the primary key of shop.orders is {key or 'missing'}; make it order_id, "
                                "so the same order can never be stored twice")
    expect(columns["total"][0] == "numeric", f"shop.orders.total is {columns['total'][0]}; money wants numeric(10,2)")


def orders_table_takes_the_clients_key(session):
    _table_is_right(session)
    probe = str(uuid.uuid4())
    with _connect(session) as conn:
        with conn.transaction(force_rollback=True):     # the key refuses the same order twice
            conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, 1, 1)", (probe,))
            twice = _rows(conn, "INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, 1, 1) "
                                "ON CONFLICT DO NOTHING RETURNING 1", (probe,))
    expect(not twice, "shop.orders took the same order_id twice: make order_id the PRIMARY KEY")
    return "shop.orders is keyed by an order_id the client chooses; the same order cannot be stored twice"


# ---- step 2: one order, before and after a planned failover ----------------------------------------

def _order():
    return [str(uuid.uuid4()), random.randint(1, 5000), f"{random.randint(100, 99999) / 100:.2f}"]


def _stored(session, ids, node=None):
    """{order_id: (customer_id, total)} of those ids that are stored (through the cluster endpoint
    unless a node is named)."""
    rows = _query(session, "SELECT order_id::text, customer_id, total FROM shop.orders "
                           "WHERE order_id::text = ANY(%s)", (list(ids),), node=node)
    return {order_id: (customer, total) for order_id, customer, total in rows}


def _call_failed(result, after):
    """A failure message for place_order that raised, naming the likely fault."""
    message = f"{result.error_type}: {result.error_message}"
    if "read-only" in result.error_message:
        fail(f"place_order raised {message} {after}: it reached a reader. An instance endpoint names one "
             "node, which a failover makes a reader; connect to the cluster endpoint (WRITER_URL), which "
             "always reaches the writer")
    if result.error_type in ("UniqueViolation", "IntegrityError"):
        fail(f"place_order raised {message} for an order that was already stored: a client retries when it "
             "got no answer, so the same order must be harmless twice — INSERT ... ON CONFLICT (order_id) "
             "DO NOTHING")
    result.value_or_fail()


def place_order_survives_a_planned_failover(session, aurora_cluster, answer):
    _table_is_right(session)
    _wait_whole(session, aurora_cluster)
    first, second = _order(), _order()
    result = answer.call("writer.py", "place_order", *first)
    _call_failed(result, "before any failover")
    expect(first[0] in _stored(session, [first[0]]),
           f"place_order{tuple(first)} returned, but order {first[0]} is not in shop.orders — did it COMMIT?")
    old = _writer(aurora_cluster)
    aurora_cluster.failover()
    new = _wait_whole(session, aurora_cluster)["writer"]     # the old writer back as a reader, too
    expect(new != old, f"the failover left {old} the writer; `labrunner status` shows the cluster")
    again = answer.run("writer.py", [("place_order", tuple(second)), ("place_order", tuple(first))])
    _call_failed(again[0], f"after a failover ({old} → {new})")
    _call_failed(again[1], f"when the check sent order {first[0]} a second time (a retry)")
    there = _stored(session, [first[0], second[0]], node=new)
    expect(second[0] in there, f"place_order{tuple(second)} returned after the failover, but {new}, the new "
                               "writer, does not have it — did it COMMIT?")
    customer, total = there[second[0]]
    expect((customer, total) == (second[1], Decimal(second[2])),
           f"order {second[0]} is stored as customer {customer}, total {total}; it was sent as customer "
           f"{second[1]}, total {second[2]}")
    count = _query(session, "SELECT count(*) FROM shop.orders WHERE order_id::text = %s", (first[0],))[0][0]
    expect(count == 1, f"order {first[0]} is stored {count} times")
    return (f"one order on {old}, one on {new} after the failover, through the same cluster endpoint; "
            "the repeated order was stored once")


# ---- steps 3-5: write_orders through a writer kill ---------------------------------------------------

class _Killer(threading.Thread):
    """Kill the writer once KILL_AFTER of the run's orders are stored, unless the run ends first."""

    def __init__(self, session, aurora_cluster, ids):
        super().__init__(daemon=True)
        self.session, self.cluster, self.ids = session, aurora_cluster, list(ids)
        self.done = threading.Event()
        self.killed_at = None       # time.time() once the kill was done, on the client's clock (the same machine)
        self.victim = None
        self.error = None
        self.tries = None

    def run(self):
        try:
            with postgres.connect(_endpoint(self.session)) as conn:
                while not self.done.wait(0.03):
                    stored = _rows(conn, "SELECT count(*) FROM shop.orders WHERE order_id::text = ANY(%s)",
                                   (self.ids,))[0][0]
                    if stored >= KILL_AFTER:
                        self.tries = commit_trace.tries(conn)      # before the kill: a promoted node's sequences jump ahead
                        self.victim = self.cluster.status().get("writer")
                        self.cluster.fault("writer", "kill")
                        self.killed_at = time.time()     # the writer's process is gone by now
                        return
        except Exception as exc:
            self.error = exc

    def finish(self):
        self.done.set()
        self.join(30)


class _Run:
    """One run of the learner's write_orders through a writer kill, and what it left behind."""

    def __init__(self, orders, acks, victim, killed_at, new_writer, written, stored, early):
        self.orders, self.acks, self.victim, self.killed_at = orders, acks, victim, killed_at
        self.new_writer, self.written, self.stored, self.early = new_writer, written, stored, early


def _run_through_a_kill(session, aurora_cluster, answer):
    """Seed a variant run, start write_orders, kill the writer mid-run, wait for the cluster to be
    whole, and judge what every run must get right. Some orders are stored before the run (as if an
    earlier attempt had committed and its answer had been lost); one order's COMMIT is refused for
    REFUSE_FOR seconds (serialization failures, as a busy writer gives), so a client that counts
    before COMMIT returned is seen, and so is one that retries without waiting longer each time."""
    _table_is_right(session)
    _wait_whole(session, aurora_cluster)
    orders = [_order() for _ in range(random.randint(260, 340))]
    ids = [o[0] for o in orders]
    refused = orders[random.randint(3, 10)][0]
    early = random.sample(ids[KILL_AFTER + 20:], 3)
    with _connect(session) as conn:
        commit_trace.install(conn, refused, REFUSE_FOR)
        for order in orders:
            if order[0] in early:
                conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, %s, %s)", order)
    killer = _Killer(session, aurora_cluster, ids)
    killer.start()
    try:
        result = answer.call("writer.py", "write_orders", orders, PAUSE, timeout=RUN_TIMEOUT)
    finally:
        killer.finish()
    try:
        _wait_whole(session, aurora_cluster)
        with _connect(session) as conn:
            written = commit_trace.written(conn)
            commit_trace.remove(conn)
    except Exception:
        with _connect(session) as conn:
            commit_trace.remove(conn)
        raise
    _judge_failure(result, killer, len(orders))
    expect(killer.killed_at is not None,
           f"write_orders finished its {len(orders)} orders before {KILL_AFTER} of them were stored, so the "
           f"check could not kill the writer mid-run ({killer.error or 'no error'}); call it again")
    acks = result.value
    expect(isinstance(acks, list) and all(isinstance(a, list) and len(a) == 2 and isinstance(a[1], (int, float))
                                          for a in acks),
           f"write_orders returned {str(acks)[:120]}; expected a list of [order_id, time.time() when its "
           "COMMIT returned], one per order")
    counted = {}
    for order_id, at in acks:
        counted.setdefault(str(order_id), []).append(at)
    twice = [k for k, times in counted.items() if len(times) > 1]
    stored = _stored(session, ids)
    for order_id, times in counted.items():
        if order_id in written and min(times) < written[order_id] - CLOCK_SLACK:
            fail(f"order {order_id} was acknowledged at {min(times):.3f}, but the transaction that stored it "
                 f"wrote it at {written[order_id]:.3f}, {written[order_id] - min(times):.3f} s later: its first "
                 "COMMIT had failed. Count an order as acknowledged only after COMMIT returned")
    if twice:
        fail(f"write_orders acknowledged order {twice[0]} {len(counted[twice[0]])} times: record an order once, "
             "after COMMIT returned")
    lost = [k for k in counted if k not in stored]
    expect(not lost, f"{len(lost)} acknowledged order(s) are LOST: not in shop.orders on the writer "
                     f"({', '.join(lost[:3])}): an order counts as acknowledged only after COMMIT returned")
    missing = [i for i in ids if i not in counted]
    if missing:
        fail(f"write_orders acknowledged {len(counted)} of the {len(ids)} orders it was given ({missing[0]} and "
             f"{len(missing) - 1} more were not): retry every order until it is stored")
    unknown = [k for k in counted if k not in set(ids)]
    expect(not unknown, f"write_orders acknowledged ids it was not given ({unknown[:2]}): use each order's own id")
    tries = killer.tries or 0
    if tries > MOST_TRIES:
        fail(f"write_orders tried order {refused} {tries} times while the writer refused its COMMIT for "
             f"{REFUSE_FOR:.0f} s (a serialization failure each time): it retried without backing off. Wait "
             "a little longer after each failure (0.05 s, 0.1 s, 0.2 s, ... at most 1 s), so a thousand clients "
             "do not hammer a writer that is already struggling")
    new_writer = _writer(aurora_cluster)
    expect(new_writer != killer.victim, f"{killer.victim} is still the writer after it was killed: "
                                        "`labrunner status` shows the cluster")
    after = [at for _, at in acks if at > killer.killed_at]
    expect(after, "no order was acknowledged after the writer was killed")
    return _Run(orders, acks, killer.victim, killer.killed_at, new_writer, written, stored, early)


def _judge_failure(result, killer, count):
    if result.ok:
        return
    message = f"{result.error_type}: {result.error_message[:160]}"
    when = (f"after the writer ({killer.victim}) was killed" if killer.killed_at
            else "before the check killed the writer")
    if result.error_type == "Timeout":
        fail(f"write_orders did not finish its {count} orders within {RUN_TIMEOUT:.0f} s, {when}: a retry on a "
             "dead connection fails forever — close it and connect again to the cluster endpoint, which "
             "reaches the new writer, and give up after a bounded time")
    if any(s in result.error_message for s in ("connection is closed", "connection is lost", "connection is bad")):
        fail(f"write_orders raised {message} {when}, after retrying on the same dead connection: once the "
             "server has gone, that connection never works again — close it and connect again "
             "(psycopg.connect(WRITER_URL)) before each retry")
    if result.error_type in ("UniqueViolation", "IntegrityError"):
        fail(f"write_orders raised {message}: an order it sent was already stored, by an attempt whose COMMIT "
             "answer was lost (an ambiguous commit). A blind retry of a plain INSERT fails here — or, with an id "
             "the database numbers, stores the order twice. Make the insert idempotent: "
             "INSERT ... ON CONFLICT (order_id) DO NOTHING, and count the order as acknowledged")
    if result.no_answer:
        result.value_or_fail()
    fail(f"write_orders raised {message} {when}: a client that writes through a failover must retry — catch "
         "psycopg.OperationalError, wait a little longer each time (backoff), reconnect, and try the same "
         "order again")


def _gaps(times):
    times = sorted(times)
    return max((b - a for a, b in zip(times, times[1:])), default=0.0)


def write_orders_survives_a_writer_kill(session, aurora_cluster, answer):
    run = _run_through_a_kill(session, aurora_cluster, answer)
    first_after = min(at for _, at in run.acks if at > run.killed_at)
    return (f"{len(run.orders)} orders, writer {run.victim} killed mid-run, {run.new_writer} took over: every "
            f"order acknowledged once and stored, none lost ({len(run.early)} were stored before, as after a lost "
            f"answer); first acknowledgement {first_after - run.killed_at:.2f} s after the kill")


# ---- step 4: the client's longest outage ----------------------------------------------------------

def _synthetic_acks():
    at, acks = 1_700_000_000 + random.randint(0, 10 ** 6) + random.random(), []
    big = random.randint(5, 25)
    for i in range(random.randint(30, 60)):
        at += random.uniform(2.5, 6.0) if i == big else random.uniform(0.005, 0.05)
        acks.append([str(uuid.uuid4()), round(at, 6)])
    return acks


def longest_outage_from_the_clients_clock(session, aurora_cluster, answer):
    run = _run_through_a_kill(session, aurora_cluster, answer)
    cases = [run.acks, _synthetic_acks(), _synthetic_acks()]
    results = answer.run("writer.py", [("longest_outage", (acks,)) for acks in cases])
    for number, (acks, result) in enumerate(zip(cases, results)):
        got = result.value_or_fail()
        want = _gaps([at for _, at in acks])
        expect(isinstance(got, (int, float)) and not isinstance(got, bool),
               f"longest_outage returned {got!r}; expected a number of seconds")
        what = "your client's run through the kill" if number == 0 else f"{len(acks)} acknowledgements of the check's"
        if abs(got - want) > 0.001:
            span = acks[-1][1] - acks[0][1]
            fail(f"longest_outage returned {got:.3f} s for {what}; the longest time between two consecutive "
                 f"acknowledgements is {want:.3f} s (the whole run spans {span:.3f} s): sort the times and take "
                 "the largest difference between neighbours")
    outage = _gaps([at for _, at in run.acks])
    first_after = min(at for _, at in run.acks if at > run.killed_at)
    return (f"your client's longest outage: {outage:.2f} s (writer {run.victim} killed; the first write after the "
            f"kill was acknowledged {first_after - run.killed_at:.2f} s later, by {run.new_writer})")


# ---- step 5: the old writer rejoins; every acknowledgement on every node ------------------------------

def every_ack_on_every_node(session, aurora_cluster, answer):
    run = _run_through_a_kill(session, aurora_cluster, answer)
    found = aurora_cluster.status()
    old = next((n for n in found["nodes"] if n["name"] == run.victim), None)
    expect(old and old.get("alive") and old.get("role") == "reader",
           f"{run.victim}, the writer the check killed, is not back as a reader: `labrunner status`")
    on_old = _stored(session, [a[0] for a in run.acks], node=run.victim)
    expect(len(on_old) == len({a[0] for a in run.acks}),
           f"{run.victim} rejoined but holds {len(on_old)} of the {len(run.acks)} acknowledged orders")
    invented = [[str(uuid.uuid4()), run.acks[-1][1] + random.random()] for _ in range(random.randint(1, 4))]
    # A reader that has fallen behind: its replay paused while a few more acknowledged orders are
    # stored on the writer, so the nodes' answers differ, and a missing_acks that asks the writer
    # whatever url it is given is seen.
    behind = random.choice([n["name"] for n in found["nodes"] if n["name"] != run.new_writer])
    late = [_order() for _ in range(random.randint(2, 5))]
    journal = run.acks + invented + [[order[0], run.acks[-1][1] + random.random()] for order in late]
    random.shuffle(journal)
    endpoint = session.endpoint(SERVICE)
    urls = {"the cluster endpoint": endpoint.url}
    for node in found["nodes"]:
        urls[f"{node['name']} ({node['role']})"] = endpoint.at(node["name"]).url
    labels = list(urls)
    with _connect(session, behind) as paused:
        paused.execute("SELECT pg_wal_replay_pause()")
        try:
            with _connect(session) as conn:
                for order in late:
                    conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, %s, %s)", order)
            _caught_up(session, [n["name"] for n in found["nodes"] if n["name"] not in (behind, run.new_writer)])
            results = answer.run("writer.py", [("missing_acks", (journal, urls[label])) for label in labels],
                                 timeout=30)
        finally:
            paused.execute("SELECT pg_wal_replay_resume()")
    want = sorted(a[0] for a in invented)
    for label, result in zip(labels, results):
        got = result.value_or_fail()
        expect(isinstance(got, list), f"missing_acks returned {str(got)[:80]}; expected a list of order ids")
        expected = sorted(want + [o[0] for o in late]) if label.startswith(behind + " ") else want
        if sorted(map(str, got)) == expected:
            continue
        if label.startswith(behind + " ") and sorted(map(str, got)) == want:
            fail(f"missing_acks(acks, <{label}>) returned {len(got)} id(s), the same as the writer's answer; but "
                 f"{behind} had paused its replay and does not hold {len(late)} orders stored since (e.g. "
                 f"{late[0][0]}): connect to the url you are given, not to WRITER_URL")
        fail(f"missing_acks(acks, <{label}>) returned {len(got)} id(s) {sorted(map(str, got))[:3]}; of the "
             f"{len(journal)} acknowledgements, exactly {len(expected)} are not stored on that node "
             f"({expected[:2]}...): compare the acknowledged ids with the ids in shop.orders on that node, "
             "not counts")
    return (f"{run.victim} rejoined as a reader of {run.new_writer} with all {len(run.acks)} acknowledged orders; "
            f"missing_acks found the {len(want)} invented acknowledgement(s) on every node and lost nothing, and "
            f"the {len(late)} orders {behind} had not replayed yet")
