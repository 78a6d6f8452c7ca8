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


def write_payments(payments, pause=0.0):
    """Store every [payment_id, amount] of `payments` in shop.payments, in order, waiting `pause`
    seconds between two, through failovers: retry each payment on a fresh connection, waiting
    longer each time, until it is stored. Sending one payment twice must store it once.
    Return the acknowledgements: [[payment_id, time.time() when its COMMIT returned], ...]."""
    raise NotImplementedError("step 5")


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
