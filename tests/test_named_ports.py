"""A service with named endpoints beside its main port (a cluster's reader endpoint, a control
channel, one port per node): both runtimes give each its own port on 127.0.0.1, record it in
ServiceState.ports and Endpoint.ports, hand it to the engine, and keep it across a restart (a
port another program took meanwhile moves, the others stay).

The engine here is a few lines of Python that answer each port with its name: what is under
test is the runtimes' port plumbing, which every cluster stand-in builds on."""

from __future__ import annotations

import json
import socket
import sys

import pytest

from labrunner import services
from labrunner.runtimes.base import LOOPBACK
from labrunner.services.base import Endpoint, Service
from labrunner.state import ServiceState

SERVER = r"""
import json, socket, sys, threading
ports = dict(json.loads(sys.argv[1]), main=int(sys.argv[2]))
def serve(name, port):
    sock = socket.socket(); sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("0.0.0.0" if len(sys.argv) > 3 else "127.0.0.1", port)); sock.listen()
    while True:
        conn, _ = sock.accept(); conn.sendall(name.encode() + b"\n"); conn.close()
for name, port in ports.items():
    threading.Thread(target=serve, args=(name, port)).start()
"""


class Recipe:
    standin = "a named-ports test engine"
    refuses_root = False

    def find(self):
        return sys.executable

    def version(self):
        return "1"

    def argv(self, port, data_dir, ports):
        return [sys.executable, "-c", SERVER, json.dumps(ports), str(port)]


def _greeting(port: int) -> str:
    with socket.create_connection((LOOPBACK, port), timeout=5) as sock:
        return sock.makefile().readline().strip()


def _answers(endpoint: Endpoint) -> None:
    if _greeting(endpoint.port) != "main":
        raise ConnectionError("not yet")


SERVICE = Service(
    name="namedports", aws_name="Named ports test", image="labrunner-local/debian:bookworm",
    docker_standin="python3", container_port=7000, probe=_answers, reset=lambda e: None,
    exports=lambda e: {}, local=Recipe(), extra_ports={"reader": 7001, "control": 7002},
    command=("python3", "-c", SERVER, json.dumps({"reader": 7001, "control": 7002}), "7000", "any"),
    start_timeout=20,
)


@pytest.fixture
def registered(monkeypatch):
    real = services.get
    monkeypatch.setattr(services, "get", lambda name: SERVICE if name == "namedports" else real(name))
    return SERVICE


def _check_every_port_answers(state: ServiceState) -> None:
    endpoint = state.endpoint()
    assert set(state.ports) == {"reader", "control"}
    assert len({state.port, *state.ports.values()}) == 3              # three different ports
    assert _greeting(endpoint.port) == "main"
    assert _greeting(endpoint.port_of("reader")) == "reader"
    assert _greeting(endpoint.port_of("control")) == "control"


@pytest.mark.local
def test_local_runtime_gives_each_named_endpoint_a_port_and_keeps_it(registered):
    from labrunner.runtimes.base import wait_ready
    from labrunner.runtimes.local import LocalRuntime

    runtime = LocalRuntime()
    state = ServiceState.from_dict(runtime.launch(registered, lab_id="t", session_id="namedports1", port=None))
    try:
        wait_ready(runtime, registered, state)
        _check_every_port_answers(state)
        before = dict(state.ports)
        runtime.signal(state, "stop")
        squatter = socket.socket()
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # the engine's port may be in TIME_WAIT
        squatter.bind((LOOPBACK, before["reader"]))           # another program takes the reader port
        squatter.listen()
        try:
            state = ServiceState.from_dict(runtime.signal(state, "restart"))
            wait_ready(runtime, registered, state)
            assert state.ports["control"] == before["control"]
            assert state.ports["reader"] != before["reader"]
            _check_every_port_answers(state)
        finally:
            squatter.close()
    finally:
        runtime.remove(state)


@pytest.mark.docker
def test_docker_runtime_publishes_each_named_endpoint_on_loopback(registered, docker_runtime):
    from labrunner.runtimes.base import wait_ready

    state = ServiceState.from_dict(docker_runtime.launch(registered, lab_id="t", session_id="namedports2", port=None))
    try:
        wait_ready(docker_runtime, registered, state)
        _check_every_port_answers(state)
        container = docker_runtime.client.containers.get(state.container)
        bindings = [b for found in container.attrs["NetworkSettings"]["Ports"].values() for b in found or []]
        assert len(bindings) == 3 and {b["HostIp"] for b in bindings} == {LOOPBACK}
        before = dict(state.ports)
        state = ServiceState.from_dict(docker_runtime.signal(state, "restart"))
        wait_ready(docker_runtime, registered, state)
        assert state.ports == before
        _check_every_port_answers(state)
    finally:
        docker_runtime.remove(state)


def test_an_endpoint_names_its_ports_and_refuses_an_unknown_one():
    endpoint = ServiceState(service="x", runtime="local", host=LOOPBACK, port=1, ports={"reader": 2}).endpoint()
    assert endpoint.port_of("reader") == 2
    with pytest.raises(KeyError, match="no endpoint named 'writer'"):
        endpoint.port_of("writer")
