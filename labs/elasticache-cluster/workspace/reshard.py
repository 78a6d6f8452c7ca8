"""Step 3: add the spare node as a fourth shard and move hash slots to it, while the shop
keeps reading and writing.

ELASTICACHE_SPARE_NODE is the spare's 'host:port'; ELASTICACHE_PASSWORD logs in to every node.
"""

import os

import redis  # noqa: F401

PASSWORD = os.environ.get("ELASTICACHE_PASSWORD", "")


def add_shard(spare, slot_count):
    """Make the node at `spare` ('host:port') a primary of the cluster (if it is not one yet) and
    move `slot_count` more hash slots to it, with their keys, from the other primaries."""
    raise NotImplementedError("step 3: CLUSTER MEET, then move slots one by one")
