"""Checks for elasticache-cluster: each reads the live cluster (every node's own CLUSTER NODES,
INFO and CONFIG) and calls the learner's code in a child process.

Fixtures: elasticache_cluster (a cluster-aware redis-py client), cluster_node(name) (a plain
client to node-1 .. node-4), session, answer. The learner's code reads ELASTICACHE_HOST,
ELASTICACHE_PORT, ELASTICACHE_PASSWORD and ELASTICACHE_SPARE_NODE from the environment.
"""

import random
import threading
import time

from labrunner.checks import expect, fail

NODES = ("node-1", "node-2", "node-3", "node-4")
MAX_LIMIT = 32 * 1024 * 1024     # "a small maxmemory": the fill below writes twice the cluster's limit
RESHARD_TIMEOUT = 120
FILLER = "lab-fill"               # the prefix of what the step 4 check writes, and removes again


def _text(value):
    return value if isinstance(value, str) else str(value)


def _info(conn, section):
    return conn.info(section)


def _primaries(cluster_node, session):
    """{name: {"id", "slots", "address"}} of the nodes that own slots, as node-1 sees them."""
    endpoint = session.endpoint("elasticache-cluster")
    by_port = {endpoint.port: "node-1", **{endpoint.port_of(n): n for n in NODES[1:]}}
    conn = cluster_node("node-1")
    rows = {}
    for line in _text(conn.execute_command("CLUSTER", "NODES")).splitlines():
        parts = line.split()
        address = parts[1].split("@")[0]
        port = int(address.rsplit(":", 1)[1])
        slots = 0
        for item in parts[8:]:
            if not item.startswith("["):
                low, _, high = item.partition("-")
                slots += int(high or low) - int(low) + 1
        if "master" in parts[2] and slots:
            rows[by_port.get(port, address)] = {"id": parts[0], "slots": slots, "address": address}
    return rows


def _own_slots(cluster_node, name):
    """How many slots a node says it owns (its own `myself` line of CLUSTER NODES)."""
    me = next(line for line in _text(cluster_node(name).execute_command("CLUSTER", "NODES")).splitlines()
              if "myself" in line)
    count = 0
    for item in me.split()[8:]:
        if not item.startswith("["):
            low, _, high = item.partition("-")
            count += int(high or low) - int(low) + 1
    return count


def _cluster_ok(cluster_node, names):
    for name in names:
        info = _text(cluster_node(name).execute_command("CLUSTER", "INFO"))
        expect("cluster_state:ok" in info,
               f"{name} says the cluster is not ok ({info.splitlines()[0]}): every slot needs an owner — "
               "`labrunner tool elasticache-cluster valkey-cli --cluster check 127.0.0.1:PORT` names the gap")


def _owner_address(session, cluster_node, key):
    slot = int(cluster_node("node-1").execute_command("CLUSTER", "KEYSLOT", key))
    for (low, high), owner in _slots(cluster_node).items():
        if low <= slot <= high:
            return slot, owner
    fail(f"no node owns slot {slot}")


def _slots(cluster_node):
    found = {}
    for row in cluster_node("node-1").execute_command("CLUSTER", "SLOTS"):
        if isinstance(row, dict):        # redis-py may parse it already
            return {k: f"{v['primary'][0]}:{v['primary'][1]}" for k, v in row.items()}
        low, high, primary = row[0], row[1], row[2]
        found[(int(low), int(high))] = f"{_text(primary[0])}:{int(primary[1])}"
    return found


# ---- step 1: keys spread by hash slot ---------------------------------------------------------

def products_spread_over_the_shards(session, cluster_node, answer):
    ids = random.sample(range(1000, 99999), 12)
    names = {i: f"product {i}-{random.randint(100, 999)}" for i in ids}
    results = answer.run("shop_cluster.py", [("save_product", (i, names[i])) for i in ids], timeout=60)
    for result in results:
        if not result.ok and ("MOVED" in (result.error_message or "") or result.error_type == "MovedError"):
            fail(f"{result.describe_call()} got a MOVED redirection: the key's slot lives on another node. "
                 "A plain client talks to one node only; connect() must return a cluster-aware client "
                 "(redis.cluster.RedisCluster), which follows MOVED and sends each key to its shard")
        result.value_or_fail()
    holders = {}
    by_address = {row["address"]: name for name, row in _primaries(cluster_node, session).items()}
    for i in ids:
        slot, owner = _owner_address(session, cluster_node, f"product:{i}")
        node = by_address.get(owner, owner)
        got = cluster_node(node).execute_command("GET", f"product:{i}") if node in NODES else None
        expect(got == names[i], f"save_product({i}, {names[i]!r}): product:{i} (slot {slot}) holds {got!r} on "
                                f"{node}, the node that owns its slot; expected {names[i]!r}")
        holders[node] = holders.get(node, 0) + 1
    expect(len(holders) >= 2, f"all 12 products landed on {', '.join(holders)}: keys should spread by hash slot")
    spread = ", ".join(f"{n} {c}" for n, c in sorted(holders.items()))
    return f"12 products spread by hash slot: {spread}"


