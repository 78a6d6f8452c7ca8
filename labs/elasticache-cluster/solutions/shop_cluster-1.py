"""The shop's cache on a cluster of three shards (step 1 done)."""

import os

from redis.cluster import RedisCluster

HOST = os.environ.get("ELASTICACHE_HOST", "127.0.0.1")
PORT = int(os.environ.get("ELASTICACHE_PORT", "6379"))
PASSWORD = os.environ.get("ELASTICACHE_PASSWORD", "")


def connect():
    """A client for the whole cluster (strings decoded)."""
    return RedisCluster(host=HOST, port=PORT, password=PASSWORD, decode_responses=True)


def save_product(product_id, name):
    connect().set(f"product:{product_id}", name)


def where_is(key):
    """'host:port' of the primary node that holds `key`'s hash slot."""
    cluster = connect()
    slot = cluster.cluster_keyslot(key)               # the server's CRC16(key) mod 16384
    for (low, high), owner in cluster.cluster_slots().items():
        if low <= slot <= high:
            host, port = owner["primary"]
            return f"{host}:{port}"
    raise LookupError(f"no node owns slot {slot}")


def save_profile(user_id, name, email, plan):
    raise NotImplementedError("step 2")


def load_profile(user_id):
    raise NotImplementedError("step 2")


def cache_page(path, html):
    raise NotImplementedError("step 5")
