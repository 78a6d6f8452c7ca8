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
def orders_from_psql_with_bigserial(session, workspace):
    _psql(session, workspace, "CREATE SCHEMA shop",
          "CREATE TABLE shop.orders (order_id bigserial PRIMARY KEY, customer_id bigint NOT NULL, "
          "total numeric(12, 2) NOT NULL, note text)",
          "INSERT INTO shop.orders (customer_id, total, note) VALUES (7, 42.50, 'first order')")


# ---- step 2 ----
def role_from_transaction_read_only(workspace):
    """transaction_read_only is on in every transaction of a standby: another honest question."""
    workspace.install_variant("cluster.py", "cluster-2.py", {
        'in_recovery = conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]':
            'in_recovery = conn.execute("SHOW transaction_read_only").fetchone()[0] == "on"'})


# ---- step 3 ----
def lag_parsed_in_python(workspace):
    """The LSNs as text, turned into byte positions by hand (high/low hexadecimal halves)."""
    workspace.install_variant("cluster.py", "cluster.py", {
        '''        rows = conn.execute("SELECT application_name, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) "
                            "FROM pg_stat_replication").fetchall()
    return {name: int(lag) for name, lag in rows}''': '''        now = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
        rows = conn.execute("SELECT application_name, replay_lsn::text FROM pg_stat_replication").fetchall()

    def position(lsn):
        high, low = lsn.split("/")
        return (int(high, 16) << 32) | int(low, 16)

    return {name: position(now) - position(replayed) for name, replayed in rows}'''})


# ---- step 4 ----
def insert_returning_then_read_on_the_same_connection(workspace):
    workspace.install_variant("shop_api.py", "shop_api-4.py", {
        '''        conn.execute("INSERT INTO shop.orders (customer_id, total) VALUES (%s, %s)", (customer_id, total))
        conn.commit()''': '''        conn.execute("INSERT INTO shop.orders (customer_id, total) VALUES (%s, %s) RETURNING order_id",
                     (customer_id, total)).fetchone()''',
        "        rows = conn.execute(": "        conn.commit()\n        rows = conn.execute("})


# ---- step 5 ----
def one_reader_connection_for_every_call(workspace):
    """A connection kept open between calls (as a pool would): still the reader endpoint."""
    workspace.install_variant("shop_api.py", "shop_api.py", {
        """    with psycopg.connect(READER_URL) as conn:          # a read that may be a moment old: a reader
        rows = conn.execute("SELECT total FROM shop.orders WHERE customer_id = %s ORDER BY order_id",
                            (customer_id,)).fetchall()""": """    global _reader
    if "_reader" not in globals():
        _reader = psycopg.connect(READER_URL, autocommit=True)
    rows = _reader.execute("SELECT total FROM shop.orders WHERE customer_id = %s", (customer_id,)).fetchall()"""})
