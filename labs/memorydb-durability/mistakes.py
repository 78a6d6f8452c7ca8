"""Typical wrong answers for memorydb-durability, each proven caught by `labrunner test`."""


def hello_only_on_memorydb(memorydb):
    memorydb.set("lab:hello", "world")


def orders_only_on_memorydb(memorydb, lab):
    lab.modules["solutions"].write_all(memorydb)


def orders_written_with_aof_off(memorydb, fault, lab):
    """Orders written while the append-only file is off are not in it: a crash loses them."""
    memorydb.flushall()                                # logged: the file now ends empty
    memorydb.config_set("appendonly", "no")
    lab.modules["solutions"].write_all(memorydb)       # not logged
    lab.modules["solutions"].crash_both(fault)


def memorydb_not_crashed(fault):
    fault("kill", "elasticache")
    fault("restart", "elasticache")


def answers_with_everysec(workspace):
    workspace.file("answers.yaml").write_text(
        "memorydb_appendonly: yes\nmemorydb_appendfsync: everysec\nelasticache_appendonly: no\n"
        "survives_a_node_loss: memorydb\n", encoding="utf-8")


def fsync_without_appendonly(elasticache):
    elasticache.config_set("appendfsync", "everysec")
