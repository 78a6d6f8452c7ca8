"""Step 5: a client that keeps taking payments while the cluster fails over.

WRITER_URL is the cluster endpoint. Try it after `eval "$(labrunner env)"`:

    python writer.py        # writes a payment every 20 ms until Ctrl-C

and, in another terminal, `labrunner fault kill aurora-mysql/writer`.
"""

import os
import random
import sys
import time
import uuid
from urllib.parse import unquote, urlsplit

import pymysql

WRITER_URL = os.environ.get("WRITER_URL", "")


def connect(url):
    """A PyMySQL connection (NOT autocommit: commit yourself) from a mysql:// URL."""
    parts = urlsplit(url)
    return pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=unquote(parts.username or ""),
                           password=unquote(parts.password or ""), database=parts.path.lstrip("/") or None,
                           autocommit=False, connect_timeout=3)


GIVE_UP = 20.0          # seconds one payment may keep failing before the client gives up
RETRYABLE = (pymysql.err.OperationalError,     # connection lost or refused (2003, 2013), read-only (1290)
             pymysql.err.InterfaceError)       # a connection that is already closed
INSERT = "INSERT IGNORE INTO shop.payments (payment_id, amount) VALUES (%s, %s)"   # twice stores once


def write_payments(payments, pause=0.0):
    """Store every [payment_id, amount] of `payments` in shop.payments, in order, waiting `pause`
    seconds between two, through failovers: retry each payment on a fresh connection, waiting
    longer each time, until it is stored. Sending one payment twice must store it once.
    Return the acknowledgements: [[payment_id, time.time() when its COMMIT returned], ...]."""
    acks, conn = [], None
    for payment_id, amount in payments:
        wait, failing_since = 0.05, None
        while True:
            try:
                if conn is None:
                    conn = connect(WRITER_URL)         # the cluster endpoint: the writer of the moment
                with conn.cursor() as cur:
                    cur.execute(INSERT, (payment_id, amount))
                conn.commit()
                acks.append([payment_id, time.time()])    # acknowledged: COMMIT returned
                break
            except RETRYABLE:
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:
                        pass
                conn = None                             # the next try connects again
                failing_since = failing_since or time.monotonic()
                if time.monotonic() - failing_since > GIVE_UP:
                    raise
                time.sleep(wait)
                wait = min(wait * 2, 1.0)               # 0.05, 0.1, 0.2, ... at most 1 s
        time.sleep(pause)
    if conn is not None:
        conn.close()
    return acks


if __name__ == "__main__":
    try:
        while True:
            batch = [[str(uuid.uuid4()), f"{random.randint(100, 9999) / 100:.2f}"] for _ in range(50)]
            acks = write_payments(batch, pause=0.02)
            print(f"{time.strftime('%H:%M:%S')}  {len(acks)} payments acknowledged", flush=True)
    except NotImplementedError as exc:
        sys.exit(f"writer.py: write_payments() is not written yet ({exc})")
    except KeyboardInterrupt:
        sys.exit(0)