def where_is_names_the_owner(session, cluster_node, answer):
    keys = [f"product:{random.randint(1, 10**6)}" for _ in range(5)] + [f"user:{random.randint(1, 10**6)}:cart"
                                                                        for _ in range(5)]
    results = answer.run("shop_cluster.py", [("where_is", (key,)) for key in keys], timeout=60)
    for key, result in zip(keys, results):
        got = result.value_or_fail()
        slot, owner = _owner_address(session, cluster_node, key)
        expect(isinstance(got, str) and got.rsplit(":", 1)[-1] == owner.rsplit(":", 1)[1],
               f"where_is({key!r}) returned {got!r}; {key} hashes to slot {slot}, which {owner} owns "
               "(CLUSTER KEYSLOT gives the slot, CLUSTER SLOTS or CLUSTER SHARDS its owner)")
    return f"where_is named the owner of {len(keys)} keys' slots"


# ---- step 2: cross-slot and hash tags -------------------------------------------------------------

def _keys_of(cluster_node, primaries, user_id):
    found = []
    for name in primaries:
        for key in cluster_node(name).scan_iter(match=f"*{user_id}*", count=1000):
            found.append((name, key))
    return found


def _mget_calls(conn):
    stats = conn.info("commandstats")
    return int((stats.get("cmdstat_mget") or {}).get("calls", 0))


def profile_keys_share_a_slot(session, cluster_node, answer):
    primaries = _primaries(cluster_node, session)
    users = random.sample(range(100000, 999999), 3)
    profiles = {u: (f"name{u}", f"u{u}@example.com", random.choice(["free", "pro", "team"])) for u in users}
    before = {name: _mget_calls(cluster_node(name)) for name in primaries}
    calls = [("save_profile", (u, *profiles[u])) for u in users] + [("load_profile", (u,)) for u in users]
    results = answer.run("shop_cluster.py", calls, timeout=60)
    for result in results:
        if not result.ok and ("same key slot" in (result.error_message or "") or "CROSSSLOT" in
                              (result.error_message or "")):
            fail(f"{result.describe_call()}: the keys map to different slots, and a multi-key command "
                 "(MGET, MSET) must stay in one slot (CROSSSLOT) — give them one hash tag, e.g. user:{ID}:name")
    for result in results[:len(users)]:
        result.value_or_fail()
    slot_of = {}
    for u in users:
        keys = _keys_of(cluster_node, primaries, u)
        expect(len(keys) >= 3, f"save_profile({u}, ...) stored {len(keys)} key(s) with {u} in the name; expected "
                               "three string keys (name, email, plan)")
        slots = {int(cluster_node("node-1").execute_command("CLUSTER", "KEYSLOT", k)) for _, k in keys}
        if len(slots) > 1:
            fail(f"user {u}'s keys ({', '.join(k for _, k in keys)}) hash to {len(slots)} different slots, so one "
                 "MGET cannot read them (CROSSSLOT): put the same hash tag in each, e.g. user:{" + str(u) + "}:name "
                 "— only the part between { and } is hashed")
        slot_of[u] = slots.pop()
    if len(set(slot_of.values())) == 1:
        keys = [k for _, k in _keys_of(cluster_node, primaries, users[0])]
        fail(f"all {len(users)} users' profiles hash to slot {slot_of[users[0]]} (e.g. {', '.join(keys)}): the hash "
             "tag is the same for every user, so every profile lives in one slot of one shard, the hot spot a hash "
             "tag can make — put the user's id inside the braces, e.g. user:{" + str(users[0]) + "}:name")
    for u, result in zip(users, results[len(users):]):
        got = result.value_or_fail()
        values = list(got.values()) if isinstance(got, dict) else list(got or [])
        expect(sorted(map(str, values)) == sorted(profiles[u]),
               f"load_profile({u}) returned {got!r}; the profile is {list(profiles[u])}")
    after = {name: _mget_calls(cluster_node(name)) for name in primaries}
    mgets = sum(after[n] - before[n] for n in primaries)
    expect(mgets >= len(users), f"the cluster served {mgets} MGET(s) for {len(users)} load_profile calls: read the "
                                "three keys with one MGET (one round trip, one shard)")
    return f"each user's three keys share one slot; {mgets} MGETs read them, one shard each"


