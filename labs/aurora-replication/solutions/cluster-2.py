"""Steps 2 and 3: which node is which, and how far behind the readers are.

Try it from your terminal after `eval "$(labrunner env)"`:

    python -c 'import os, cluster; print(cluster.role_of(os.environ["READER_URL"]))'
    python -c 'import cluster; print(cluster.replica_lag())'
"""

import os

import psycopg


def role_of(url):
    """'writer' or 'reader': the role of the node that the connection URL `url` reaches."""
    with psycopg.connect(url) as conn:
        in_recovery = conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
    return "reader" if in_recovery else "writer"


def replica_lag():
    """{reader name: bytes of WAL the writer has that the reader has not replayed yet}, asked of
    the writer through the cluster endpoint (WRITER_URL)."""
    raise NotImplementedError("step 3: ask the writer about its replicas")
