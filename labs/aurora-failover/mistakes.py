"""Typical wrong answers for aurora-failover, each proven caught by `labrunner test`."""


# ---- step 1 ----
def order_id_numbered_by_the_database(aurora):
    aurora.execute("CREATE SCHEMA shop")
    aurora.execute("CREATE TABLE shop.orders (order_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                   "customer_id integer NOT NULL, total numeric(10, 2) NOT NULL)")


# ---- step 2 ----
def writes_to_an_instance_endpoint(workspace, session, aurora_cluster):
    """The port of today's writer, copied from `labrunner status` into the code."""
    endpoint = session.endpoint("aurora-postgresql")
    writer = aurora_cluster.status()["writer"]
    url = endpoint.at(writer).url
    workspace.install_variant("writer.py", "writer-2.py", {
        'WRITER_URL = os.environ.get("WRITER_URL", "")': f'WRITER_URL = "{url}"   # {writer}, from labrunner status'})


def plain_insert(workspace):
    workspace.install_variant("writer.py", "writer-2.py", {
        '''VALUES (%s, %s, %s) "
                     "ON CONFLICT (order_id) DO NOTHING", (order_id''': '''VALUES (%s, %s, %s)", (order_id'''})


# ---- step 3 ----
def no_retry(workspace):
    """The client dies at the first error."""
    workspace.install_variant("writer.py", "writer-3.py", {"            except RETRYABLE:\n":
                                                           "            except ZeroDivisionError:\n"})


def retry_without_reconnecting(workspace):
    """Retries on the same connection object, which died with the server."""
    workspace.install_variant("writer.py", "writer-3.py", {
        '''                if conn is not None:
                    conn.close()
                conn = None                                 # the next try connects again
''': '''                pass                                        # try again on the same connection
'''})


def retry_without_backoff(workspace):
    """Reconnects and retries at once, as fast as the loop turns: a retry storm on a struggling writer."""
    workspace.install_variant("writer.py", "writer-3.py", {
        "                time.sleep(wait)\n": "                pass                                        # try again at once\n"})


def acknowledged_before_commit(workspace):
    workspace.install_variant("writer.py", "writer-3.py", {
        '''                conn.commit()
                acks.append([order_id, time.time()])       # acknowledged: COMMIT returned
''': '''                acks.append([order_id, time.time()])       # counted as soon as the INSERT ran
                conn.commit()
'''})


def blind_retry_of_a_plain_insert(workspace):
    workspace.install_variant("writer.py", "writer-3.py", {
        '''VALUES (%s, %s, %s) "
                             "ON CONFLICT (order_id) DO NOTHING", (order_id''': '''VALUES (%s, %s, %s)", (order_id'''})


# ---- step 4 ----
def outage_as_the_whole_run(workspace):
    workspace.install_variant("writer.py", "writer-4.py", {
        "    return max((later - earlier for earlier, later in zip(times, times[1:])), default=0.0)":
            "    return times[-1] - times[0] if times else 0.0"})


def outage_as_the_average_gap(workspace):
    workspace.install_variant("writer.py", "writer-4.py", {
        "    return max((later - earlier for earlier, later in zip(times, times[1:])), default=0.0)":
            "    gaps = [later - earlier for earlier, later in zip(times, times[1:])]\n"
            "    return sum(gaps) / len(gaps) if gaps else 0.0"})


# ---- step 5 ----
def missing_by_count(workspace):
    """Counts rows instead of comparing ids: more rows than acknowledgements looks like nothing lost."""
    workspace.install_variant("writer.py", "writer.py", {
        '''    with psycopg.connect(url, connect_timeout=3) as conn:
        stored = {row[0] for row in conn.execute(
            "SELECT order_id::text FROM shop.orders WHERE order_id::text = ANY(%s)", (ids,))}
    return [order_id for order_id in ids if order_id not in stored]''': '''    with psycopg.connect(url, connect_timeout=3) as conn:
        count = conn.execute("SELECT count(*) FROM shop.orders").fetchone()[0]
    return [] if count >= len(ids) else ids[count:]'''})


def missing_asks_the_writer_whatever_the_url(workspace):
    """Looks the ids up through WRITER_URL, not the node it is given: every node seems to hold what
    the writer holds, a reader that has fallen behind included."""
    workspace.install_variant("writer.py", "writer.py", {
        "    with psycopg.connect(url, connect_timeout=3) as conn:\n        stored":
            "    with psycopg.connect(WRITER_URL, connect_timeout=3) as conn:\n        stored"})
