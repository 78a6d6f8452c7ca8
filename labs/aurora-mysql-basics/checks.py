"""Checks for aurora-mysql-basics.

Fixtures: aurora (the master user through the cluster endpoint, autocommit), aurora_node(name)
(one instance endpoint), aurora_cluster (status, fault, failover), session, answer. The learner's
functions read WRITER_URL and READER_URL from the environment, as an application reads its
configuration; checks call them through the answer runner, which sets both.
"""

import random
import threading
import time
import uuid
from decimal import Decimal

from labrunner.checks import expect, fail
from labrunner.labs.shared import load
from labrunner.services import mysql_family

failover_client = load("failover_client", __file__)
reader_down = load("reader_down", __file__)

SERVICE = "aurora-mysql"
READERS_WAIT = 15.0        # seconds a check waits for the readers to apply what it wrote
ROUND_TIMEOUT = 15.0       # seconds the learner's reads may take while one reader is paused
KILL_AFTER = 25            # payments stored before the check kills the writer
PAUSE = 0.01               # seconds write_payments waits between payments
RUN_TIMEOUT = 90.0         # seconds the learner's write_payments may take, failover included
WHOLE_WAIT = 90.0          # seconds to wait for the old writer to rejoin as a reader


def _rows(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall() or [])


def _endpoint(session, node=None):
    endpoint = session.endpoint(SERVICE)
    return endpoint.at(node) if node else endpoint


def _connect(session, node=None):
    """A fresh autocommit connection (the cluster endpoint, or one node), retried while a
    failover is under way."""
    return failover_client.retry_connect(mysql_family.connect, _endpoint(session, node),
                                         "the cluster endpoint" if node is None else node)


def _writer_and_readers(aurora_cluster):
    found = aurora_cluster.status()
    writer = found.get("writer")
    readers = [n["name"] for n in found.get("nodes", []) if n["name"] != writer and n.get("alive")]
    expect(writer, "the cluster has no writer right now: `labrunner status` shows its nodes")
    return writer, readers


def _seq(position):
    return sum(int(p.rsplit("-", 1)[1]) for p in (position or "").split(",") if p.count("-") == 2)


def _wait_for_readers(aurora, aurora_node, readers):
    """Until every reader has applied everything the writer has written so far."""
    target = _rows(aurora, "SELECT @@global.gtid_binlog_pos")[0][0]
    for name in readers:
        with aurora_node(name) as conn:
            if _rows(conn, "SELECT MASTER_GTID_WAIT(%s, %s)", (target, READERS_WAIT))[0][0] != 0:
                fail(f"{name} has not applied the writer's last changes after {READERS_WAIT:.0f} s: "
                     f"`labrunner status` shows the cluster (is its replication stopped? START SLAVE on {name})")


# ---- step 1: endpoints ------------------------------------------------------------------------

def _orders_columns(conn):
    return {name: (kind, extra) for name, kind, extra in _rows(
        conn, "SELECT COLUMN_NAME, DATA_TYPE, EXTRA FROM information_schema.COLUMNS "
              "WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'orders'")}


def orders_table_is_right(aurora):
    columns = _orders_columns(aurora)
    if not columns:
        found = [f"{s}.{t}" for s, t in _rows(aurora, "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES "
                                                      "WHERE TABLE_NAME = 'orders'")]
        fail("there is no table shop.orders on the writer yet" + (
            f" (there is {', '.join(found)}: create it in the database shop — CREATE DATABASE shop first)"
            if found else ""))
    for name in ("order_id", "customer_id", "total"):
        expect(name in columns, f"shop.orders has no column {name} (it has: {', '.join(sorted(columns))})")
    expect("auto_increment" in columns["order_id"][1].lower(),
           "shop.orders.order_id is not AUTO_INCREMENT: let the database number the orders")
    expect(columns["total"][0] == "decimal",
           f"shop.orders.total is {columns['total'][0].upper()}; money wants DECIMAL(10,2), which keeps cents exact")


