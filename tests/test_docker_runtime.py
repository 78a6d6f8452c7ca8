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
    cli("down", "--all", "--wipe")


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
    assert cli("solve", "--yes").code == 0
    assert cli("status", "--json").json()["labs"][0]["steps"][0]["done"]


def test_down_all_stops_and_wipe_removes_every_labrunner_container(cli, docker_session):
    session, runtime = docker_session
    assert runtime.labelled()
    assert cli("down", "--all").code == 0              # stopped, kept for `run` to resume
    assert [c.status for c in runtime.labelled()] == ["exited"]
    assert cli("down", "--all", "--wipe").code == 0
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
        cli("down", "--all", "--wipe")


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


def test_a_missing_socket_is_named_with_its_reason(cli, monkeypatch, tmp_path):
    """The reason a daemon did not answer is the operating system's, not cut at its first "("."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    result = cli("run", LAB, "--runtime", "docker", "--no-input")
    assert result.code == 5
    assert f"unix://{tmp_path}/no-docker.sock (No such file or directory)" in result.err


def test_an_overridden_image_is_not_described_as_the_official_one(cli, docker_session, monkeypatch):
    """The test images (LABRUNNER_IMAGE_DYNAMODB=labrunner-local/dynamodb:moto-...) run moto, not
    DynamoDB Local: run and status name the engine from the image's label and the setting."""
    import os

    image = os.environ.get("LABRUNNER_IMAGE_DYNAMODB")
    if not image:
        pytest.skip("no image override set (source images/overrides.env)")
    services = cli("status", "--json").json()["labs"][0]["services"]
    standin = next(s["standin"] for s in services if s["service"] == "dynamodb")
    assert not standin.startswith("DynamoDB Local")
    assert f"image {image} from LABRUNNER_IMAGE_DYNAMODB" in standin
    session, runtime = docker_session
    engine = runtime.client.images.get(image).labels.get("org.labrunner.engine")
    if engine:                                     # images/build.sh labels every stand-in
        assert standin.startswith(engine) and "moto" in standin


def test_an_unlabelled_override_is_named_by_its_setting(cli, docker_runtime, monkeypatch, tmp_path):
    """An image without labrunner's label: its reference and the setting that chose it."""
    import os

    base = os.environ.get("LABRUNNER_IMAGE_DYNAMODB")
    if not base:
        pytest.skip("no image override set (source images/overrides.env)")
    (tmp_path / "Dockerfile").write_text(f"FROM {base}\nLABEL org.labrunner.engine=\"\" "
                                         "org.opencontainers.image.description=\"\"\n")
    image = "labrunner-test/unlabelled:1"
    docker_runtime.client.images.build(path=str(tmp_path), tag=image, rm=True)
    monkeypatch.setenv("LABRUNNER_IMAGE_DYNAMODB", image)
    try:
        assert cli("run", LAB, "--runtime", "docker", "--no-input").code == 0
        standin = sessions.find(LAB).services["dynamodb"]["standin"]
        assert standin.startswith(f"image {image} (overridden by LABRUNNER_IMAGE_DYNAMODB)")
    finally:
        cli("down", "--all", "--wipe")
        docker_runtime.client.images.remove(image, force=True)


# ---- client programs in the container: through the daemon labrunner found, no docker CLI needed

PG_LAB = "rds-postgres-basics"


@pytest.fixture
def postgres_on_docker(cli, docker_runtime, tmp_path, monkeypatch):
    """rds-postgres-basics on Docker, and a PATH with neither docker nor psql on it: the only
    psql there is is the container's."""
    assert cli("run", PG_LAB, "--runtime", "docker", "--no-input").code == 0
    bare = tmp_path / "bare-bin"
    bare.mkdir()
    monkeypatch.setenv("LABRUNNER_NO_CLIENT_COPY", "1")
    yield bare
    cli("down", "--all", "--wipe")


def _labrunner(*args, path, **kwargs):
    import os
    import subprocess
    import sys

    env = dict(os.environ, PATH=str(path))
    return subprocess.run([sys.executable, "-m", "labrunner", *args], env=env, capture_output=True,
                          text=True, timeout=120, **kwargs)


def test_tool_runs_in_the_container_without_a_docker_cli(postgres_on_docker, tmp_path):
    done = _labrunner("tool", "postgres", "psql", "-At", "-c", "select 6 * 7", path=postgres_on_docker)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "42"
    # stdin reaches the program, and its exit status is the command's
    done = _labrunner("tool", "postgres", "psql", "-At", "-v", "ON_ERROR_STOP=1",
                      path=postgres_on_docker, input="select 'from stdin';\nselect nosuch;\n")
    assert done.stdout.strip() == "from stdin"
    assert done.returncode == 3 and 'column "nosuch" does not exist' in done.stderr


def test_shell_in_the_container_is_a_terminal_and_ctrl_c_stays_in_psql(postgres_on_docker):
    import os
    import sys

    import pexpect

    env = dict(os.environ, PATH=str(postgres_on_docker))
    child = pexpect.spawn(sys.executable, ["-m", "labrunner", "shell", "postgres"], env=env,
                          encoding="utf-8", timeout=60, dimensions=(40, 120))
    try:
        child.expect("appdb=# ")                    # psql's prompt: a terminal, in the container
        child.send("select 6 * 7 as answer;\r")
        child.expect(r"\b42\b")
        child.expect("appdb=# ")
        child.send("select 'half a line")
        child.sendcontrol("c")                      # psql clears the line; the shell stays
        child.expect("appdb=# ")
        child.send("select 'still here' as answer;\r")
        child.expect("still here")
        child.send("\\q\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


def test_tool_at_a_terminal_gets_one_and_redirected_gets_plain_bytes(postgres_on_docker, tmp_path):
    import os
    import sys

    import pexpect

    env = dict(os.environ, PATH=str(postgres_on_docker))
    child = pexpect.spawn(sys.executable, ["-m", "labrunner", "tool", "postgres", "psql"], env=env,
                          encoding="utf-8", timeout=60)
    try:
        child.expect("appdb=# ")                    # psql prompts only on a terminal
        child.send("\\q\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    # stdin a terminal, stdout a file (`labrunner tool postgres psql ... > out.txt`): no CR LF in it
    out = tmp_path / "out.txt"
    child = pexpect.spawn("/bin/sh", ["-c", f'exec "$0" -m labrunner tool postgres psql -At -c "select 1 union all '
                                      f'select 2" > {out}', sys.executable], env=env, timeout=60)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and out.read_bytes() == b"1\n2\n"
