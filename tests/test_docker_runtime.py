"""The Docker runtime against a real daemon (the stand-in image comes from the image override,
as a class mirror's would). Skipped without Docker unless LABRUNNER_REQUIRE_DOCKER=1."""

import pytest

from labrunner import sessions
from labrunner.runtimes.docker import LABEL

LAB = "dynamodb-basics"


@pytest.fixture
def docker_session(cli, docker_runtime):
    result = cli("run", LAB, "--runtime", "docker", "--no-input")
    assert result.code == 0, result
    session = sessions.find(LAB)
    yield session, docker_runtime
    cli("down", "--all")


def test_container_is_labelled_and_published_on_loopback_only(docker_session):
    session, runtime = docker_session
    state = session.services["dynamodb"]
    container = runtime.client.containers.get(state["container"])
    assert container.labels[f"{LABEL}.lab"] == LAB
    assert container.labels[f"{LABEL}.session"] == session.id
    from labrunner.runtimes.docker import home_label

    assert container.labels[f"{LABEL}.home"] == home_label()      # `down --all` sweeps only these
    bindings = [b for ports in container.attrs["NetworkSettings"]["Ports"].values() for b in ports or []]
    assert bindings and {b["HostIp"] for b in bindings} == {"127.0.0.1"}
    assert int(bindings[0]["HostPort"]) == state["port"]


def test_check_and_solve_work_on_docker(cli, docker_session):
    assert cli("check", "--json").json()["passed"] is False
    assert cli("solve").code == 0
    assert cli("status", "--json").json()["labs"][0]["steps"][0]["done"]


def test_down_all_removes_every_labrunner_container(cli, docker_session):
    session, runtime = docker_session
    assert runtime.labelled()
    assert cli("down", "--all").code == 0
    assert runtime.labelled() == []
    assert sessions.all_sessions() == []


def test_a_stopped_container_gives_one_line(cli, docker_session):
    session, runtime = docker_session
    runtime.client.containers.get(session.services["dynamodb"]["container"]).kill()
    result = cli("check")
    assert result.code == 5 and "not answering" in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_a_taken_port_gives_one_line_on_docker(cli, docker_runtime):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = cli("run", LAB, "--runtime", "docker", "--no-input", "--port", f"dynamodb={port}")
    assert result.code == 5, result
    assert f"port {port} on 127.0.0.1 is taken" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert docker_runtime.labelled() == []


def test_an_image_that_cannot_be_pulled_says_what_to_do(cli, docker_runtime, monkeypatch):
    monkeypatch.setenv("LABRUNNER_IMAGE_DYNAMODB", "labrunner-local/does-not-exist:0.0.1")
    result = cli("run", LAB, "--runtime", "docker", "--no-input")
    assert result.code == 5
    assert "could not pull labrunner-local/does-not-exist:0.0.1" in result.err
    assert "LABRUNNER_IMAGE_DYNAMODB" in result.err and "--runtime local" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_docker_daemon_missing_gives_one_line(cli, monkeypatch, tmp_path):
    """No daemon at DOCKER_HOST: one line naming the fix, no traceback (no Docker needed)."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    result = cli("run", LAB, "--runtime", "docker", "--no-input")
    assert result.code == 5
    assert "Docker is not reachable" in result.err and "--runtime local" in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


def test_auto_falls_back_to_local_without_docker(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    result = cli("run", LAB, "--no-input")
    try:
        assert result.code == 0, result
        assert sessions.find(LAB).runtime == "local"
    finally:
        cli("down", "--all")


def test_doctor_says_which_docker_it_reached(cli, docker_runtime):
    items = {i["item"]: i for i in cli("doctor", "--json").json()["items"]}
    assert items["docker"]["ok"] and "Docker Engine" in items["docker"]["detail"]


def test_fault_kill_and_restart_on_docker(cli, docker_session):
    session, runtime = docker_session
    container = runtime.client.containers.get(session.services["dynamodb"]["container"])
    assert cli("fault", "kill", "dynamodb").code == 0
    container.reload()
    assert container.status == "exited"
    assert cli("fault", "restart", "dynamodb").code == 0
    container.reload()
    assert container.status == "running"
    # the same port as before: the learner's `eval "$(labrunner env)"` still points at it
    assert sessions.find(LAB).services["dynamodb"]["port"] == session.services["dynamodb"]["port"]
    checked = cli("check", "--json")
    assert checked.out.strip().startswith("{"), checked        # the error, when there is one
    assert checked.json()["step"] == "create-table"