def every_node_has_the_orders(aurora, aurora_node, aurora_cluster):
    orders_table_is_right(aurora)
    count = _rows(aurora, "SELECT COUNT(*) FROM shop.orders")[0][0]
    expect(count > 0, "shop.orders is empty on the writer: INSERT an order through the cluster endpoint")
    writer, readers = _writer_and_readers(aurora_cluster)
    _wait_for_readers(aurora, aurora_node, readers)
    for name in readers:
        with aurora_node(name) as conn:
            there = _rows(conn, "SELECT COUNT(*) FROM shop.orders")[0][0]
        expect(there == count, f"{name} has {there} orders, the writer {count}")
    return f"{count} order(s) on the writer {writer}, and the same on {' and '.join(readers)}"


# ---- step 2: who is who -------------------------------------------------------------------------

def role_of_tells_writer_from_reader(session, aurora_cluster, answer):
    writer, _ = _writer_and_readers(aurora_cluster)
    endpoint = session.endpoint(SERVICE)
    urls = {"cluster endpoint": endpoint.url, "reader endpoint": endpoint.at("reader").url}
    for node in ("aurora-1", "aurora-2", "aurora-3"):
        urls[node] = endpoint.at(node).url
    labels = list(urls)
    random.shuffle(labels)
    results = answer.run("cluster.py", [("role_of", (urls[label],)) for label in labels])
    for label, result in zip(labels, results):
        got = result.value_or_fail()
        want = "writer" if label in ("cluster endpoint", writer) else "reader"
        expect(got in ("writer", "reader"), f"role_of({label}) returned {got!r}; expected 'writer' or 'reader'")
        if got != want:
            fail(f"role_of said {got!r} for the {label if 'endpoint' in label else 'instance ' + label}, which "
                 f"reaches a {want}: ask the server whether it refuses writes — the global read_only "
                 "setting that makes a reader answer ERROR 1290 (on Aurora MySQL itself: innodb_read_only)")
    return f"role_of named the writer ({writer}) and the readers through every endpoint"


# ---- step 3: replica lag --------------------------------------------------------------------------

def replica_lag_counts_what_is_not_applied(session, aurora, aurora_node, aurora_cluster, answer):
    writer, readers = _writer_and_readers(aurora_cluster)
    expect(len(readers) == 2, f"this check needs both readers up; the cluster has {', '.join(readers) or 'none'}")
    behind = random.choice(readers)
    other = next(r for r in readers if r != behind)
    aurora.cursor().execute("CREATE TABLE IF NOT EXISTS labrunner_lag_probe (n int)")
    _wait_for_readers(aurora, aurora_node, readers)
    count = random.randint(12, 60)
    with aurora_node(behind) as paused:
        _rows(paused, "STOP SLAVE SQL_THREAD")          # it still receives; it stops applying
        try:
            for n in range(count):                     # one transaction each (autocommit)
                _rows(aurora, "INSERT INTO labrunner_lag_probe VALUES (%s)", (n,))
            target = _rows(aurora, "SELECT @@global.gtid_binlog_pos")[0][0]
            deadline = time.monotonic() + READERS_WAIT
            while _seq(_slave_status(paused).get("Gtid_IO_Pos")) < _seq(target):
                if time.monotonic() > deadline:
                    fail(f"{behind} did not receive the check's writes within {READERS_WAIT:.0f} s: "
                         "`labrunner status` shows the cluster")
                time.sleep(0.05)
            with aurora_node(other) as conn:
                _rows(conn, "SELECT MASTER_GTID_WAIT(%s, %s)", (target, READERS_WAIT))
            urls = {name: session.endpoint(SERVICE).at(name).url for name in readers}
            result = answer.call("cluster.py", "replica_lag", session.endpoint(SERVICE).url, urls)
        finally:
            _rows(paused, "START SLAVE SQL_THREAD")
    lags = result.value_or_fail()
    expect(isinstance(lags, dict), f"replica_lag() returned {lags!r}; expected a dict, reader -> transactions behind")
    expect(set(lags) == set(readers), f"replica_lag() named {', '.join(map(str, lags)) or 'no reader'}; "
                                      f"the readers are {' and '.join(readers)} (the keys of reader_urls)")
    if any(v is None for v in lags.values()):
        fail(f"replica_lag() returned {lags!r}: Seconds_Behind_Master is NULL when a reader's SQL thread is "
             "stopped (and 0 on an idle reader): count the transactions between the writer's GTID position "
             "and the reader's applied one (gtid_slave_pos)")
    expect(all(isinstance(v, (int, float, Decimal)) for v in lags.values()),
           f"replica_lag() returned {lags!r}: each value should be a number of transactions")
    expect(lags[behind] == count,
           f"replica_lag() says {behind} is {lags[behind]} transaction(s) behind, but it had stopped applying while "
           f"the writer committed {count}: compare the writer's position with what the reader has APPLIED "
           "(gtid_slave_pos), not what it has received (Gtid_IO_Pos)")
    expect(lags[other] == 0, f"replica_lag() says {other} is {lags[other]} behind; it had applied everything")
    return f"replica_lag saw {behind} fall {count} transactions behind while {other} kept up"


