"""Step 5: the repair as a program, so the next incident is a command, not an afternoon.

The check runs copy_lost_rows on an incident of its own: it loads a table on the cluster,
deletes rows from it at a recorded time, lets new rows arrive, restores a new server to just
before the DELETE (as `labrunner restore-to-time` does) and calls

    copy_lost_rows(restored_url, cluster_url, "drill.payments")

Both URLs are postgresql:// connection strings (RESTORED_URL and WRITER_URL in `labrunner env`).
"""

import psycopg


def copy_lost_rows(restored_url, cluster_url, table):
    """Put back into `table` on the cluster the rows the restored copy of `table` holds and the
    cluster's does not, and nothing else: rows added since stay, no row appears twice, and
    running it a second time changes nothing. Return the number of rows put back."""
    raise NotImplementedError("step 5")
