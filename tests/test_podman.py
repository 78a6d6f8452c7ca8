"""labrunner's Docker runtime on Podman (Debian's podman serving the Docker API), as a learner
with Podman would run it: the daemon named by DOCKER_HOST, our stand-in images loaded into it.

scripts/podman-up.sh installs Podman where it is missing (as root), starts its API service on a
private socket and loads the images; the fixture runs it (quick when it has run before). Marked `docker` (through docker_runtime: the images come from
Docker). Where Podman cannot be had, the tests skip, except in CI conditions (Docker required,
root on Linux), where that is a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from labrunner import sessions

REPO = Path(__file__).resolve().parent.parent
LIGHT_LAB = "elasticache-sessions-leaderboards"      # one Valkey: the lightest lab that exercises much
IMAGES = ("valkey", "postgres")          # the stand-ins these tests run (podman-up.sh copies only these)


def _podman_required() -> bool:
    return (os.environ.get("LABRUNNER_REQUIRE_DOCKER") == "1" and sys.platform == "linux"
            and os.geteuid() == 0)


@pytest.fixture(scope="session")
def podman_url():
    """Podman's API socket, its images as Docker's: scripts/podman-up.sh (idempotent, half a
    second when it has run before), else a Podman named by LABRUNNER_PODMAN_HOST."""
    done = subprocess.run(["bash", str(REPO / "scripts" / "podman-up.sh"), *IMAGES], capture_output=True,
                          text=True, timeout=900)
    for line in done.stdout.splitlines():
        if done.returncode == 0 and line.startswith("export LABRUNNER_PODMAN_HOST="):
            return line.split("=", 1)[1]
    if os.environ.get("LABRUNNER_PODMAN_HOST"):
        return os.environ["LABRUNNER_PODMAN_HOST"]
    reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
    if _podman_required():
        pytest.fail(f"scripts/podman-up.sh failed: {reason}")
    pytest.skip(f"no Podman here: {reason}")


@pytest.fixture
def podman(docker_runtime, podman_url, monkeypatch, cli):
    """labrunner pointed at Podman by DOCKER_HOST, the way a learner's Podman is named."""
    from labrunner.runtimes import docker

    monkeypatch.setenv("DOCKER_HOST", podman_url)
    docker.connect.cache_clear()
    runtime = docker.DockerRuntime()
    assert runtime.host.kind == "Podman", runtime.describe()
    yield runtime
    cli("down", "--all", "--wipe")
    docker.connect.cache_clear()


def test_the_podman_service_does_not_live_in_its_starters_folder(podman_url):
    """It outlives scripts/podman-up.sh, and conmon fails for every container once the folder it
    was started from (a CI clone) is deleted: it runs in /. A second podman-up.sh only checks."""
    pidfile = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "labrunner-ci" / "podman" / "service.pid"
    pid = pidfile.read_text().strip()
    assert os.readlink(f"/proc/{pid}/cwd") == "/"
    again = subprocess.run(["bash", str(REPO / "scripts" / "podman-up.sh"), *IMAGES], capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0 and "starting podman" not in again.stderr, again.stderr
    assert pidfile.read_text().strip() == pid


def test_doctor_names_podman(cli, podman):
    items = {i["item"]: i for i in cli("doctor", "--json").json()["items"]}
    assert items["docker"]["ok"] and items["docker"]["detail"].startswith("Podman at ")


def test_a_lab_passes_labrunner_test_on_podman(cli, podman):
    result = cli("test", LIGHT_LAB, "--runtime", "docker")
    assert result.code == 0, result
    assert podman.labelled() == []                  # labrunner test leaves nothing behind


def test_tool_runs_in_the_podman_container(cli, podman, tmp_path, monkeypatch):
    """The docker CLI, where there is one, talks to its own default daemon, which does not know
    this container: the exec must go to the daemon labrunner found."""
    if not os.environ.get("LABRUNNER_IMAGE_POSTGRES"):
        pytest.skip("LABRUNNER_IMAGE_POSTGRES is not set (source images/overrides.env)")
    assert cli("run", "rds-postgres-basics", "--runtime", "docker", "--no-input").code == 0
    assert sessions.find("rds-postgres-basics").services["postgres"]["docker_host"] == os.environ["DOCKER_HOST"]
    monkeypatch.setenv("LABRUNNER_NO_CLIENT_COPY", "1")
    bare = tmp_path / "bin"                          # no psql of this machine's either
    bare.mkdir()
    for program in ("docker",):                      # a docker CLI is there, as on a laptop
        found = subprocess.run(["sh", "-c", f"command -v {program}"], capture_output=True, text=True).stdout.strip()
        if found:
            (bare / program).symlink_to(found)
    # Whatever DOCKER_HOST says later in this shell, the session remembers its daemon.
    env = dict(os.environ, PATH=str(bare), DOCKER_HOST="unix:///var/run/docker.sock")
    done = subprocess.run([sys.executable, "-m", "labrunner", "tool", "postgres", "psql", "-At", "-c",
                           "select 6 * 7"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "42"


def test_a_pull_error_says_the_daemons_reason(cli, podman, monkeypatch):
    """Podman reports a failed pull inside the pull stream (HTTP 200, then an error event): that
    reason is the one-line error, not "gave no image". No registry is reachable here, so the
    reason is the daemon's own."""
    monkeypatch.setenv("LABRUNNER_IMAGE_DYNAMODB", "labrunner-local/does-not-exist:0.0.1")
    result = cli("run", "dynamodb-basics", "--runtime", "docker", "--no-input")
    assert result.code == 5, result
    assert "gave no image" not in result.err
    line = result.err.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert line.startswith("labrunner: could not pull labrunner-local/does-not-exist:0.0.1: ")
    reason = line.split("does-not-exist:0.0.1: ", 1)[1]
    assert "registry" in reason or "does-not-exist" in reason     # the daemon's words, whatever they are
    assert "LABRUNNER_IMAGE_DYNAMODB" in line
