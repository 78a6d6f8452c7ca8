"""The aurora-postgresql service through `labrunner run` on both runtimes: every node and the
router (cluster and reader endpoints, control port) listen on 127.0.0.1 only, and a kill of the
router's process alone is survived: the next `labrunner run` brings it back on the same data."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import psutil
import psycopg
import pytest

from aurora_helpers import wait_for

LAB = "aurora-replication"
SERVICE = "aurora-postgresql"
NODES = ("aurora-1", "aurora-2", "aurora-3")


@pytest.fixture(params=["local", "docker"])
def runtime(request):
    if request.param == "docker":
        request.getfixturevalue("docker_runtime")        # skips (or fails in CI) without Docker
    return request.param


@pytest.fixture
def started(cli, runtime):
    result = cli("run", LAB, "--runtime", runtime, "--no-input")
    assert result.code == 0, result
    yield _state()
    cli("down", "--all", "--wipe")


def _state():
    from labrunner import sessions

    return sessions.find(LAB).services[SERVICE]


def _all_ports(state) -> set[int]:
    """Every port the session reserved for the cluster (a restored server's among them)."""
    return {int(state["port"]), *(int(p) for p in state["ports"].values())}


def _serving_ports(state) -> set[int]:
    """The ports that must be listening: the router's (cluster, reader), the control port, each node."""
    return {int(state["port"]), *(int(state["ports"][name]) for name in ("reader", "control", *NODES))}


def _connect(state, port: int | None = None, timeout: int = 5) -> psycopg.Connection:
    endpoint = state.endpoint()
    return psycopg.connect(host="127.0.0.1", port=port or endpoint.port, user=endpoint.username,
                           password=endpoint.password, dbname=endpoint.database, connect_timeout=timeout,
                           autocommit=True)


def _listening(ports: set[int]) -> set[tuple[str, int]]:
    """Every listening TCP socket on this machine (IPv4 and IPv6) on one of `ports`, as /proc/net shows it."""
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, port = local.split(":")
            if state != "0A" or int(port, 16) not in ports:          # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            # /proc/net prints each 32-bit word in host order (little-endian here)
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            found.add((socket.inet_ntop(family, raw), int(port, 16)))
    return found


def _outside_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (where a 0.0.0.0 listener would answer)."""
    return [a.address for addrs in psutil.net_if_addrs().values() for a in addrs
            if a.family == socket.AF_INET and not a.address.startswith("127.")]


def _refused_from_outside(ports: set[int]) -> list[str]:
    """host:port pairs off loopback that accept a connection (must be none)."""
    accepted = []
    for host in _outside_addresses():
        for port in ports:
            try:
                with socket.create_connection((host, port), timeout=1):
                    accepted.append(f"{host}:{port}")
            except OSError:
                pass
    return accepted


def test_every_node_and_the_router_listen_on_loopback_only(started, runtime):
    from labrunner import services

    state = started
    ports, serving = _all_ports(state), _serving_ports(state)
    assert len(serving) == 6, state["ports"]
    if runtime == "local":
        from labrunner.services import aurora_doctor

        pids = aurora_doctor.cluster_pids(int(state["pid"]), Path(state["data_dir"]))
        owned = {(c.laddr.ip, c.laddr.port) for pid in pids for c in psutil.Process(pid).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN}
        # The supervisor (router, control) and the three postmasters listen on these, and on nothing else.
        assert {ip for ip, _ in owned} == {"127.0.0.1"}, owned
        assert serving <= {port for _, port in owned} <= ports, (owned, state["ports"])
    else:
        from labrunner.runtimes.docker import DockerRuntime

        service = services.get(SERVICE)
        container = DockerRuntime().client.containers.get(state["container"])
        published = container.attrs["NetworkSettings"]["Ports"]
        assert {int(key.split("/")[0]) for key, binds in published.items() if binds} == {
            service.container_port, *service.extra_ports.values()}
        bindings = [b for binds in published.values() for b in binds or ()]
        assert {b["HostIp"] for b in bindings} == {"127.0.0.1"}, bindings
        assert {int(b["HostPort"]) for b in bindings} == ports
    # Whoever listens for the runtime (the supervisor and nodes, or Docker's proxy): loopback only.
    listening = _listening(ports)
    assert serving <= {port for _, port in listening}, listening
    assert {ip for ip, _ in listening} == {"127.0.0.1"}, listening
    assert _refused_from_outside(ports) == []
    with _connect(state) as conn:         # and they answer there
        assert conn.execute("SELECT NOT pg_is_in_recovery()").fetchone()[0] is True


def _supervisor(state, runtime) -> psutil.Process:
    """The process that runs the router (and the control API): the supervisor."""
    if runtime == "local":
        return psutil.Process(int(state["pid"]))
    from labrunner.runtimes.docker import DockerRuntime

    root = DockerRuntime().client.containers.get(state["container"]).attrs["State"]["Pid"]
    # PID 1 in the container only reaps orphans; the supervisor is its child.
    found = [p for p in psutil.Process(root).children() if "aurora_cluster" in " ".join(p.cmdline())]
    assert len(found) == 1, found
    return found[0]


def _postmasters(state) -> dict[str, int]:
    from labrunner.services import aurora_doctor

    return dict(zip(("aurora-1", "aurora-2", "aurora-3"),
                    aurora_doctor.postmaster_pids(Path(state["data_dir"]))))


def _kill_the_router(state, runtime) -> psutil.Process:
    supervisor = _supervisor(state, runtime)
    supervisor.send_signal(signal.SIGKILL)
    wait_for(lambda: not supervisor.is_running() or supervisor.status() == psutil.STATUS_ZOMBIE, 10,
             "the router's process to die")
    with pytest.raises(psycopg.OperationalError):           # the cluster endpoint is gone with it
        _connect(state, timeout=2).close()
    return supervisor


def test_a_killed_router_is_brought_back_by_run_on_the_same_data(cli, started, runtime):
    state = started
    with _connect(state) as conn:
        conn.execute("CREATE TABLE kept (id int PRIMARY KEY)")
        conn.execute("INSERT INTO kept SELECT generate_series(1, 42)")
    nodes = _postmasters(state) if runtime == "local" else {}
    supervisor = _kill_the_router(state, runtime)
    if runtime == "local":          # the nodes were not touched: only the router's process died
        assert all(psutil.pid_exists(pid) for pid in nodes.values()), nodes

    result = cli("run", LAB, "--runtime", runtime, "--no-input")
    assert result.code == 0, result
    assert "not answering; starting it again" in result.out + result.err, result
    after = _state()
    # The learner's cluster and reader endpoints are where they were (`labrunner env` stays right).
    assert (after["port"], after["ports"]["reader"]) == (state["port"], state["ports"]["reader"])
    with _connect(after) as conn:                      # the cluster endpoint reaches a writer again
        assert conn.execute("SELECT count(*), NOT pg_is_in_recovery() FROM kept").fetchone() == (42, True)
    with _connect(after, int(after["ports"]["reader"])) as conn:       # and the reader endpoint a reader
        assert conn.execute("SELECT pg_is_in_recovery(), count(*) FROM kept").fetchone() == (True, 42)
    report = cli("status", "--json").json()["labs"][0]["services"][0]
    assert sorted(n["role"] for n in report["nodes"]) == ["reader", "reader", "writer"], report
    assert all(n["alive"] for n in report["nodes"]), report
    assert _supervisor(after, runtime).pid != supervisor.pid


def test_after_a_router_kill_run_adopts_the_running_nodes_on_their_ports(cli):
    result = cli("run", LAB, "--runtime", "local", "--no-input")
    assert result.code == 0, result
    try:
        state = _state()
        nodes = _postmasters(state)
        _kill_the_router(state, "local")
        assert cli("run", LAB, "--runtime", "local", "--no-input").code == 0
        after = _state()
        # Instance endpoints keep their ports, and the nodes were adopted, not restarted.
        assert {n: after["ports"][n] for n in NODES} == {n: state["ports"][n] for n in NODES}
        assert _postmasters(after) == nodes
    finally:
        cli("down", "--all", "--wipe")