# ---- step 3: a fourth shard, slots moved under load -------------------------------------------------

class _Traffic:
    """The shop, reading and writing through its own cluster-aware client while slots move."""

    def __init__(self, client_factory, seeded):
        self.client_factory, self.seeded = client_factory, seeded
        self.ops = self.failed = 0
        self.first_error = ""
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        client = self.client_factory()
        keys = list(self.seeded)
        n = 0
        while not self.stop.is_set():
            key = random.choice(keys)
            n += 1
            for op in ("get", "set"):
                try:
                    self._once(client, op, key, n)
                except Exception as exc:       # noqa: BLE001 — every failure counts
                    self.failed += 1
                    self.first_error = self.first_error or f"{type(exc).__name__}: {exc}"
                self.ops += 1

    def _once(self, client, op, key, n):
        """One operation. A fault inside the client library itself (redis-py's cluster client can
        trip over its own topology refresh: AttributeError on a node it just dropped) is tried once
        more; what the cluster answers (MOVED, ASK, TRYAGAIN, CLUSTERDOWN: RedisErrors) and a wrong
        value count at once."""
        import redis

        for attempt in (1, 2):
            try:
                if op == "get":
                    got = client.get(key)
                    if got != self.seeded[key]:
                        raise AssertionError(f"GET {key} returned {got!r}, not {self.seeded[key]!r}")
                else:
                    client.set(f"{key}:visit:{n}", "1", ex=300)
                return
            except (redis.RedisError, AssertionError):
                raise
            except Exception:              # noqa: BLE001 — the client's own fault, not the cluster's
                if attempt == 2:
                    raise

    def __enter__(self):
        self.thread.start()
        time.sleep(0.3)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(30)


def spare_became_a_shard_under_load(session, cluster_node, elasticache_cluster, answer):
    from labrunner.services.elasticache_cluster import cluster_client

    endpoint = session.endpoint("elasticache-cluster")
    before = _own_slots(cluster_node, "node-4")
    run = random.randint(1000, 9999)
    seeded = {f"stock:{run}:{i}": str(random.randint(0, 10**6)) for i in range(2000)}
    pipe = elasticache_cluster.pipeline()
    for key, value in seeded.items():
        pipe.set(key, value, ex=600)
    pipe.execute()
    count = random.randint(150, 400)
    spare = f"{endpoint.host}:{endpoint.port_of('node-4')}"
    with _Traffic(lambda: cluster_client(endpoint), seeded) as traffic:
        result = answer.call("reshard.py", "add_shard", spare, count, timeout=RESHARD_TIMEOUT)
    if not result.ok and "still hold keys" in (result.error_message or ""):
        fail(f"add_shard: {result.error_message.strip()} — Valkey will not hand a slot to another node while "
             "its keys are still here: MIGRATE its keys first (CLUSTER GETKEYSINSLOT), then CLUSTER SETSLOT ... NODE")
    result.value_or_fail()
    moved = _own_slots(cluster_node, "node-4") - before      # node-4's own view: gossip tells the others later
    expect(moved > 0 or before > 0, f"node-4 ({spare}) owns no slots after add_shard: CLUSTER MEET it, then move "
                                    "slots to it")
    # valkey-cli --cluster reshard splits the count over the sources and rounds down: one slot short per source
    expect(moved >= count - 3, f"add_shard({spare!r}, {count}) gave node-4 {moved} more slot(s); expected {count}")
    _cluster_ok(cluster_node, NODES)
    missing = [k for k, v in seeded.items() if elasticache_cluster.get(k) != v]
    if missing:
        fail(f"{len(missing)} of the {len(seeded)} keys in the moved slots are gone (e.g. {missing[0]}): a slot "
             "given to the new node with CLUSTER SETSLOT ... NODE before its keys were MIGRATEd leaves them "
             "behind on the old owner, which no longer serves them")
    on_new = cluster_node("node-4").dbsize()
    expect(on_new > 0, "node-4 holds no keys: MIGRATE each slot's keys (CLUSTER GETKEYSINSLOT) to it")
    if traffic.failed:
        fail(f"{traffic.failed} of the shop's {traffic.ops} operations failed while the slots moved (first: "
             f"{traffic.first_error}): mark each slot IMPORTING on the new node and MIGRATING on the old one "
             "before moving its keys, so clients are sent on with ASK instead of finding nothing")
    return (f"node-4 took {moved} slots and {on_new} keys; the shop's {traffic.ops} operations during the move: "
            f"{traffic.failed} failed")


