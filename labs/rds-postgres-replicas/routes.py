"""Correct answers the reference solutions do not take, one or more per step."""

import subprocess

SERVICE = "rds-postgres-multiaz"


def _psql(session, workspace, *commands):
    """psql -c ... from the lab folder, as `labrunner tool rds-postgres-multiaz psql` runs it."""
    from labrunner import clients

    command = clients.resolve(session, SERVICE, "psql", cwd=str(workspace.path))
    args = ["-v", "ON_ERROR_STOP=1"]
    for sql in commands:
        args += ["-c", sql]
    subprocess.run(command.argv + args, env=command.env, cwd=workspace.path, check=True, capture_output=True,
                   timeout=120)


# ---- step 1 ----
def autocommit_insert_from_psql_made_table(session, workspace):
    """The table made with psql (a text key, wider columns); place_order in autocommit with RETURNING."""
    _psql(session, workspace, "CREATE SCHEMA shop",
          "CREATE TABLE shop.orders (order_id text PRIMARY KEY, customer_id bigint NOT NULL, "
          "total numeric(12, 2) NOT NULL, note text)")
    workspace.install_variant("app.py", "app-1.py", {
        '''    with psycopg.connect(INSTANCE_URL, connect_timeout=5) as conn:     # writes: the instance endpoint
        conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, %s, %s) "
                     "ON CONFLICT (order_id) DO NOTHING", (order_id, customer_id, total))
        conn.commit()
    return True''': '''    with psycopg.connect(INSTANCE_URL, autocommit=True) as conn:
        conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, %s, %s) "
                     "ON CONFLICT DO NOTHING RETURNING order_id", (order_id, customer_id, total))
    return True                     # stored now, or stored before: both done'''})


# ---- step 2 ----
def totals_added_up_in_python(workspace):
    """Every order from the replica, summed in the application."""
    workspace.install_variant("app.py", "app-2.py", {
        '''    with psycopg.connect(REPLICA_URL, connect_timeout=5) as conn:      # reports: the replica
        rows = conn.execute("SELECT customer_id, sum(total)::numeric(12, 2)::text FROM shop.orders "
                            "GROUP BY customer_id HAVING sum(total) >= %s::numeric", (min_total,)).fetchall()
    return {customer_id: total for customer_id, total in rows}''': '''    from collections import defaultdict
    from decimal import Decimal

    sums = defaultdict(Decimal)
    with psycopg.connect(REPLICA_URL) as conn, conn.cursor() as cur:
        for customer_id, total in cur.execute("SELECT customer_id, total FROM shop.orders"):
            sums[customer_id] += total
    return {c: f"{s:.2f}" for c, s in sums.items() if s >= Decimal(min_total)}'''})


# ---- step 3 ----
def replica_first_then_the_primary(workspace):
    """Read the replica (cheap), and the primary only when the replica does not have the order yet."""
    workspace.install_variant("app.py", "app-3.py", {
        '''    with psycopg.connect(INSTANCE_URL, connect_timeout=5) as conn:     # read-your-writes: the primary
        row = conn.execute("SELECT total::text FROM shop.orders WHERE order_id = %s", (order_id,)).fetchone()
    return row[0] if row else None''': '''    for url in (REPLICA_URL, INSTANCE_URL):
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SELECT total::text FROM shop.orders WHERE order_id = %s", (order_id,)).fetchone()
        if row:
            return row[0]
    return None'''})


# ---- step 4 ----
def lag_measured_on_the_replica(workspace):
    """On the replica: the age of the last applied commit, but only while something is waiting to be applied."""
    workspace.install_variant("app.py", "app-4.py", {
        '''    with psycopg.connect(INSTANCE_URL, connect_timeout=5) as conn:
        row = conn.execute("SELECT extract(epoch FROM replay_lag)::float8 FROM pg_stat_replication "
                           "WHERE application_name = 'replica_1'").fetchone()
    if row is None:
        raise RuntimeError("the replica is not streaming from the primary")
    return row[0] or 0.0          # NULL: the replica has applied everything''': '''    with psycopg.connect(REPLICA_URL, connect_timeout=5) as conn:
        return conn.execute(
            "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
            "ELSE greatest(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp())) END::float8").fetchone()[0]'''})


# ---- step 5 ----
def a_connection_per_attempt_with_jitter(workspace):
    """A fresh autocommit connection for every attempt and 'full jitter' backoff."""
    workspace.install_variant("app.py", "app-5.py", {
        '''    acks, conn = [], None
    for order_id, customer_id, total in orders:
        wait, failing_since = 0.05, None
        while True:
            try:
                if conn is None:
                    conn = psycopg.connect(INSTANCE_URL, connect_timeout=3)
                conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, %s, %s) "
                             "ON CONFLICT (order_id) DO NOTHING", (order_id, customer_id, total))
                conn.commit()
                acks.append([order_id, time.time()])     # acknowledged: COMMIT returned
                break
            except (psycopg.OperationalError, psycopg.errors.ReadOnlySqlTransaction):
                if conn is not None:
                    conn.close()
                conn = None                               # the next try connects again
                failing_since = failing_since or time.monotonic()
                if time.monotonic() - failing_since > GIVE_UP:
                    raise
                time.sleep(wait)
                wait = min(wait * 2, 1.0)
        time.sleep(pause)
    if conn is not None:
        conn.close()
    return acks''': '''    import random

    acks = []
    for order in orders:
        deadline, cap = time.monotonic() + GIVE_UP, 0.1
        while True:
            try:
                with psycopg.connect(INSTANCE_URL, connect_timeout=3, autocommit=True) as conn:
                    conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, %s, %s) "
                                 "ON CONFLICT DO NOTHING", order)
                acks.append([order[0], time.time()])
                break
            except psycopg.Error as exc:
                if not isinstance(exc, (psycopg.OperationalError, psycopg.errors.ReadOnlySqlTransaction)):
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(random.uniform(0, cap))
                cap = min(cap * 2, 2.0)
        time.sleep(pause)
    return acks'''})


# ---- step 6 ----
def missing_ids_found_by_the_replica(workspace):
    """The replica computes the difference itself."""
    workspace.install_variant("app.py", "app.py", {
        '''    ids = [str(order_id) for order_id, _ in acks]
    with psycopg.connect(REPLICA_URL, connect_timeout=5) as conn:
        held = {row[0] for row in conn.execute(
            "SELECT order_id::text FROM shop.orders WHERE order_id::text = ANY(%s)", (ids,))}
    return [order_id for order_id in ids if order_id not in held]''': '''    with psycopg.connect(REPLICA_URL, connect_timeout=5) as conn:
        return [row[0] for row in conn.execute(
            "SELECT id FROM unnest(%s::text[]) AS id EXCEPT SELECT order_id::text FROM shop.orders",
            ([str(a[0]) for a in acks],))]'''})
