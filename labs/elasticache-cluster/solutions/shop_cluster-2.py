"""The shop's cache on a cluster of three shards (steps 1 and 2 done)."""

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


def profile_keys(user_id):
    """One hash tag, {user:ID}: only the part in braces is hashed, so the three keys share a slot."""
    return [f"{{user:{user_id}}}:{field}" for field in ("name", "email", "plan")]


def save_profile(user_id, name, email, plan):
    connect().mset(dict(zip(profile_keys(user_id), (name, email, plan))))


def load_profile(user_id):
    return connect().mget(profile_keys(user_id))


def cache_page(path, html):
    raise NotImplementedError("step 5")
