"""Every service has its module, compose file (same pin) and tests; every lab is complete."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from labrunner import services
from labrunner.labs import catalog

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", services.names())
def test_service_has_module_compose_file_and_tests(name):
    service = services.get(name)
    assert (REPO / "src" / "labrunner" / "services" / f"{name}.py").is_file()
    compose = REPO / "compose" / f"{name}.yml"
    assert compose.is_file(), f"compose/{name}.yml is missing"
    images = [svc["image"] for svc in yaml.safe_load(compose.read_text())["services"].values()]
    assert service.image in images, f"compose/{name}.yml does not use {service.image}"
    for svc in yaml.safe_load(compose.read_text())["services"].values():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"compose/{name}.yml publishes {port} beyond loopback"
    tests_text = " ".join(p.read_text() for p in (REPO / "tests").glob("test_*.py"))
    named = re.search(rf"from labrunner\.services import [^\n]*\b{name}\b|services\.{name}\b", tests_text)
    assert named, f"no test imports labrunner.services.{name}"
    readme = (REPO / "README.md").read_text()
    assert f"`{name}`" in readme, f"README.md has no row for {name}"


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
@pytest.mark.parametrize("compose", sorted((REPO / "compose").glob("*.yml")), ids=lambda p: p.name)
def test_compose_files_are_valid(compose):
    secret = "only-for-config-validation"          # compose files that require a password
    env = dict(os.environ, POSTGRES_PASSWORD=secret, MYSQL_ROOT_PASSWORD=secret, MARIADB_ROOT_PASSWORD=secret,
               ORACLE_PASSWORD=secret, MSSQL_SA_PASSWORD=secret, VALKEY_PASSWORD=secret)
    result = subprocess.run(["docker-compose", "-f", str(compose), "config", "-q"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("lab_id", sorted(catalog.lab_dirs()))
def test_lab_is_complete(lab_id):
    lab = catalog.get(lab_id)
    assert 3 <= len(lab.objectives) and lab.summary and lab.minutes
    for name in ("intro", "differences", "outro"):
        assert len(lab.read(getattr(lab, name)).strip()) > 200, f"{name} is too thin"
    for step in lab.steps:
        assert len(step.hints) >= 2, f"{step.id}: needs tiered hints"
        assert len(set(step.hints)) == len(step.hints), f"{step.id}: repeated hint"
        assert lab.read(step.text).strip(), f"{step.id}: empty text"
        assert callable(getattr(lab.modules["solutions"], step.solution))
    # every reference version is of a starter file: cache.py, or cache-3-ttl.py for the version
    # of cache.py that one step's solution installs
    stems = {p.stem for p in (lab.path / "workspace").glob("*.py")}
    solutions = {p.stem for p in (lab.path / "solutions").glob("*.py")} if (lab.path / "solutions").exists() else set()
    assert all(s in stems or s.split("-")[0] in stems for s in solutions), solutions - stems


def test_wheel_ships_labs_and_compose():
    text = (REPO / "pyproject.toml").read_text()
    assert '"labs" = "labrunner/bundled_labs"' in text and '"compose" = "labrunner/bundled_compose"' in text
