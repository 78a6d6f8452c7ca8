"""Reference solutions for elasticache-cluster (what `labrunner solve` applies)."""

LIMIT = "8mb"


def write_step_1(workspace):
    workspace.install_solution("shop_cluster.py", source="shop_cluster-1.py")


def write_step_2(workspace):
    workspace.install_solution("shop_cluster.py", source="shop_cluster-2.py")


def write_add_shard(workspace):
    workspace.install_solution("reshard.py")


def _every_primary(cluster_node, **settings):
    for name in ("node-1", "node-2", "node-3", "node-4"):
        conn = cluster_node(name)
        if _owns_slots(conn):
            for key, value in settings.items():
                conn.config_set(key, value)


def _owns_slots(conn):
    me = next(line for line in conn.execute_command("CLUSTER", "NODES").splitlines() if "myself" in line)
    return len(me.split()) > 8


def limit_allkeys_lru(cluster_node):
    _every_primary(cluster_node, maxmemory=LIMIT, **{"maxmemory-policy": "allkeys-lru"})


def limit_volatile_lru(cluster_node, workspace):
    _every_primary(cluster_node, maxmemory=LIMIT, **{"maxmemory-policy": "volatile-lru"})
    workspace.install_solution("shop_cluster.py")
