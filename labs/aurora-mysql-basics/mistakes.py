"""Typical wrong answers for aurora-mysql-basics, each proven caught by `labrunner test`."""


# ---- step 1 ----
def orders_in_the_default_database(aurora):
    """The table lands in appdb (the connection's database), not in shop."""
    with aurora.cursor() as cur:
        cur.execute("CREATE TABLE orders (order_id BIGINT AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL, "
                    "total DECIMAL(10, 2) NOT NULL)")
        cur.execute("INSERT INTO orders (customer_id, total) VALUES (1, 19.99)")


def total_as_float(aurora):
    with aurora.cursor() as cur:
        cur.execute("CREATE DATABASE shop")
        cur.execute("CREATE TABLE shop.orders (order_id BIGINT AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL, "
                    "total FLOAT NOT NULL)")
        cur.execute("INSERT INTO shop.orders (customer_id, total) VALUES (1, 19.99)")


# ---- step 2 ----
def role_from_the_transaction_flag(workspace):
    """tx_read_only is this session's default for new transactions (SET TRANSACTION READ ONLY),
    0 on a reader too: the server's read_only is another setting."""
    workspace.install_variant("cluster.py", "cluster-2.py", {
        'cur.execute("SELECT @@global.read_only")': 'cur.execute("SELECT @@session.tx_read_only")'})


def role_from_the_port(workspace):
    """The cluster endpoint's port, taken to mean 'writer': a reader's instance endpoint is not it,
    but neither is the writer's instance endpoint."""
    workspace.install_variant("cluster.py", "cluster-2.py", {
        '''    with connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@global.read_only")
        read_only = cur.fetchone()[0]
    return "reader" if read_only else "writer"''': '''    import os
    from urllib.parse import urlsplit
    return "writer" if urlsplit(url).port == urlsplit(os.environ["WRITER_URL"]).port else "reader"'''})


# ---- step 3 ----
def lag_from_what_was_received(workspace):
    """Gtid_IO_Pos is what the reader has received into its relay log, not what it applied."""
    workspace.install_variant("cluster.py", "cluster.py", {
        '''            cur.execute("SELECT @@global.gtid_slave_pos")
            lags[name] = written - _seq(cur.fetchone()[0])''': '''            cur.execute("SHOW SLAVE STATUS")
            columns = [d[0] for d in cur.description]
            lags[name] = written - _seq(dict(zip(columns, cur.fetchone()))["Gtid_IO_Pos"])'''})


def lag_from_seconds_behind_master(workspace):
    """Seconds_Behind_Master: NULL when the SQL thread is stopped, 0 on an idle reader."""
    workspace.install_variant("cluster.py", "cluster.py", {
        '''            cur.execute("SELECT @@global.gtid_slave_pos")
            lags[name] = written - _seq(cur.fetchone()[0])''': '''            cur.execute("SHOW SLAVE STATUS")
            columns = [d[0] for d in cur.description]
            lags[name] = dict(zip(columns, cur.fetchone()))["Seconds_Behind_Master"]'''})


# ---- step 4 ----
def every_read_through_the_cluster_endpoint(workspace):
    workspace.install_variant("shop_api.py", "shop_api.py", {
        "    with connect(READER_URL) as conn, conn.cursor() as cur:": "    with connect(WRITER_URL) as conn, conn.cursor() as cur:"})


def reads_from_one_reader_instance(workspace, session, aurora_cluster):
    """A reader's instance endpoint, copied from `labrunner status`: the reads reach a reader, but
    always the same one, and stop when it does."""
    writer = aurora_cluster.status()["writer"]
    reader = next(n for n in ("aurora-1", "aurora-2", "aurora-3") if n != writer)
    url = session.endpoint("aurora-mysql").at(reader).url
    workspace.install_variant("shop_api.py", "shop_api.py", {
        "    with connect(READER_URL) as conn, conn.cursor() as cur:":
            f"    with connect(\"{url}\") as conn, conn.cursor() as cur:   # {reader}"})


# ---- step 5 ----
def no_retry(workspace):
    workspace.install_variant("writer.py", "writer.py", {"            except RETRYABLE:": "            except ():"})


def plain_insert_retried(workspace):
    """A retry that sends a plain INSERT again: a payment stored by an attempt whose answer was lost
    makes it fail with a duplicate key."""
    workspace.install_variant("writer.py", "writer.py", {
        'INSERT = "INSERT IGNORE INTO shop.payments': 'INSERT = "INSERT INTO shop.payments'})


def retry_on_the_dead_connection(workspace):
    workspace.install_variant("writer.py", "writer.py", {
        '''                if conn is not None:
                    try:
                        conn.close()
                    except Exception:
                        pass
                conn = None                             # the next try connects again''': '''                pass                                    # try again on the same connection'''})
