"""Steps 2 and 3: which node is which, and how far behind the readers are.

Try it from your terminal after `eval "$(labrunner env)"`:

    python -c 'import os, cluster; print(cluster.role_of(os.environ["READER_URL"]))'
"""

from urllib.parse import unquote, urlsplit

import pymysql


def connect(url):
    """A PyMySQL connection (autocommit) from a URL such as mysql://admin:pw@127.0.0.1:3306/appdb."""
    parts = urlsplit(url)
    return pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=unquote(parts.username or ""),
                           password=unquote(parts.password or ""), database=parts.path.lstrip("/") or None,
                           autocommit=True, connect_timeout=5)


def role_of(url):
    """'writer' or 'reader': the role of the node that the connection URL `url` reaches."""
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@global.read_only")
        read_only = cur.fetchone()[0]
    return "reader" if read_only else "writer"


def _seq(position):
    """'0-2-57' -> 57: the sequence number of a GTID position (domain 0, as here)."""
    return int(position.split(",")[0].rsplit("-", 1)[1]) if position else 0


def replica_lag(writer_url, reader_urls):
    """{reader name: how many transactions the writer has that the reader has not APPLIED yet}.
    writer_url reaches the writer; reader_urls is {reader name: its instance endpoint's URL}."""
    with connect(writer_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@global.gtid_binlog_pos")
        written = _seq(cur.fetchone()[0])
    lags = {}
    for name, url in reader_urls.items():
        with connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT @@global.gtid_slave_pos")
            lags[name] = written - _seq(cur.fetchone()[0])
    return lags
