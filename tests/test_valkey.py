"""The ElastiCache and MemoryDB stand-ins (Valkey, spoken to with redis-py): persistence settings,
passwords, loopback, and the durability difference counted for real after SIGKILL, on both runtimes."""

import os
import subprocess
from types import SimpleNamespace

import pytest
import redis

from labrunner import sessions
from labrunner.errors import LabError
from labrunner.services import elasticache, memorydb
from labrunner.services.base import Endpoint

LAB = "memorydb-durability"
KEYS = 10_000


def test_memorydb_fsyncs_every_write_and_elasticache_persists_nothing():
    endpoint = Endpoint("x", "127.0.0.1", 6379, "valkey", "default", "Pw1secret", "0")
    mdb = memorydb.SERVICE.docker_command(endpoint)
    assert mdb[:3] == ("valkey-server", "--requirepass", "Pw1secret")
    assert "--appendonly" in mdb and mdb[mdb.index("--appendonly") + 1] == "yes"
    assert mdb[mdb.index("--appendfsync") + 1] == "always"
    cache = elasticache.SERVICE.docker_command(endpoint)
    assert cache[cache.index("--appendonly") + 1] == "no" and cache[cache.index("--save") + 1] == ""
    assert memorydb.SERVICE.image == elasticache.SERVICE.image == "valkey/valkey:8.1.8"


def write_keys(conn):
    pipe = conn.pipeline(transaction=False)
    for n in range(KEYS):
        pipe.set(f"k:{n}", n)
    pipe.execute()
    return conn.dbsize()


@pytest.mark.parametrize("runtime", ["local", "docker"])
def test_sigkill_loses_nothing_on_memorydb_and_everything_on_elasticache(cli, runtime, request):
    if runtime == "docker":
        request.getfixturevalue("docker_runtime")
    result = cli("run", LAB, "--runtime", runtime, "--no-input")
    assert result.code == 0, result
    try:
        session = sessions.find(LAB)
        written = {}
        for name, service in (("memorydb", memorydb), ("elasticache", elasticache)):
            conn = service.SERVICE.fixtures[name](session.endpoint(name))
            assert isinstance(conn, redis.Redis)               # the design's client, redis-py
            written[name] = write_keys(conn)
            conn.close()
        for name in written:
            assert cli("fault", "kill", name).code == 0
            assert cli("fault", "restart", name).code == 0
        session = sessions.find(LAB)
        counted = {name: service.SERVICE.fixtures[name](session.endpoint(name)).dbsize()
                   for name, service in (("memorydb", memorydb), ("elasticache", elasticache))}
        assert written == {"memorydb": KEYS, "elasticache": KEYS}
        assert counted["memorydb"] == KEYS, f"memorydb lost {KEYS - counted['memorydb']} of {KEYS} keys"
        assert counted["elasticache"] == 0
    finally:
        cli("down", "--all", "--wipe")


