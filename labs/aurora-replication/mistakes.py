"""Typical wrong answers for aurora-replication, each proven caught by `labrunner test`."""


# ---- step 1 ----
def orders_in_public(aurora):
    aurora.execute("CREATE TABLE orders (order_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                   "customer_id integer NOT NULL, total numeric(10, 2) NOT NULL)")
    aurora.execute("INSERT INTO orders (customer_id, total) VALUES (1, 19.99)")


def order_id_without_default(aurora):
    aurora.execute("CREATE SCHEMA shop")
    aurora.execute("CREATE TABLE shop.orders (order_id bigint PRIMARY KEY, customer_id integer NOT NULL, "
                   "total numeric(10, 2) NOT NULL)")
    aurora.execute("INSERT INTO shop.orders VALUES (1, 1, 19.99)")


# ---- step 2 ----
def role_from_the_read_only_default(workspace):
    """default_transaction_read_only is off on a standby too: only the transaction is read-only."""
    workspace.install_variant("cluster.py", "cluster-2.py", {
        'in_recovery = conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]':
            'in_recovery = conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"'})


# ---- step 3 ----
def lag_from_what_was_sent(workspace):
    workspace.install_variant("cluster.py", "cluster.py", {"pg_current_wal_lsn(), replay_lsn)": "pg_current_wal_lsn(), sent_lsn)"})


# ---- step 4 ----
def order_page_read_from_a_reader(workspace):
    workspace.install_variant("shop_api.py", "shop_api-4.py", {
        '''        conn.commit()
        rows = conn.execute("SELECT total FROM shop.orders WHERE customer_id = %s ORDER BY order_id",
                            (customer_id,)).fetchall()''': '''        conn.commit()
    with psycopg.connect(READER_URL) as conn:
        rows = conn.execute("SELECT total FROM shop.orders WHERE customer_id = %s ORDER BY order_id",
                            (customer_id,)).fetchall()'''})


def order_placed_through_the_writers_instance_endpoint(workspace, session, aurora_cluster):
    """The writer's instance endpoint, copied from `labrunner status`: it is the writer today,
    and every page reads its own writes, until a failover makes that instance a reader."""
    writer = aurora_cluster.status()["writer"]
    url = session.endpoint("aurora-postgresql").at(writer).url
    workspace.install_variant("shop_api.py", "shop_api-4.py", {
        "    with psycopg.connect(WRITER_URL) as conn:          # the write, and reading it back: the writer":
            f"    with psycopg.connect(\"{url}\") as conn:          # {writer}, the writer"})


# ---- step 5 ----
def every_read_through_the_cluster_endpoint(workspace):
    workspace.install_variant("shop_api.py", "shop_api.py", {
        "    with psycopg.connect(READER_URL) as conn:          # a read": "    with psycopg.connect(WRITER_URL) as conn:          # a read"})


def reads_from_one_reader_instance(workspace, session, aurora_cluster):
    """A reader's instance endpoint, copied from `labrunner status`: the reads reach a reader, but
    always the same one, and stop when it does."""
    writer = aurora_cluster.status()["writer"]
    reader = next(n for n in ("aurora-1", "aurora-2", "aurora-3") if n != writer)
    url = session.endpoint("aurora-postgresql").at(reader).url
    workspace.install_variant("shop_api.py", "shop_api.py", {
        "    with psycopg.connect(READER_URL) as conn:          # a read":
            f"    with psycopg.connect(\"{url}\") as conn:          # {reader}, a read"})