def _slave_status(conn):
    import pymysql.cursors

    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute("SHOW SLAVE STATUS")
        return cur.fetchone() or {}


# ---- step 4: read scaling -----------------------------------------------------------------------

def _rows_read(conn):
    """How many rows of shop.orders this node has read for queries (MariaDB's user statistics)."""
    row = _rows(conn, "SELECT ROWS_READ FROM information_schema.TABLE_STATISTICS "
                      "WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'orders'")
    return int(row[0][0]) if row else 0


def reads_go_to_the_readers(aurora, aurora_node, aurora_cluster, answer):
    orders_table_is_right(aurora)
    writer, readers = _writer_and_readers(aurora_cluster)
    customers = random.sample(range(10000, 20000), 3)
    expected = {}
    for customer in customers:
        totals = [Decimal(random.randint(100, 9999)) / 100 for _ in range(random.randint(1, 4))]
        for t in totals:
            _rows(aurora, "INSERT INTO shop.orders (customer_id, total) VALUES (%s, %s)", (customer, t))
        expected[customer] = sorted(totals)
    _wait_for_readers(aurora, aurora_node, readers)
    nodes = [writer, *readers]

    def counts():
        found = {}
        for name in nodes:
            with aurora_node(name) as conn:
                found[name] = _rows_read(conn)
        return found

    before = counts()
    asked, results = [], []
    for paused in random.sample(readers, len(readers)):
        # One reader at a time stops answering (as a reader being replaced does): the reader
        # endpoint stops choosing it, and reads sent there carry on; reads sent to that reader's
        # own instance endpoint hang.
        round_ = [customer for customer in customers for _ in range(2)]
        with reader_down.ReaderDown(aurora_cluster, paused, "pause", READERS_WAIT):
            got = answer.run("shop_api.py", [("orders_of", (customer,)) for customer in round_], timeout=ROUND_TIMEOUT)
        stuck = next((r for r in got if r.error_type in ("Timeout", "OperationalError", "ConnectionTimeout")), None)
        if stuck:
            said = (f"did not answer within {ROUND_TIMEOUT:.0f} s" if stuck.error_type == "Timeout" else
                    f"raised {stuck.error_type}: {stuck.error_message[:100]}")
            fail(f"orders_of {said} while {paused} was paused, although the "
                 f"reader endpoint had stopped choosing it and {' and '.join(r for r in readers if r != paused)} "
                 f"was serving: it reads from {paused}'s own instance endpoint. Connect to READER_URL, the reader "
                 "endpoint, which spreads connections over the readers that answer")
        asked += round_
        results += got
    for customer, result in zip(asked, results):
        got = result.value_or_fail()
        expect(isinstance(got, list) and sorted(Decimal(str(t)) for t in got) == expected[customer],
               f"orders_of({customer}) returned {got!r}; customer {customer} has {[str(t) for t in expected[customer]]}")
    deadline = time.monotonic() + 5
    while True:
        after = counts()
        served = {name: after[name] - before[name] for name in nodes}
        if sum(served[r] for r in readers) > 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    on_readers = sum(served[r] for r in readers)
    expect(served[writer] == 0 and on_readers > 0,
           f"for your {len(asked)} reads the writer ({writer}) read {served[writer]} rows of shop.orders and the "
           f"readers {on_readers}: send reads to the reader endpoint (READER_URL), so the writer keeps its "
           "capacity for writes")
    spread = ", ".join(f"{r} {served[r]}" for r in readers)
    return f"the readers served your {len(asked)} reads (rows read: {spread}); the writer read none"


