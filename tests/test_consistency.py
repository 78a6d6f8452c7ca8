"""Every service has its module, compose file (same pin), docs row and a test that starts it; every lab
is complete."""

import ast
import importlib.util
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


def _stand_in_rows() -> dict[str, str]:
    """README's "Stand-ins" table: service name -> its row."""
    section = (REPO / "README.md").read_text().split("\n## Stand-ins", 1)[-1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cell = re.match(r"\|\s*`([a-z0-9_-]+)`\s*\|", line)
        if cell:
            rows[cell.group(1)] = line
    return rows


def _starts_a_runtime(function: ast.FunctionDef, fixtures: dict[str, ast.FunctionDef]) -> bool:
    """The test (or a fixture it takes) runs a lab (`cli("run", ...)`, `cli("test", ...)`) or takes the
    docker_runtime fixture. (A call of runtime.launch() does not count: a test may aim it at a fake daemon.)"""
    bodies = [function] + [fixtures[a.arg] for a in function.args.args if a.arg in fixtures]
    for body in bodies:
        if any(a.arg == "docker_runtime" for a in body.args.args):
            return True
        for node in ast.walk(body):
            if not isinstance(node, ast.Call):
                continue
            first = node.args[0] if node.args else None
            if isinstance(node.func, ast.Name) and node.func.id == "cli" and isinstance(first, ast.Constant) \
                    and first.value in ("run", "test"):
                return True
    return False


def starting_tests(name: str) -> list[str]:
    """Test functions whose name (or file name) names the service and that start a runtime."""
    found = []
    for path in sorted((REPO / "tests").glob("test_*.py")):
        tree = ast.parse(path.read_text())
        functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
        fixtures = {f.name: f for f in functions if not f.name.startswith("test_")}
        for function in functions:
            if function.name.startswith("test_") and re.search(rf"(^|_){name}(_|$)", f"{path.stem}_{function.name}") \
                    and _starts_a_runtime(function, fixtures):
                found.append(f"{path.name}::{function.name}")
    return found


def labs_proved_using(name: str) -> list[str]:
    """Labs that use the service and that tests/test_labs.py proves (`labrunner test` on each runtime)."""
    spec = importlib.util.spec_from_file_location("labrunner_test_labs_module", REPO / "tests" / "test_labs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not all(callable(getattr(module, t, None)) for t in ("test_lab_proves_itself_on_local",
                                                             "test_lab_proves_itself_on_docker")):
        return []
    return [lab_id for lab_id in module.LABS if name in catalog.get(lab_id, with_code=False).services]


def service_gaps(name: str) -> list[str]:
    """What a service in the registry lacks: its module, compose file (same image, loopback only), a
    README stand-ins row naming its AWS service and image, and a test that starts it (or a lab using it
    that tests/test_labs.py proves)."""
    gaps = []
    module = services.MODULES[name].replace(".", "/") + ".py"          # neptune-gremlin: neptune_gremlin.py
    if not (REPO / "src" / module).is_file():
        gaps.append(f"src/{module} is missing")
    service = services.get(name)
    # a family of stand-ins may share one file: neptune-gremlin and neptune-sparql in compose/neptune.yml
    compose = REPO / "compose" / f"{name}.yml"
    if not compose.is_file() and (REPO / "compose" / f"{name.split('-')[0]}.yml").is_file():
        compose = REPO / "compose" / f"{name.split('-')[0]}.yml"
    if not compose.is_file():
        gaps.append(f"compose/{name}.yml is missing")
    else:
        declared = yaml.safe_load(compose.read_text())["services"].values()
        if service.image not in [svc["image"] for svc in declared]:
            gaps.append(f"compose/{name}.yml does not use {service.image}")
        gaps += [f"compose/{name}.yml publishes {port} beyond loopback" for svc in declared
                 for port in svc.get("ports", []) if not str(port).startswith("127.0.0.1:")]
    row = _stand_in_rows().get(name)
    if row is None:
        gaps.append(f"README.md's Stand-ins table has no row for `{name}`")
    elif service.aws_name not in row or service.image not in row:
        gaps.append(f"README.md's Stand-ins row for `{name}` does not name {service.aws_name} and {service.image}")
    if not starting_tests(name) and not labs_proved_using(name):
        gaps.append(f"no test starts {name}: name it in a test that runs it on a runtime, or add a lab using it")
    return gaps


@pytest.mark.parametrize("name", services.names())
def test_service_has_module_compose_file_docs_and_a_test_that_starts_it(name):
    assert service_gaps(name) == []


def test_a_service_added_without_them_is_named(monkeypatch):
    """A throwaway registry entry: no module of its own, no compose file, no README row, no test, no lab."""
    monkeypatch.setitem(services.MODULES, "timestream", "labrunner.services.timestream")
    monkeypatch.setattr(services, "get", lambda name: importlib.import_module("labrunner.services.dynamodb").SERVICE)
    gaps = service_gaps("timestream")
    assert gaps == ["src/labrunner/services/timestream.py is missing", "compose/timestream.yml is missing",
                    "README.md's Stand-ins table has no row for `timestream`",
                    "no test starts timestream: name it in a test that runs it on a runtime, or add a lab using it"]


def test_an_import_alone_does_not_count_as_a_test_that_starts_a_service():
    """tests/test_services.py imports every service module (and aims sqlserver's launch at a fake daemon)
    but starts none of them."""
    assert not [t for t in starting_tests("oracle") + starting_tests("sqlserver") if t.startswith("test_services.py")]
    assert "test_postgres.py::test_each_session_gets_its_own_password_and_an_rds_like_endpoint" in \
        starting_tests("postgres")


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
@pytest.mark.parametrize("compose", sorted((REPO / "compose").glob("*.yml")), ids=lambda p: p.name)
def test_compose_files_are_valid(compose):
    secret = "only-for-config-validation"          # compose files that require a password
    env = dict(os.environ, POSTGRES_PASSWORD=secret, MYSQL_ROOT_PASSWORD=secret, MYSQL_PASSWORD=secret,
               MARIADB_ROOT_PASSWORD=secret,
               ORACLE_PASSWORD=secret, MSSQL_SA_PASSWORD=secret, VALKEY_PASSWORD=secret,
               DOCDB_PASSWORD=secret)
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
