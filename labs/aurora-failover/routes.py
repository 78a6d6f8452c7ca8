"""Correct answers the reference solutions do not take, one or more per step."""

import subprocess


def _psql(session, workspace, *commands):
    """psql -c ... from the lab folder, as `labrunner tool aurora-postgresql psql` runs it."""
    from labrunner import clients

    command = clients.resolve(session, "aurora-postgresql", "psql", cwd=str(workspace.path))
    args = ["-v", "ON_ERROR_STOP=1"]
    for sql in commands:
        args += ["-c", sql]
    subprocess.run(command.argv + args, env=command.env, cwd=workspace.path, check=True, capture_output=True,
                   timeout=120)


# ---- step 1 ----
def text_key_from_psql(session, workspace):
    _psql(session, workspace, "CREATE SCHEMA shop",
          "CREATE TABLE shop.orders (order_id text PRIMARY KEY, customer_id bigint NOT NULL, "
          "total numeric(12, 2) NOT NULL, note text)")


# ---- step 2 ----
def autocommit_and_returning(workspace):
    """An autocommit connection: each statement is its own transaction, committed when it returns."""
    workspace.install_variant("writer.py", "writer-2.py", {
        '''    with psycopg.connect(WRITER_URL, connect_timeout=3) as conn:    # the cluster endpoint
        conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, %s, %s) "
                     "ON CONFLICT (order_id) DO NOTHING", (order_id, customer_id, total))
        conn.commit()
    return True''': '''    with psycopg.connect(WRITER_URL, autocommit=True) as conn:
        conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, %s, %s) "
                     "ON CONFLICT DO NOTHING RETURNING order_id", (order_id, customer_id, total))
    return True                     # stored now, or already stored before: both done'''})


# ---- step 3 ----
def jittered_backoff_and_a_connection_per_attempt(workspace):
    """'Full jitter' backoff (a random wait up to a growing cap) and a fresh connection for every
    attempt, in autocommit: no connection is ever reused, so none is reused dead."""
    workspace.install_variant("writer.py", "writer-3.py", {
        '''    acks = []
    conn = None
    for order_id, customer_id, total in orders:
        wait, failing_since = 0.05, None
        while True:
            try:
                if conn is None:
                    conn = psycopg.connect(WRITER_URL, connect_timeout=3)
                conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) VALUES (%s, %s, %s) "
                             "ON CONFLICT (order_id) DO NOTHING", (order_id, customer_id, total))
                conn.commit()
                acks.append([order_id, time.time()])       # acknowledged: COMMIT returned
                break
            except RETRYABLE:
                if conn is not None:
                    conn.close()
                conn = None                                 # the next try connects again
                failing_since = failing_since or time.monotonic()
                if time.monotonic() - failing_since > GIVE_UP:
                    raise
                time.sleep(wait)
                wait = min(wait * 2, 1.0)                   # 0.05, 0.1, 0.2, ... at most 1 s
        time.sleep(pause)
    if conn is not None:
        conn.close()
    return acks''': '''    acks = []
    for order in orders:
        deadline = time.monotonic() + GIVE_UP
        for attempt in range(10_000):
            try:
                with psycopg.connect(WRITER_URL, connect_timeout=2, autocommit=True) as conn:
                    conn.execute("INSERT INTO shop.orders (order_id, customer_id, total) "
                                 "SELECT %s, %s, %s ON CONFLICT DO NOTHING", order)
                acks.append([order[0], time.time()])
                break
            except RETRYABLE:
                if time.monotonic() > deadline:
                    raise
                time.sleep(random.uniform(0, min(2.0, 0.02 * 2 ** min(attempt, 10))))
        if pause:
            time.sleep(pause)
    return acks'''})


def every_node_listed_and_libpq_finds_the_writer(workspace, session):
    """libpq's own failover: a connection string naming every instance endpoint with
    target_session_attrs=read-write connects to whichever node takes writes (as the AWS JDBC and
    Python wrappers know the cluster's topology). Not the cluster endpoint, and still right."""
    endpoint = session.endpoint("aurora-postgresql")
    hosts = ",".join(f"{endpoint.host}:{endpoint.port_of(n)}" for n in ("aurora-1", "aurora-2", "aurora-3"))
    url = endpoint.at("aurora-1").url
    url = url.replace(f"{endpoint.host}:{endpoint.port_of('aurora-1')}", hosts) + "?target_session_attrs=read-write"
    workspace.install_variant("writer.py", "writer-3.py", {
        '''                    conn = psycopg.connect(WRITER_URL, connect_timeout=3)''':
        f'''                    conn = psycopg.connect("{url}", connect_timeout=2)'''})


# ---- step 4 ----
def pairwise_over_the_times(workspace):
    workspace.install_variant("writer.py", "writer-4.py", {
        '''    times = sorted(at for _, at in acks)
    return max((later - earlier for earlier, later in zip(times, times[1:])), default=0.0)''': '''    from itertools import pairwise

    longest = 0.0
    for (_, a), (_, b) in pairwise(sorted(acks, key=lambda ack: ack[1])):
        longest = max(longest, b - a)
    return longest'''})


# ---- step 5 ----
def missing_found_by_the_server(workspace):
    """The server does the difference: the acknowledged ids that no row matches."""
    workspace.install_variant("writer.py", "writer.py", {
        '''    with psycopg.connect(url, connect_timeout=3) as conn:
        stored = {row[0] for row in conn.execute(
            "SELECT order_id::text FROM shop.orders WHERE order_id::text = ANY(%s)", (ids,))}
    return [order_id for order_id in ids if order_id not in stored]''': '''    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT a FROM unnest(%s::text[]) AS a WHERE NOT EXISTS "
                            "(SELECT 1 FROM shop.orders o WHERE o.order_id::text = a)", (ids,)).fetchall()
    return [a for (a,) in rows]'''})