# ---- step 5: a writer killed under a running client ---------------------------------------------------

PAYMENTS = """CREATE TABLE IF NOT EXISTS shop.payments (
    payment_id CHAR(36) NOT NULL PRIMARY KEY,
    amount DECIMAL(10, 2) NOT NULL,
    paid_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))"""


def _wait_whole(session, aurora_cluster, seconds=WHOLE_WAIT):
    """Until every node is up and none is being rebuilt (the old writer back as a reader)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            nodes = aurora_cluster.status().get("nodes", [])
            if len(nodes) == 3 and all(n.get("alive") and not n.get("rejoining") for n in nodes):
                return
        except Exception:
            pass
        if time.monotonic() > deadline:
            fail(f"the cluster is not whole again after {seconds:.0f} s: `labrunner status` shows which node is "
                 "missing (`labrunner fault restart aurora-mysql/NODE` brings one back)")
        time.sleep(0.5)


class _Killer(threading.Thread):
    """Kill the writer once KILL_AFTER of the run's payments are stored, unless the run ends first."""

    def __init__(self, session, aurora_cluster, ids):
        super().__init__(daemon=True)
        self.session, self.cluster, self.ids = session, aurora_cluster, list(ids)
        self.done = threading.Event()
        self.killed_at = None
        self.victim = None
        self.error = None

    def run(self):
        marks = ", ".join(["%s"] * len(self.ids))
        try:
            with mysql_family.connect(_endpoint(self.session)) as conn:
                while not self.done.wait(0.03):
                    stored = _rows(conn, f"SELECT COUNT(*) FROM shop.payments WHERE payment_id IN ({marks})",
                                   self.ids)[0][0]
                    if stored >= KILL_AFTER:
                        self.victim = self.cluster.status().get("writer")
                        self.cluster.fault("writer", "kill")
                        self.killed_at = time.time()
                        return
        except Exception as exc:
            self.error = exc

    def finish(self):
        self.done.set()
        self.join(30)


def _judge_failure(result, killer, count):
    if result.ok:
        return
    message = f"{result.error_type}: {result.error_message[:160]}"
    when = (f"after the writer ({killer.victim}) was killed" if killer.killed_at
            else "before the check killed the writer")
    if result.error_type == "Timeout":
        fail(f"write_payments did not finish its {count} payments within {RUN_TIMEOUT:.0f} s, {when}: close a "
             "connection whose server has gone and connect again to the cluster endpoint, which reaches the new "
             "writer; give up after a bounded time")
    if result.error_type == "IntegrityError" or "Duplicate entry" in result.error_message:
        fail(f"write_payments raised {message}: a payment it sent was already stored, by an attempt whose "
             "COMMIT answer was lost. A blind retry of a plain INSERT fails here: make it idempotent "
             "(INSERT IGNORE, or INSERT ... ON DUPLICATE KEY UPDATE) and count the payment as acknowledged")
    if result.error_type == "InterfaceError" or "(0, '')" in result.error_message:
        fail(f"write_payments raised {message} {when}, after retrying on the same dead connection: once its "
             "server has gone a connection never works again — close it and connect(WRITER_URL) anew before "
             "each retry")
    if result.no_answer:
        result.value_or_fail()
    fail(f"write_payments raised {message} {when}: a client that writes through a failover must retry — catch "
         "pymysql.err.OperationalError (and InterfaceError), wait a little longer each time, reconnect, and send "
         "the same payment again")


