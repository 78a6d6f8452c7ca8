"""Correct answers the reference solutions do not take, one or more per step: valkey-cli's shape
(one command, --pipe), MSET in MULTI/EXEC, the kills in another order with a few orders loaded
again, answers written as a person might, a multi-parameter CONFIG SET. `labrunner test`
applies each from the step's start and requires every check of the step to pass."""

import subprocess
import time


def _cli(session, workspace, service, *args, stdin=None):
    """What `labrunner tool SERVICE valkey-cli ARGS` does, from the lab folder."""
    from labrunner import clients

    command = clients.resolve(session, service, "valkey-cli", cwd=str(workspace.path))
    done = subprocess.run(command.argv + list(args), env=command.env, cwd=workspace.path, input=stdin,
                          capture_output=True, timeout=120, check=True)
    return done.stdout.decode("utf-8", "replace")


# ---- step 1 ----
def hello_from_valkey_cli(session, workspace):
    for service in ("memorydb", "elasticache"):
        _cli(session, workspace, service, "SET", "lab:hello", "world")


# ---- step 2 ----
def orders_with_mset_in_transactions(memorydb, elasticache):
    """MSET of 500 orders at a time, each batch a MULTI/EXEC transaction; no lab:run_id."""
    for conn in (memorydb, elasticache):
        for start in range(1, 10001, 500):
            with conn.pipeline(transaction=True) as pipe:
                pipe.mset({f"order:{n}": f'{{"id": {n}}}' for n in range(start, start + 500)})
                pipe.execute()
        conn.set("lab:written_at", str(int(time.time())))


def orders_through_valkey_cli_pipe(session, workspace):
    """The hint's shell route: a file of commands sent with valkey-cli --pipe."""
    commands = "".join(f"SET order:{n} '{{\"id\": {n}}}'\n" for n in range(1, 10001)).encode()
    for service in ("memorydb", "elasticache"):
        _cli(session, workspace, service, "--pipe", stdin=commands)
        _cli(session, workspace, service, "SET", "lab:written_at", str(int(time.time())))


# ---- step 3 ----
def kill_cache_first_then_reload_a_few(memorydb, elasticache, fault):
    """The kills and restarts in the other order; then lazy loading puts ten orders back in the
    cache from the durable store, as an application reading them would."""
    for service in ("elasticache", "memorydb"):
        fault("kill", service)
    for service in ("memorydb", "elasticache"):
        fault("restart", service)
    for n in range(1, 11):
        elasticache.set(f"order:{n}", memorydb.get(f"order:{n}"), ex=300)


def crash_after_write_orders_py(session, workspace, memorydb, elasticache, fault):
    """The orders written again by the learner's own write_orders.py, which stamps lab:written_at
    but no lab:run_id: the check tells a restart from the uptime alone. Then both killed and back."""
    import os
    import sys

    from labrunner import services

    env = dict(os.environ)
    for name in ("memorydb", "elasticache"):
        env.update(services.get(name).exports(session.endpoint(name)))
    for conn in (memorydb, elasticache):
        conn.delete("lab:run_id")
    subprocess.run([sys.executable, "write_orders.py"], cwd=workspace.path, env=env, check=True,
                   capture_output=True, timeout=300)
    time.sleep(1.1)                  # a learner reads the output first; uptime counts whole seconds
    for service in ("memorydb", "elasticache"):
        fault("kill", service)
    for service in ("memorydb", "elasticache"):
        fault("restart", service)


# ---- step 4 ----
def answers_written_as_a_person_might(workspace):
    workspace.file("answers.yaml").write_text(
        "# what CONFIG GET said\n"
        'memorydb_appendonly: "YES"\n'
        "memorydb_appendfsync: Always\n"
        "elasticache_appendonly: 'no'\n"
        "survives_a_node_loss: MemoryDB   # it logs every write before it answers\n", encoding="utf-8")


# ---- step 5 ----
def aof_in_one_config_set(session, workspace):
    """CONFIG SET takes several parameters at once (Valkey 7 and later), fsync policy first."""
    _cli(session, workspace, "elasticache", "CONFIG", "SET", "appendfsync", "everysec", "appendonly", "yes")
