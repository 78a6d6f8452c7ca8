"""Correct answers the reference solutions do not take, one or more per step."""

import subprocess


def _mysql(session, workspace, *statements):
    """mysql -e ... from the lab folder, as `labrunner tool aurora-mysql mysql` runs it."""
    from labrunner import clients

    command = clients.resolve(session, "aurora-mysql", "mysql", cwd=str(workspace.path))
    subprocess.run(command.argv + ["-e", ";\n".join(statements)], env=command.env, cwd=workspace.path,
                   check=True, capture_output=True, timeout=120)


# ---- step 1 ----
def orders_from_the_mysql_client(session, workspace):
    _mysql(session, workspace, "CREATE DATABASE shop",
           "CREATE TABLE shop.orders (order_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, customer_id BIGINT NOT NULL, "
           "total DECIMAL(12, 2) NOT NULL, note VARCHAR(200), PRIMARY KEY (order_id)) ENGINE=InnoDB",
           "INSERT INTO shop.orders (customer_id, total, note) VALUES (7, 42.50, 'first order')")


# ---- step 2 ----
def role_from_a_refused_write(workspace):
    """Try a write in a transaction and roll it back: ERROR 1290 (--read-only) means a reader."""
    workspace.install_variant("cluster.py", "cluster-2.py", {
        '''    with connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@global.read_only")
        read_only = cur.fetchone()[0]
    return "reader" if read_only else "writer"''': '''    conn = connect(url)
    try:
        conn.begin()
        with conn.cursor() as cur:
            cur.execute("INSERT INTO shop.orders (customer_id, total) VALUES (0, 0)")
    except pymysql.err.OperationalError as exc:
        if exc.args[0] == 1290:          # The MariaDB server is running with the --read-only option
            return "reader"
        raise
    finally:
        conn.rollback()
        conn.close()
    return "writer"'''})


def role_portable_to_aurora(workspace):
    """Real Aurora MySQL marks its readers with innodb_read_only; MariaDB's replicas here with
    read_only: a role_of that asks for either works on both."""
    workspace.install_variant("cluster.py", "cluster-2.py", {
        'cur.execute("SELECT @@global.read_only")':
            'cur.execute("SELECT @@global.read_only OR @@global.innodb_read_only")'})


# ---- step 3 ----
def lag_from_show_variables(workspace):
    """SHOW GLOBAL VARIABLES instead of @@, and the writer's gtid_current_pos."""
    workspace.install_variant("cluster.py", "cluster.py", {
        '''        cur.execute("SELECT @@global.gtid_binlog_pos")
        written = _seq(cur.fetchone()[0])''': '''        cur.execute("SHOW GLOBAL VARIABLES LIKE 'gtid_current_pos'")
        written = _seq(cur.fetchone()[1])''',
        '''            cur.execute("SELECT @@global.gtid_slave_pos")
            lags[name] = written - _seq(cur.fetchone()[0])''': '''            cur.execute("SHOW GLOBAL VARIABLES LIKE 'gtid_slave_pos'")
            lags[name] = written - _seq(cur.fetchone()[1])'''})


# ---- step 4 ----
def one_reader_connection_for_every_call(workspace):
    """A connection kept open between calls (as a pool would): still the reader endpoint."""
    workspace.install_variant("shop_api.py", "shop_api.py", {
        '''    with connect(READER_URL) as conn, conn.cursor() as cur:     # may be a moment old: a reader
        cur.execute("SELECT total FROM shop.orders WHERE customer_id = %s ORDER BY order_id", (customer_id,))
        return [str(total) for (total,) in cur.fetchall()]''': '''    global _reader
    if "_reader" not in globals():
        _reader = connect(READER_URL)
    with _reader.cursor() as cur:
        cur.execute("SELECT CAST(total AS CHAR) FROM shop.orders WHERE customer_id = %s", (customer_id,))
        return [total for (total,) in cur.fetchall()]'''})


# ---- step 5 ----
def upsert_with_a_connection_per_attempt(workspace):
    """ON DUPLICATE KEY UPDATE instead of INSERT IGNORE, and a new connection for every payment."""
    workspace.install_variant("writer.py", "writer.py", {
        'INSERT = "INSERT IGNORE INTO shop.payments (payment_id, amount) VALUES (%s, %s)"':
            'INSERT = ("INSERT INTO shop.payments (payment_id, amount) VALUES (%s, %s) "\n'
            '          "ON DUPLICATE KEY UPDATE payment_id = payment_id")',
        "                acks.append([payment_id, time.time()])    # acknowledged: COMMIT returned":
            "                acks.append([payment_id, time.time()])    # acknowledged: COMMIT returned\n"
            "                conn.close()\n"
            "                conn = None"})
