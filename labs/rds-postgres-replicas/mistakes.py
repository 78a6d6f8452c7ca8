"""Typical wrong answers for rds-postgres-replicas, each proven caught by `labrunner test`."""

SERVICE = "rds-postgres-multiaz"


def _table(rds):
    """Step 1's mistakes are in place_order; the table is right."""
    rds.execute("CREATE SCHEMA IF NOT EXISTS shop")
    rds.execute("CREATE TABLE IF NOT EXISTS shop.orders (order_id uuid PRIMARY KEY, customer_id integer NOT NULL, "
                "total numeric(10, 2) NOT NULL, placed_at timestamptz NOT NULL DEFAULT now())")


def _url_of(session, where):
    return session.endpoint(SERVICE).at(where).url


# ---- step 1 ----
def writes_to_the_replica(rds, workspace):
    """Both URLs look alike; the replica's is the one at hand."""
    _table(rds)
    workspace.install_variant("app.py", "app-1.py", {
        '''    with psycopg.connect(INSTANCE_URL, connect_timeout=5) as conn:     # writes: the instance endpoint''':
        '''    with psycopg.connect(REPLICA_URL, connect_timeout=5) as conn:'''})


def writes_to_todays_primary_host(rds, workspace, session, rds_instance):
    """The port of today's primary host, copied from `labrunner status` into the code."""
    _table(rds)
    primary = rds_instance.role("primary")
    workspace.install_variant("app.py", "app-1.py", {
        'INSTANCE_URL = os.environ.get("INSTANCE_URL", "")':
        f'INSTANCE_URL = "{_url_of(session, primary)}"   # {primary}, from labrunner status'})


def plain_insert(rds, workspace):
    _table(rds)
    workspace.install_variant("app.py", "app-1.py", {
        '''VALUES (%s, %s, %s) "
                     "ON CONFLICT (order_id) DO NOTHING", (order_id''': '''VALUES (%s, %s, %s)", (order_id'''})


# ---- step 2 ----
def report_on_the_instance_endpoint(workspace):
    """One connection string for everything: the primary answers reports too."""
    workspace.install_variant("app.py", "app-2.py", {
        "    with psycopg.connect(REPLICA_URL, connect_timeout=5) as conn:      # reports: the replica":
        "    with psycopg.connect(INSTANCE_URL, connect_timeout=5) as conn:"})


def report_on_the_standby(workspace, session, rds_instance):
    """The standby is idle, so reports should go there — as many expect from Multi-AZ."""
    standby = rds_instance.role("standby")
    workspace.install_variant("app.py", "app-2.py", {
        "    with psycopg.connect(REPLICA_URL, connect_timeout=5) as conn:      # reports: the replica":
        f'    with psycopg.connect("{_url_of(session, standby)}", connect_timeout=5) as conn:   # the idle standby'})


# ---- step 3 ----
def own_order_read_from_the_replica(workspace):
    """Every read goes to the replica, the customer's own order too."""
    workspace.install_variant("app.py", "app-3.py", {
        "    with psycopg.connect(INSTANCE_URL, connect_timeout=5) as conn:     # read-your-writes: the primary":
        "    with psycopg.connect(REPLICA_URL, connect_timeout=5) as conn:"})


# ---- step 4 ----
_LAG_QUERY = '''        row = conn.execute("SELECT extract(epoch FROM replay_lag)::float8 FROM pg_stat_replication "
                           "WHERE application_name = 'replica_1'").fetchone()'''


def lag_of_the_standby(workspace):
    """The synchronous row: the first one a learner sees with a lag column filled in."""
    workspace.install_variant("app.py", "app-4.py", {_LAG_QUERY: '''        row = conn.execute("SELECT extract(epoch FROM replay_lag)::float8 FROM pg_stat_replication "
                           "WHERE sync_state = 'sync'").fetchone()'''})


def flush_lag_not_replay_lag(workspace):
    workspace.install_variant("app.py", "app-4.py", {_LAG_QUERY: '''        row = conn.execute("SELECT extract(epoch FROM flush_lag)::float8 FROM pg_stat_replication "
                           "WHERE application_name = 'replica_1'").fetchone()'''})


def replay_timestamp_on_the_primary(workspace):
    """The textbook query, run on the instance endpoint."""
    workspace.install_variant("app.py", "app-4.py", {
        '''        row = conn.execute("SELECT extract(epoch FROM replay_lag)::float8 FROM pg_stat_replication "
                           "WHERE application_name = 'replica_1'").fetchone()
    if row is None:
        raise RuntimeError("the replica is not streaming from the primary")
    return row[0] or 0.0          # NULL: the replica has applied everything''':
        '''        row = conn.execute("SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8").fetchone()
    return row[0]'''})


def replay_timestamp_while_idle(workspace):
    """The textbook query on the replica, without asking whether anything is waiting to be applied."""
    workspace.install_variant("app.py", "app-4.py", {
        '''    with psycopg.connect(INSTANCE_URL, connect_timeout=5) as conn:
        row = conn.execute("SELECT extract(epoch FROM replay_lag)::float8 FROM pg_stat_replication "
                           "WHERE application_name = 'replica_1'").fetchone()
    if row is None:
        raise RuntimeError("the replica is not streaming from the primary")
    return row[0] or 0.0          # NULL: the replica has applied everything''':
        '''    with psycopg.connect(REPLICA_URL, connect_timeout=5) as conn:
        row = conn.execute("SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8").fetchone()
    return row[0]'''})


# ---- step 5 ----
def no_retry(workspace):
    """The client dies at the first error."""
    workspace.install_variant("app.py", "app-5.py", {
        "            except (psycopg.OperationalError, psycopg.errors.ReadOnlySqlTransaction):\n":
        "            except ZeroDivisionError:\n"})


def falls_back_to_the_replica(workspace):
    """When the primary is gone, the replica must be the new primary — or so the client assumes."""
    workspace.install_variant("app.py", "app-5.py", {
        "                    conn = psycopg.connect(INSTANCE_URL, connect_timeout=3)":
        "                    conn = psycopg.connect(INSTANCE_URL if failing_since is None else REPLICA_URL, "
        "connect_timeout=3)"})


def acknowledged_before_commit(workspace):
    """Counts the order once the INSERT ran, before COMMIT: a COMMIT that fails afterwards is
    acknowledged anyway."""
    workspace.install_variant("app.py", "app-5.py", {
        """                conn.commit()
                acks.append([order_id, time.time()])     # acknowledged: COMMIT returned
""": """                acks.append([order_id, time.time()])     # counted as soon as the INSERT ran
                conn.commit()
"""})


def retry_without_backoff(workspace):
    """Reconnects and retries at once, as fast as the loop turns."""
    workspace.install_variant("app.py", "app-5.py", {
        "                time.sleep(wait)\n": "                pass                                      # try again at once\n"})


# ---- step 6 ----
def asks_the_instance_endpoint(workspace):
    workspace.install_variant("app.py", "app.py", {
        '''    with psycopg.connect(REPLICA_URL, connect_timeout=5) as conn:
        held = {row[0]''': '''    with psycopg.connect(INSTANCE_URL, connect_timeout=5) as conn:
        held = {row[0]'''})


def counts_not_ids(workspace):
    """How many are missing, then the last that many: the right count, the wrong orders."""
    workspace.install_variant("app.py", "app.py", {
        '''    return [order_id for order_id in ids if order_id not in held]''':
        '''    missing = len(ids) - len(held)
    return ids[len(ids) - missing:]'''})
