"""The shop's cache on a cluster of three shards: the file you change in steps 1, 2 and 5.

Try it from your terminal after `eval "$(labrunner env)"`:

    python -c 'import shop_cluster; print(shop_cluster.where_is("product:42"))'

ELASTICACHE_HOST, ELASTICACHE_PORT and ELASTICACHE_PASSWORD say where the cluster is and how
to log in: one node's address is enough for a cluster-aware client to find all the others.
"""

import os

import redis  # noqa: F401  (redis.cluster.RedisCluster is the cluster-aware client)

HOST = os.environ.get("ELASTICACHE_HOST", "127.0.0.1")
PORT = int(os.environ.get("ELASTICACHE_PORT", "6379"))
PASSWORD = os.environ.get("ELASTICACHE_PASSWORD", "")


def connect():
    """A client for the whole cluster (strings decoded)."""
    raise NotImplementedError("step 1: return a client that knows the cluster's shards")


def save_product(product_id, name):
    """Store the product's name under the key product:<product_id>."""
    raise NotImplementedError("step 1: SET product:<id> through connect()")


def where_is(key):
    """'host:port' of the primary node that holds `key`'s hash slot."""
    raise NotImplementedError("step 1: ask which slot the key hashes to, and who owns it")


def save_profile(user_id, name, email, plan):
    """Store the user's name, email and plan as three string keys."""
    raise NotImplementedError("step 2")


def load_profile(user_id):
    """[name, email, plan] of the user, read with ONE MGET."""
    raise NotImplementedError("step 2")


def cache_page(path, html):
    """Keep a rendered page in the cache (step 5: a cached copy may be evicted, a session never)."""
    raise NotImplementedError("step 5")
