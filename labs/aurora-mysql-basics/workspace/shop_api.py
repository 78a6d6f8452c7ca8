"""Step 4: the shop's 'my orders' page. WRITER_URL is the cluster endpoint, READER_URL the
reader endpoint (`labrunner env` sets both, as an application's configuration would)."""

import os
from urllib.parse import unquote, urlsplit

import pymysql

WRITER_URL = os.environ.get("WRITER_URL", "")
READER_URL = os.environ.get("READER_URL", "")


def connect(url):
    """A PyMySQL connection (autocommit) from a URL such as mysql://admin:pw@127.0.0.1:3306/appdb."""
    parts = urlsplit(url)
    return pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=unquote(parts.username or ""),
                           password=unquote(parts.password or ""), database=parts.path.lstrip("/") or None,
                           autocommit=True, connect_timeout=5)


def orders_of(customer_id):
    """The customer's order totals (as text, e.g. '19.99'), for the page every visitor loads."""
    raise NotImplementedError("step 4")
