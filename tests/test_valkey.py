"""The ElastiCache and MemoryDB stand-ins (Valkey): persistence settings, passwords, loopback,
and the durability difference counted for real after SIGKILL, on both runtimes."""

import os
import subprocess

import pytest

from labrunner import sessions
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
        cli("down", "--all")


def test_local_servers_bind_loopback_and_want_the_password(cli):
    import psutil
    import valkey

    assert cli("run", LAB, "--runtime", "local", "--no-input").code == 0
    try:
        session = sessions.find(LAB)
        for name, state in session.services.items():
            listening = {(c.laddr.ip, c.laddr.port) for c in psutil.Process(state["pid"]).net_connections("inet")
                         if c.status == psutil.CONN_LISTEN}
            assert listening == {("127.0.0.1", state["port"])}
            with pytest.raises(valkey.exceptions.AuthenticationError):
                valkey.Valkey(host="127.0.0.1", port=state["port"]).ping()
        labrunner = os.path.join(os.path.dirname(os.sys.executable), "labrunner")
        done = subprocess.run([labrunner, "shell", "elasticache"], input="PING\n", capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0 and "PONG" in done.stdout, done.stderr
    finally:
        cli("down", "--all")
