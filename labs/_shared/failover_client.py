"""A connection that a check opens while a cluster or a Multi-AZ instance may be failing over
(aurora-failover, aurora-mysql-basics, rds-postgres-replicas): the same retry for either
engine, given the driver's connect function.

    # labs/aurora-failover/checks.py
    failover_client = load("failover_client", __file__)
    conn = failover_client.retry_connect(postgres.connect, endpoint, "the cluster endpoint")
"""

import time

from labrunner.checks import fail

WAIT = 30.0       # seconds to keep trying: a failover on the local runtime takes a few
PAUSE = 0.2       # seconds between attempts


def retry_connect(connect, endpoint, what, wait=WAIT):
    """connect(endpoint), tried again every PAUSE seconds while it raises, for up to `wait`
    seconds; then a check failure naming `what` (e.g. "the cluster endpoint", "instance-2")."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return connect(endpoint)
        except Exception as exc:
            if time.monotonic() > deadline:
                fail(f"{what} does not answer ({exc}): `labrunner status` shows its nodes")
            time.sleep(PAUSE)
