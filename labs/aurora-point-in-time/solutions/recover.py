"""Step 5: the repair as a program, so the next incident is a command, not an afternoon.

The check runs copy_lost_rows on an incident of its own: it loads a table on the cluster,
deletes rows from it at a recorded time, lets new rows arrive, restores a new server to just
before the DELETE (as `labrunner restore-to-time` does) and calls

    copy_lost_rows(restored_url, cluster_url, "drill.payments")

Both URLs are postgresql:// connection strings (RESTORED_URL and WRITER_URL in `labrunner env`).
"""

import psycopg
from psycopg import sql


def copy_lost_rows(restored_url, cluster_url, table):
    """Put back into `table` on the cluster the rows the restored copy of `table` holds and the
    cluster's does not, and nothing else: rows added since stay, no row appears twice, and
    running it a second time changes nothing. Return the number of rows put back."""
    name = sql.Identifier(*table.split("."))
    with psycopg.connect(restored_url) as source, psycopg.connect(cluster_url) as target:
        # 1. The restored copy, as it was before the DELETE, into a scratch table on the cluster.
        target.execute(sql.SQL("CREATE TEMP TABLE before_delete (LIKE {} INCLUDING ALL)").format(name))
        with source.cursor().copy(sql.SQL("COPY {} TO STDOUT").format(name)) as out, \
                target.cursor().copy("COPY before_delete FROM STDIN") as into:
            for block in out:
                into.write(block)
        # 2. Only the payments the cluster no longer holds go back.
        added = target.execute(sql.SQL(
            "INSERT INTO {t} SELECT b.* FROM before_delete b "
            "WHERE NOT EXISTS (SELECT 1 FROM {t} p WHERE p.payment_id = b.payment_id)").format(t=name)).rowcount
        target.commit()
    return added