def write_payments_survives_a_writer_kill(session, aurora_cluster, answer):
    with _connect(session) as conn:
        _rows(conn, "CREATE DATABASE IF NOT EXISTS shop")
        _rows(conn, PAYMENTS)
    _wait_whole(session, aurora_cluster)
    payments = [[str(uuid.uuid4()), f"{random.randint(100, 99999) / 100:.2f}"] for _ in range(random.randint(220, 300))]
    ids = [p[0] for p in payments]
    early = random.sample(ids[KILL_AFTER + 20:], 3)     # stored before, as by an attempt whose answer was lost
    with _connect(session) as conn:
        for payment_id, amount in payments:
            if payment_id in early:
                _rows(conn, "INSERT INTO shop.payments (payment_id, amount) VALUES (%s, %s)", (payment_id, amount))
    killer = _Killer(session, aurora_cluster, ids)
    killer.start()
    try:
        result = answer.call("writer.py", "write_payments", payments, PAUSE, timeout=RUN_TIMEOUT)
    finally:
        killer.finish()
    _wait_whole(session, aurora_cluster)
    _judge_failure(result, killer, len(payments))
    expect(killer.killed_at is not None,
           f"write_payments finished its {len(payments)} payments before {KILL_AFTER} of them were stored, so the "
           f"check could not kill the writer mid-run ({killer.error or 'no error'}); check again")
    acks = result.value
    expect(isinstance(acks, list) and all(isinstance(a, list) and len(a) == 2 and isinstance(a[1], (int, float))
                                          for a in acks),
           f"write_payments returned {str(acks)[:120]}; expected a list of [payment_id, time.time() when its "
           "COMMIT returned], one per payment")
    counted = {}
    for payment_id, at in acks:
        counted.setdefault(str(payment_id), []).append(at)
    twice = [k for k, times in counted.items() if len(times) > 1]
    expect(not twice, f"write_payments acknowledged payment {twice[0] if twice else ''} more than once: record a "
                      "payment once, after COMMIT returned")
    with _connect(session) as conn:
        marks = ", ".join(["%s"] * len(ids))
        stored = {r[0] for r in _rows(conn, f"SELECT payment_id FROM shop.payments WHERE payment_id IN ({marks})", ids)}
    lost = [k for k in counted if k not in stored]
    expect(not lost, f"{len(lost)} acknowledged payment(s) are LOST: not in shop.payments on the writer "
                     f"({', '.join(lost[:3])}): count a payment as acknowledged only after COMMIT returned")
    missing = [i for i in ids if i not in counted]
    expect(not missing, f"write_payments acknowledged {len(counted)} of the {len(ids)} payments it was given "
                        f"({missing[0] if missing else ''} and more were not): retry every payment until it is stored")
    new_writer = _writer_and_readers(aurora_cluster)[0]
    expect(new_writer != killer.victim, f"{killer.victim} is still the writer after it was killed")
    after = sorted(at for _, at in acks if at > killer.killed_at)
    expect(after, "no payment was acknowledged after the writer was killed")
    return (f"{len(payments)} payments, writer {killer.victim} killed mid-run, {new_writer} took over: every payment "
            f"acknowledged once and stored, none lost; first acknowledgement {after[0] - killer.killed_at:.2f} s "
            "after the kill")
