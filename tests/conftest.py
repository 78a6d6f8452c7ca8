"""Shared test fixtures: every state directory in a temp folder, the CLI called in-process."""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from labrunner.labs import catalog

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def labrunner_home(tmp_path, monkeypatch):
    """Each test gets its own LABRUNNER_HOME (state, progress, config, workspaces)."""
    home = tmp_path / "home"
    monkeypatch.setenv("LABRUNNER_HOME", str(home))
    monkeypatch.delenv("LABRUNNER_WORKSPACES", raising=False)
    monkeypatch.delenv("LABRUNNER_LABS_PATH", raising=False)
    from labrunner import config
    from labrunner.runtimes import docker

    config.load.cache_clear()
    docker.connect.cache_clear()
    catalog._extra_dirs.clear()
    yield home
    catalog._extra_dirs.clear()
    config.load.cache_clear()
    docker.connect.cache_clear()


class CLIResult:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return f"<exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}>"


@pytest.fixture
def cli(capsys):
    """Run `labrunner ARGS...` in-process; returns exit code, stdout and stderr."""
    from labrunner.cli import main

    def invoke(*args: str) -> CLIResult:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        captured = capsys.readouterr()
        return CLIResult(exit_info.value.code, captured.out, captured.err)

    return invoke


@pytest.fixture
def start_lab(cli):
    """start_lab(lab_id, runtime="local"): `labrunner run LAB --no-input`, asserted to succeed;
    returns the lab's session. Every lab is taken down (--wipe) after the test."""
    from labrunner import sessions

    started = []

    def start(lab_id: str, runtime: str = "local"):
        result = cli("run", lab_id, "--runtime", runtime, "--no-input")
        assert result.code == 0, result
        started.append(lab_id)
        return sessions.find(lab_id)

    yield start
    if started:
        cli("down", "--all", "--wipe")


@pytest.fixture
def lab_copy(tmp_path):
    """A writable copy of a built-in lab in a --labs-dir style folder."""

    def make(lab_id: str = "dynamodb-basics") -> Path:
        target = tmp_path / "labs" / lab_id
        shutil.copytree(REPO / "labs" / lab_id, target, ignore=shutil.ignore_patterns("__pycache__"))
        return target

    return make


def docker_required() -> bool:
    return os.environ.get("LABRUNNER_REQUIRE_DOCKER") == "1"


@pytest.fixture
def docker_runtime(request):
    """Skip without a Docker daemon, unless LABRUNNER_REQUIRE_DOCKER=1 (CI) makes that a failure."""
    from labrunner.runtimes import docker

    if request.node.get_closest_marker("docker") is None:       # `-m "not docker"` must not reach Docker
        pytest.fail("this test uses Docker but is not marked `docker` (see pytest_collection_modifyitems)")
    if not docker.available():
        if docker_required():
            pytest.fail("LABRUNNER_REQUIRE_DOCKER=1 but Docker is not reachable")
        pytest.skip("Docker is not reachable")
    return docker.DockerRuntime()


# ---- markers: `pytest -m "not docker"` runs on a laptop without Docker, `-m docker` picks the Docker tests.
# A test is `docker` when it asks for the docker_runtime fixture (directly or through another fixture) or is
# parametrized with runtime="docker"; the fixture refuses to serve an unmarked test, so a test that reaches
# it another way fails instead of slipping past `-m "not docker"`. A test is `local` when it, or a fixture
# it uses, starts labrunner on the local runtime (engine processes on this machine).

LOCAL_RUN = re.compile(r"""["']--runtime["'],\s*["']local["']""")      # the argv of a local run


def _runtime_param(item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("runtime") if callspec else None


def _sources(item):
    functions = [item.function]
    for name in item.fixturenames:
        for fixturedef in item._fixtureinfo.name2fixturedefs.get(name, ()):
            functions.append(fixturedef.func)
    for function in functions:
        try:
            yield inspect.getsource(function)
        except (OSError, TypeError):
            continue


# Longest first, so parallel workers (scripts/test.sh runs pytest-xdist) do not end on one long proof
# while the others idle. Seconds each took in a serial CI run; an unlisted lab's proof counts as 40 s.
LAB_PROOF_SECONDS = {"aurora-point-in-time": 220, "rds-postgres-replicas": 180, "aurora-failover": 125,
                     "aurora-mysql-basics": 76, "aws-backup-basics": 65, "elasticache-caching": 55,
                     "documentdb-basics": 45, "aurora-replication": 40, "blockchain-ledger": 39,
                     "dynamodb-modeling": 38, "elasticache-cluster": 36, "elasticache-sessions-leaderboards": 33,
                     "dynamodb-basics": 32, "neptune-gremlin": 30}
SLOW_TESTS = {"test_a_lab_whose_check_passes_too_early_fails_its_test": 45}
SLOW_MODULES = {"test_rds_multiaz.py": 35, "test_prepare.py": 30, "test_podman.py": 30, "test_aurora_restore.py": 25,
                "test_journey_aurora.py": 25, "test_elasticache_cluster.py": 25, "test_faults.py": 20,
                "test_aws_backup.py": 20, "test_wheel.py": 20}


def _expected_seconds(item) -> float:
    lab = _lab_param(item)
    if item.path.name == "test_labs.py" and item.originalname.startswith("test_lab_proves_itself_on_") and lab:
        return LAB_PROOF_SECONDS.get(lab, 40)
    return SLOW_TESTS.get(item.originalname, SLOW_MODULES.get(item.path.name, 0))


def _lab_param(item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("lab_id") if callspec else None


def pytest_collection_modifyitems(config, items):
    items.sort(key=_expected_seconds, reverse=True)       # stable: the rest keep their order
    for item in items:
        if "docker_runtime" in item.fixturenames or _runtime_param(item) == "docker":
            item.add_marker(pytest.mark.docker)
        if _runtime_param(item) == "local" or any(LOCAL_RUN.search(text) for text in _sources(item)):
            item.add_marker(pytest.mark.local)