# ---- steps 4 and 5: eviction -------------------------------------------------------------------------

def _limits(cluster_node, primaries):
    found = {}
    for name in primaries:
        conf = cluster_node(name).config_get("maxmemory*")
        found[name] = (int(conf.get("maxmemory", 0)), conf.get("maxmemory-policy", ""))
    return found


def _evicted(cluster_node, primaries):
    return {name: int(cluster_node(name).info("stats").get("evicted_keys", 0)) for name in primaries}


def _require_limits(cluster_node, primaries, policy):
    limits = _limits(cluster_node, primaries)
    for name, (limit, used_policy) in limits.items():
        expect(0 < limit <= MAX_LIMIT, f"{name} has maxmemory {limit} ({limit // 1048576} MB): set a small limit on "
                                       "EVERY primary (CONFIG SET is per node), e.g. 8mb; at most 32mb here")
        if used_policy != policy:
            fail(f"{name}'s maxmemory-policy is {used_policy}; this step wants {policy}"
                 + (" — volatile-lru evicts only keys with a TTL, so a cache whose keys have none fills up and "
                    "refuses writes (OOM)" if used_policy == "volatile-lru" else ""))
    return limits


def _fill(client, total_bytes, prefix, ttl=None):
    """Write about total_bytes of 16 KB values; count the writes the cluster refused."""
    value = "x" * 16384
    refused, first = 0, ""
    for batch in range(total_bytes // (16384 * 100) + 1):
        pipe = client.pipeline()
        for i in range(100):
            pipe.set(f"{prefix}:{batch}:{i}", value, ex=ttl)
        for answer in pipe.execute(raise_on_error=False):
            if isinstance(answer, Exception):
                refused += 1
                first = first or str(answer)
    return refused, first


def _remove(cluster_node, primaries, pattern, keep=lambda conn, key: False):
    """Delete the keys matching `pattern` on every primary (a check's own data), node by node."""
    for name in primaries:
        conn = cluster_node(name)
        keys = [key for key in conn.scan_iter(match=pattern, count=1000) if not keep(conn, key)]
        for start in range(0, len(keys), 500):
            pipe = conn.pipeline(transaction=False)
            for key in keys[start:start + 500]:
                pipe.unlink(key)
            pipe.execute()


def _old_filler(conn, key) -> bool:
    """A 16 KB value without a TTL under page:NNNN:batch:i: what this step 4 check wrote before it
    cleaned up after itself."""
    return conn.ttl(key) == -1 and conn.strlen(key) == 16384


def allkeys_lru_evicts(session, cluster_node, elasticache_cluster):
    primaries = _primaries(cluster_node, session)
    limits = _require_limits(cluster_node, primaries, "allkeys-lru")
    before = _evicted(cluster_node, primaries)
    total = sum(limit for limit, _ in limits.values()) * 2
    try:
        refused, first = _fill(elasticache_cluster, total, f"{FILLER}:{random.randint(1000, 9999)}")
    finally:
        # What eviction left of the fill has no TTL: left in place, it would fill step 5's memory with
        # keys volatile-lru may never evict.
        _remove(cluster_node, primaries, f"{FILLER}:*")
    if refused:
        fail(f"the cluster refused {refused} writes ({first[:80]}): with allkeys-lru it should evict instead")
    evicted = {n: v - before[n] for n, v in _evicted(cluster_node, primaries).items()}
    expect(sum(evicted.values()) > 0, f"no primary evicted anything while {total // 1048576} MB went in")
    shown = ", ".join(f"{n} {v}" for n, v in sorted(evicted.items()))
    return f"{total // 1048576} MB written into {len(primaries)} shards, no write refused; evicted_keys: {shown}"


def volatile_lru_keeps_the_sessions(session, cluster_node, elasticache_cluster, answer):
    primaries = _primaries(cluster_node, session)
    limits = _require_limits(cluster_node, primaries, "volatile-lru")
    _remove(cluster_node, primaries, f"{FILLER}:*")
    _remove(cluster_node, primaries, "page:[0-9][0-9][0-9][0-9]:*", keep=lambda c, k: not _old_filler(c, k))
    run = random.randint(1000, 9999)
    sessions = {f"session:{run}:{i}": f"cart-{random.randint(0, 10**6)}" for i in range(200)}
    try:
        return _sessions_kept(cluster_node, elasticache_cluster, answer, primaries, limits, run, sessions)
    finally:
        _remove(cluster_node, primaries, f"session:{run}:*")


def _full_of_keys_without_ttl(cluster_node, primaries) -> str:
    """'node-2: 480 of 512 keys' for each primary whose keys mostly have no TTL, from a sample."""
    found = []
    for name in primaries:
        conn = cluster_node(name)
        sample = [key for _, key in zip(range(200), conn.scan_iter(count=200))]
        lasting = sum(1 for key in sample if conn.ttl(key) == -1)
        if sample and lasting * 2 > len(sample):
            found.append(f"{name}: {lasting} of {len(sample)} keys sampled")
    return ", ".join(found)


def _sessions_kept(cluster_node, elasticache_cluster, answer, primaries, limits, run, sessions):
    import redis

    try:
        for key, value in sessions.items():
            elasticache_cluster.set(key, value)        # no TTL: a logged-in visitor's cart
    except redis.exceptions.ResponseError as exc:      # OutOfMemoryError is one
        fail(f"the cluster refused to store a session before any page was cached ({str(exc)[:60]}): the primaries' "
             "memory is full of keys without a TTL, which volatile-lru never evicts ("
             f"{_full_of_keys_without_ttl(cluster_node, primaries) or 'see DBSIZE on each node'}) — delete the keys "
             "you wrote without a TTL while trying things (or FLUSHALL on each primary, labrunner tool "
             "elasticache-cluster valkey-cli -p PORT FLUSHALL), then check again")
    before = _evicted(cluster_node, primaries)
    total = sum(limit for limit, _ in limits.values()) * 2
    html = "<html>" + "p" * 64000 + "</html>"
    per_call = 64
    calls = [("cache_page", (f"/p/{run}/{i}", html)) for i in range(total // len(html) + per_call)]
    results = answer.run("shop_cluster.py", calls, timeout=240)
    for result in results:
        if not result.ok and (result.error_type == "OutOfMemoryError" or "maxmemory" in (result.error_message or "")):
            pages = [k for k in elasticache_cluster.scan_iter(match=f"*/p/{run}/*", count=500)][:20]
            if all(elasticache_cluster.ttl(k) > 0 for k in pages) and (pages or _full_of_keys_without_ttl(
                    cluster_node, primaries)):
                though = ", though your pages have a TTL" if pages else ""
                fail(f"cache_page({result.args[0]!r}, <64 KB of html>) was refused (OOM){though}: the primaries' "
                     "memory is full of keys without a TTL, which volatile-lru never evicts ("
                     f"{_full_of_keys_without_ttl(cluster_node, primaries) or 'see DBSIZE on each node'}) — delete "
                     "the keys you wrote without a TTL while trying things (or FLUSHALL on each primary, "
                     "labrunner tool elasticache-cluster valkey-cli -p PORT FLUSHALL), then check again")
            fail(f"cache_page({result.args[0]!r}, <64 KB of html>) was refused: {result.error_type}: "
                 f"{(result.error_message or '').strip()[:80]} — under volatile-lru only keys with a TTL can be "
                 "evicted; give every cached page one (SET ... EX seconds)")
        if not result.ok:
            fail(f"cache_page({result.args[0]!r}, <64 KB of html>) raised {result.error_type}: "
                 f"{(result.error_message or '').strip()[:200]}")
    evicted = sum(v - before[n] for n, v in _evicted(cluster_node, primaries).items())
    expect(evicted > 0, f"nothing was evicted while {total // 1048576} MB of pages went in: is maxmemory set?")
    lost = [k for k, v in sessions.items() if elasticache_cluster.get(k) != v]
    if lost:
        fail(f"{len(lost)} of 200 sessions (keys without a TTL) were evicted, e.g. {lost[0]}: allkeys-lru evicts "
             "anything; volatile-lru only keys with a TTL, which is what keeps the sessions")
    sample = [k for k in elasticache_cluster.scan_iter(match=f"*/p/{run}/*", count=500)][:20]
    no_ttl = [k for k in sample if elasticache_cluster.ttl(k) < 0]
    expect(sample and not no_ttl, f"cached pages without a TTL: {', '.join(no_ttl[:3]) or 'no cached page found'} "
                                  "— cache_page should SET each with EX")
    return f"{evicted} cached pages evicted, all 200 sessions kept (no TTL, so volatile-lru leaves them)"
