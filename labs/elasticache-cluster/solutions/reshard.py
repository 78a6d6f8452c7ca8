"""Step 3: add the spare node as a fourth shard and move hash slots to it, while the shop
keeps reading and writing."""

import os
import time

import redis

PASSWORD = os.environ.get("ELASTICACHE_PASSWORD", "")


def node(address):
    host, port = address.rsplit(":", 1)
    return redis.Redis(host=host, port=int(port), password=PASSWORD, decode_responses=True)


def cluster_nodes(conn):
    """CLUSTER NODES as rows: id, 'host:port', flags, slot ranges."""
    rows = []
    for line in conn.execute_command("CLUSTER", "NODES").splitlines():
        parts = line.split()
        rows.append({"id": parts[0], "address": parts[1].split("@")[0], "bus": parts[1].split("@")[1].split(",")[0],
                     "flags": parts[2], "slots": [s for s in parts[8:] if not s.startswith("[")]})
    return rows


def owned_slots(row):
    for item in row["slots"]:
        low, _, high = item.partition("-")
        yield from range(int(low), int(high or low) + 1)


def join(new):
    """CLUSTER MEET from the new node to a primary, then wait until every primary knows it
    and the new node sees the whole cluster ok."""
    me = next(r for r in cluster_nodes(new) if "myself" in r["flags"])
    seed = node(f"{os.environ['ELASTICACHE_HOST']}:{os.environ['ELASTICACHE_PORT']}")
    if any(r["id"] == me["id"] for r in cluster_nodes(seed)):
        return me["id"]
    host, port = seed.connection_pool.connection_kwargs["host"], seed.connection_pool.connection_kwargs["port"]
    seed_bus = next(r for r in cluster_nodes(seed) if "myself" in r["flags"])["bus"]
    new.execute_command("CLUSTER", "MEET", host, port, seed_bus)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        primaries = [r for r in cluster_nodes(new) if "master" in r["flags"] and r["id"] != me["id"]]
        if primaries and all(any(x["id"] == me["id"] for x in cluster_nodes(node(p["address"])))
                             for p in primaries) and "cluster_state:ok" in new.execute_command("CLUSTER", "INFO"):
            return me["id"]       # it knows every slot's owner, so it can take keys
        time.sleep(0.2)
    raise TimeoutError("the other nodes did not learn of the new node in 20 s")


def move_slot(slot, source, source_id, target, target_id, target_address):
    """The documented order: IMPORTING on the target, MIGRATING on the source, move the keys,
    then give the slot to the target (target first, then the source)."""
    host, port = target_address.rsplit(":", 1)
    target.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
    source.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
    while True:
        keys = source.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100)
        if not keys:
            break
        source.execute_command("MIGRATE", host, int(port), "", 0, 5000, "AUTH", PASSWORD, "KEYS", *keys)
    target.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
    source.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)


def add_shard(spare, slot_count):
    new = node(spare)
    new_id = join(new)
    others = [r for r in cluster_nodes(new) if "master" in r["flags"] and r["id"] != new_id and r["slots"]]
    per_source = [slot_count // len(others) + (1 if i < slot_count % len(others) else 0) for i in range(len(others))]
    for row, count in zip(others, per_source):
        source = node(row["address"])
        for slot in sorted(owned_slots(row))[-count:] if count else []:
            move_slot(slot, source, row["id"], new, new_id, spare)
