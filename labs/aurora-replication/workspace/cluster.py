"""Steps 2 and 3: which node is which, and how far behind the readers are.

Try it from your terminal after `eval "$(labrunner env)"`:

    python -c 'import os, cluster; print(cluster.role_of(os.environ["READER_URL"]))'
    python -c 'import cluster; print(cluster.replica_lag())'
"""

import os

import psycopg


def role_of(url):
    """'writer' or 'reader': the role of the node that the connection URL `url` reaches."""
    raise NotImplementedError("step 2: connect to url and ask the server")


def replica_lag():
    """{reader name: bytes of WAL the writer has that the reader has not replayed yet}, asked of
    the writer through the cluster endpoint (WRITER_URL)."""
    raise NotImplementedError("step 3: ask the writer about its replicas")