def test_local_servers_bind_loopback_and_want_the_password(cli):
    import psutil

    assert cli("run", LAB, "--runtime", "local", "--no-input").code == 0
    try:
        session = sessions.find(LAB)
        for name, state in session.services.items():
            listening = {(c.laddr.ip, c.laddr.port) for c in psutil.Process(state["pid"]).net_connections("inet")
                         if c.status == psutil.CONN_LISTEN}
            assert listening == {("127.0.0.1", state["port"])}
            with pytest.raises(redis.exceptions.AuthenticationError):
                redis.Redis(host="127.0.0.1", port=state["port"]).ping()
        labrunner = os.path.join(os.path.dirname(os.sys.executable), "labrunner")
        done = subprocess.run([labrunner, "shell", "elasticache"], input="PING\n", capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0 and "PONG" in done.stdout, done.stderr
    finally:
        cli("down", "--all", "--wipe")


def test_answer_hands_learner_code_one_client_per_service_and_times_each_call(cli, tmp_path):
    """connect=[...] gives the function a client per service, in order; shared=True the same ones
    for every call; each result carries the call's own wall time."""
    from labrunner.checks.answer import AnswerRunner

    (tmp_path / "two.py").write_text(
        "import time\n"
        "def put(durable, cache, key):\n"
        "    durable.set(key, 'd'); cache.set(key, 'c')\n"
        "    return [id(durable), id(cache)]\n"
        "def kinds(durable, cache):\n"
        "    return [type(durable).__module__, type(cache).__name__]\n"
        "def read(durable, cache, key):\n"
        "    time.sleep(0.3)\n"
        "    return [durable.get(key), cache.get(key), id(durable), id(cache)]\n")
    assert cli("run", LAB, "--runtime", "local", "--no-input").code == 0
    try:
        runner = AnswerRunner(SimpleNamespace(path=tmp_path), sessions.find(LAB))
        put, read = runner.run("two.py", [("put", ("k1",)), ("read", ("k1",))],
                               connect=["memorydb", "elasticache"], shared=True)
        assert put.ok and read.ok, (put.failure(), read.failure())
        assert read.value[:2] == ["d", "c"]                      # two servers, in the order asked
        assert read.value[2:] == put.value                       # shared: the same clients
        assert read.seconds >= 0.3 and 0 < put.seconds < read.seconds   # each call timed on its own
        assert read.describe_call() == "read(durable, cache, 'k1')"
        (kinds,) = runner.run("two.py", [("kinds", ())], connect=["memorydb", "elasticache"])
        assert kinds.value == ["redis.client", "Redis"]            # redis-py, from the services' learner_client
        with pytest.raises(LabError, match="connect='redis' names no service of this lab"):
            runner.call("two.py", "kinds", connect="redis")         # two Valkey services: name one
    finally:
        cli("down", "--all", "--wipe")


def test_a_file_that_grows_over_steps_installs_each_version(tmp_path):
    """install_solution(name, source=...) puts a step's version in place; replacing one of the
    lab's own versions backs nothing up, replacing the learner's own file does."""
    from labrunner.workspace import BACKUP_DIR, Workspace

    lab_dir = tmp_path / "lab"
    (lab_dir / "workspace").mkdir(parents=True)
    (lab_dir / "solutions").mkdir()
    (lab_dir / "workspace" / "cache.py").write_text("# starter\n")
    (lab_dir / "solutions" / "cache-2.py").write_text("# step 2\n")
    (lab_dir / "solutions" / "cache-3.py").write_text("# step 3\n")
    workspace = Workspace(tmp_path / "ws", SimpleNamespace(id="lab", path=lab_dir))
    workspace.prepare()
    workspace.install_solution("cache.py", source="cache-2.py")
    workspace.install_solution("cache.py", source="cache-3.py")
    assert workspace.read_text("cache.py") == "# step 3\n"
    assert not (workspace.path / BACKUP_DIR).exists()
    workspace.file("cache.py").write_text("# the learner's own\n")
    workspace.install_solution("cache.py", source="cache-2.py")
    assert [p.read_text() for p in (workspace.path / BACKUP_DIR).iterdir()] == ["# the learner's own\n"]


def test_an_error_in_learner_code_shows_the_call_with_its_clients(cli, tmp_path):
    from labrunner.checks.answer import AnswerRunner

    (tmp_path / "broken.py").write_text("def report(db, cache, product_id):\n    return cache.get(product_id)[5]\n")
    assert cli("run", LAB, "--runtime", "local", "--no-input").code == 0
    try:
        runner = AnswerRunner(SimpleNamespace(path=tmp_path), sessions.find(LAB))
        (result,) = runner.run("broken.py", [("report", (17,))], connect=["memorydb", "elasticache"])
        assert result.failure() == ("report(db, cache, 17) in broken.py raised TypeError at broken.py:2: "
                                    "'NoneType' object is not subscriptable")
    finally:
        cli("down", "--all", "--wipe")
