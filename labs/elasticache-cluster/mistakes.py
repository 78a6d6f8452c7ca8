"""Typical wrong answers for elasticache-cluster, each proven caught by `labrunner test`."""

LIMIT = "8mb"


def _every_primary(cluster_node, **settings):
    """CONFIG SET on each node that owns slots (CONFIG SET reaches one node only)."""
    for name in ("node-1", "node-2", "node-3", "node-4"):
        conn = cluster_node(name)
        me = next(line for line in conn.execute_command("CLUSTER", "NODES").splitlines() if "myself" in line)
        if len(me.split()) > 8:
            for key, value in settings.items():
                conn.config_set(key, value)


# ---- step 1 ----
def plain_client_to_one_node(workspace):
    """redis.Redis talks to node-1 only: keys whose slot lives elsewhere get MOVED."""
    workspace.install_variant("shop_cluster.py", "shop_cluster-1.py", {
        "    return RedisCluster(host=HOST, port=PORT, password=PASSWORD, decode_responses=True)":
            "    import redis\n    return redis.Redis(host=HOST, port=PORT, password=PASSWORD, decode_responses=True)"})


def where_is_the_node_it_asked(workspace):
    """The node the client first connected to is not the one that holds the key."""
    workspace.install_variant("shop_cluster.py", "shop_cluster-1.py", {
        "    slot = cluster.cluster_keyslot(key)               # the server's CRC16(key) mod 16384":
            "    return f\"{HOST}:{PORT}\"\n    slot = cluster.cluster_keyslot(key)"})


# ---- step 2 ----
def no_hash_tag(workspace):
    workspace.install_variant("shop_cluster.py", "shop_cluster-2.py", {
        '    return [f"{{user:{user_id}}}:{field}" for field in ("name", "email", "plan")]':
            '    return [f"user:{user_id}:{field}" for field in ("name", "email", "plan")]'})


def one_tag_for_every_user(workspace):
    """{user} in braces, the id outside: each profile in one slot, and every profile in the same one."""
    workspace.install_variant("shop_cluster.py", "shop_cluster-2.py", {
        '    return [f"{{user:{user_id}}}:{field}" for field in ("name", "email", "plan")]':
            '    return [f"{{user}}:{user_id}:{field}" for field in ("name", "email", "plan")]'})


def three_gets_instead_of_mget(workspace):
    """Same slot, but three round trips: no MGET."""
    workspace.install_variant("shop_cluster.py", "shop_cluster-2.py", {
        "    return connect().mget(profile_keys(user_id))":
            "    return [connect().get(key) for key in profile_keys(user_id)]"})


# ---- step 3 ----
def slots_given_without_their_keys(workspace):
    """CLUSTER SETSLOT ... NODE alone: the keys stay on the old owner, which stops serving them."""
    workspace.install_variant("reshard.py", "reshard.py", {
        '''    while True:
        keys = source.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100)''': '''    while False:
        keys = source.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100)'''})


def meet_only(workspace):
    """The spare joins the cluster but takes no slots: an empty shard serves nothing."""
    workspace.install_variant("reshard.py", "reshard.py", {
        "            move_slot(slot, source, row[\"id\"], new, new_id, spare)": "            pass"})


# ---- step 4 ----
def volatile_lru_with_no_ttls(cluster_node):
    """volatile-lru on a cache whose keys have no TTL: nothing can be evicted, writes get OOM."""
    _every_primary(cluster_node, maxmemory=LIMIT, **{"maxmemory-policy": "volatile-lru"})


def limit_on_node_1_only(cluster_node):
    """CONFIG SET through one node sets that node only."""
    conn = cluster_node("node-1")
    conn.config_set("maxmemory", LIMIT)
    conn.config_set("maxmemory-policy", "allkeys-lru")
    for name in ("node-2", "node-3", "node-4"):
        cluster_node(name).config_set("maxmemory-policy", "allkeys-lru")


# ---- step 5 ----
def pages_without_ttl(cluster_node, workspace):
    _every_primary(cluster_node, maxmemory=LIMIT, **{"maxmemory-policy": "volatile-lru"})
    workspace.install_variant("shop_cluster.py", "shop_cluster.py", {
        '    connect().set(f"page:{path}", html, ex=PAGE_TTL)': '    connect().set(f"page:{path}", html)'})


def allkeys_lru_for_sessions_too(cluster_node, workspace):
    _every_primary(cluster_node, maxmemory=LIMIT, **{"maxmemory-policy": "allkeys-lru"})
    workspace.install_solution("shop_cluster.py")


def memory_full_of_keys_without_ttl(cluster_node, elasticache_cluster, workspace):
    """The right policy and pages with a TTL, on a cluster already full of keys without one (the
    learner's own tries): volatile-lru has nothing it may evict, and the message must say so,
    not blame the pages."""
    _every_primary(cluster_node, maxmemory=LIMIT, **{"maxmemory-policy": "volatile-lru"})
    workspace.install_solution("shop_cluster.py")
    refused, batch = 0, 0
    while refused == 0 and batch < 1000:
        pipe = elasticache_cluster.pipeline()
        for i in range(50):
            pipe.set(f"try:{batch}:{i}", "t" * 16384)
        refused = sum(isinstance(answer, Exception) for answer in pipe.execute(raise_on_error=False))
        batch += 1
