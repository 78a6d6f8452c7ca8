"""Point-in-time restore of the Aurora PostgreSQL stand-in through `labrunner restore-to-time`, on
both runtimes: the restored server holds exactly what the table held at T (row count and an md5
of its content, both taken at T by the test), the cluster itself is untouched, a second restore
replaces the first, and a time outside the window is one line naming its ends. Also: `down --all`
leaves no process of the session, and `down --all --wipe` removes its nodes, restored server,
base backup and WAL archive from disk."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil
import pytest

from labrunner import sessions
from labrunner.services import postgres

LAB = "aurora-replication"
SERVICE = "aurora-postgresql"
CONTENT = "SELECT count(*), md5(coalesce(string_agg(l::text, ',' ORDER BY id), '')) FROM ledger l"


@pytest.fixture
def cluster(cli, runtime, request):
    if runtime == "docker":
        request.getfixturevalue("docker_runtime")
        if not os.environ.get("LABRUNNER_IMAGE_AURORA_POSTGRESQL"):
            pytest.skip("no aurora-postgresql image: build it (images/build.sh) and `source images/overrides.env`")
    result = cli("run", LAB, "--runtime", runtime, "--no-input")
    assert result.code == 0, result
    yield runtime
    cli("down", "--all", "--wipe")


def _endpoint(name=None):
    endpoint = sessions.find(LAB).endpoint(SERVICE)
    return endpoint.at(name) if name else endpoint


def _query(sql, name=None):
    with postgres.connect(_endpoint(name)) as conn:
        return conn.execute(sql).fetchone()


def _server_now():
    return _query("SELECT clock_timestamp()")[0]


def _next_second():
    """Sleep past the next whole second; return that second (UTC, no fraction)."""
    now = time.time()
    time.sleep(int(now) + 1 - now + 0.3)
    return datetime.fromtimestamp(int(now) + 1, timezone.utc)


@pytest.mark.parametrize("runtime", ["local", "docker"])
def test_restore_to_a_time_is_exact_and_leaves_the_cluster_untouched(cli, runtime, cluster):
    with postgres.connect(_endpoint()) as conn:
        conn.execute("CREATE TABLE ledger (id int PRIMARY KEY, account text, amount numeric(10, 2))")
        conn.execute("INSERT INTO ledger SELECT g, 'acct-' || (g % 7), g * 1.25 FROM generate_series(1, 240) g")
        conn.execute("UPDATE ledger SET amount = amount + 1 WHERE id % 5 = 0")
    at_t = _query(CONTENT)                              # the table as it is at T
    time.sleep(0.2)
    target = _server_now()
    time.sleep(1.2)
    with postgres.connect(_endpoint()) as conn:         # the bad change, after T
        conn.execute("DELETE FROM ledger WHERE id > 37")
        conn.execute("UPDATE ledger SET account = 'x'")
    after = _query(CONTENT)
    assert after != at_t and after[0] == 37

    result = cli("restore-to-time", SERVICE, "--time", target.isoformat())
    assert result.code == 0, result
    restored = _endpoint("restored")
    assert f"127.0.0.1:{restored.port}" in result.out and "RESTORED_URL" in result.out, result.out
    assert _query(CONTENT, "restored") == at_t, "the restored table differs from the table at T"
    assert _query("SELECT pg_is_in_recovery()", "restored")[0] is False, "the restored server did not promote"
    assert _query(CONTENT) == after, "the restore changed the cluster"
    assert _query("SELECT pg_is_in_recovery()")[0] is False

    # `status` shows it; `env` exports it.
    nodes = {n["name"]: n for n in cli("status", "--json").json()["labs"][0]["services"][0]["nodes"]}
    assert nodes["restored"]["alive"] and nodes["restored"]["port"] == restored.port
    assert f"RESTORED_URL='{restored.url}'" in cli("env").out
    # and the restorable window, as `restore-to-time` without --time gives it
    window = cli("restore-to-time", SERVICE).out.split("restorable window: earliest restorable time ")[1]
    earliest = window.split(",")[0]
    shown = cli("status").out
    assert f"restorable window: {earliest} to " in " ".join(shown.split()), shown

    # A second restore, to a local "YYYY-MM-DD HH:MM:SS" second after the bad change, replaces the first.
    second = _next_second()
    with postgres.connect(_endpoint()) as conn:
        conn.execute("INSERT INTO ledger VALUES (1000, 'late', 1)")
    local_text = second.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    result = cli("restore-to-time", SERVICE, "--time", local_text)
    assert result.code == 0, result
    assert _query(CONTENT, "restored") == after, "the second restore is not the table at its time"
    assert _query("SELECT count(*) FROM ledger")[0] == 38


@pytest.mark.parametrize("runtime", ["local"])
def test_a_time_outside_the_window_is_one_line_naming_it(cli, runtime, cluster):
    window = cli("restore-to-time", SERVICE)
    assert window.code == 0 and "earliest restorable time" in window.out, window
    for when in ("2020-01-01T00:00:00Z", "2999-01-01 10:00:00"):
        result = cli("restore-to-time", SERVICE, "--time", when)
        assert result.code != 0, result
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.err, result.err
        assert "earliest restorable time 20" in lines[0] and "latest restorable time 20" in lines[0], lines
    result = cli("restore-to-time", SERVICE, "--time", "yesterday")
    assert result.code != 0 and "is not a time" in result.err and len(result.err.strip().splitlines()) == 1
    result = cli("restore-to-time", "postgres", "--time", "2026-01-01T00:00:00Z")
    assert result.code != 0 and "aurora-postgresql only" in result.err


def _pids(data: Path) -> list[int]:
    found = []
    for pidfile in list(data.glob("nodes/*/postmaster.pid")) + list(data.glob("restored/pgdata/postmaster.pid")):
        found.append(int(pidfile.read_text().splitlines()[0]))
    return found


@pytest.mark.parametrize("runtime", ["local"])
def test_down_all_leaves_no_process_and_wipe_removes_every_folder(cli, runtime, cluster):
    with postgres.connect(_endpoint()) as conn:
        conn.execute("CREATE TABLE ledger (id int PRIMARY KEY)")
    result = cli("restore-to-time", SERVICE, "--time", _server_now().isoformat())
    assert result.code == 0, result
    state = sessions.find(LAB).services[SERVICE]
    data, supervisor = Path(state.data_dir), state.pid
    pids = _pids(data)
    assert len(pids) == 4, pids                   # three nodes and the restored server
    assert all((data / folder).is_dir() for folder in ("archive", "backups", "restored", "nodes"))
    assert psutil.pid_exists(supervisor)
    ports = [_endpoint().port] + [port for _, port in _endpoint().ports]

    assert cli("down", "--all").code == 0
    for pid in [supervisor, *pids]:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, pid
    listening = {c.laddr.port for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
    assert not listening & set(ports), "a node or the router still listens"
    assert data.is_dir(), "down without --wipe must keep the learner's data"

    assert cli("down", "--all", "--wipe").code == 0
    assert not data.exists(), f"{data} (nodes, restored server, backups, archive) is still on disk"


@pytest.mark.parametrize("runtime", ["docker"])
def test_down_all_on_docker_stops_the_container_and_wipe_removes_it_with_its_volume(cli, runtime, cluster,
                                                                                     docker_runtime):
    import docker.errors

    with postgres.connect(_endpoint()) as conn:
        conn.execute("CREATE TABLE ledger (id int PRIMARY KEY)")
    assert cli("restore-to-time", SERVICE, "--time", _server_now().isoformat()).code == 0
    name = sessions.find(LAB).services[SERVICE].container
    container = docker_runtime.client.containers.get(name)
    volumes = [m["Name"] for m in container.attrs["Mounts"] if m["Type"] == "volume"]
    assert volumes, "the cluster's data (nodes, backups, archive, restored server) is in no volume"
    top = " ".join(" ".join(p) for p in container.top()["Processes"])
    assert top.count("postgres -D") >= 4, top           # three nodes and the restored server

    assert cli("down", "--all").code == 0
    try:
        assert docker_runtime.client.containers.get(name).status != "running"
    except docker.errors.NotFound:
        pass
    assert cli("down", "--all", "--wipe").code == 0
    with pytest.raises(docker.errors.NotFound):
        docker_runtime.client.containers.get(name)
    for volume in volumes:
        with pytest.raises(docker.errors.NotFound):
            docker_runtime.client.volumes.get(volume)
