"""Service definitions and image selection, without an engine (the engines are tested elsewhere)."""

import re

import pytest

from labrunner import config, services
from labrunner.services import dynamodb


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason="2025-latest moves with every CU: pin a "
                                                                     "CU tag in services/sqlserver.py"))
    if name == "sqlserver" else name for name in services.names()])
def test_every_service_pins_its_image(name):
    """A version tag that names one build: not `latest`, nor a moving tag such as `2025-latest`."""
    image = services.get(name).image
    repository, _, tag = image.rpartition(":")
    assert repository and tag and "latest" not in tag, f"{name}: {image} is not pinned"
    assert re.match(r"^v?\d+(\.\d+)*", tag), f"{name}: {image} should pin a version tag"   # Foundry tags v1.7.1


def test_dynamodb_local_runs_shared_in_memory_without_telemetry():
    service = dynamodb.SERVICE
    assert service.image.startswith("amazon/dynamodb-local:")
    assert service.container_port == 8000
    assert {"-sharedDb", "-inMemory", "-disableTelemetry"} <= set(service.command)
    assert service.environment["DDB_LOCAL_TELEMETRY"] == "0"
    assert set(service.fixtures) == {"dynamodb", "dynamodb_resource"}


def test_dynamodb_credentials_suit_dynamodb_local():
    """DynamoDB Local accepts only letters and digits in the access key id."""
    assert dynamodb.ACCESS_KEY.isalnum()
    exports = dynamodb.exports(services.Endpoint("dynamodb", "127.0.0.1", 1234))
    assert exports["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:1234"


def test_local_recipe_binds_loopback_only():
    argv = dynamodb.SERVICE.local.argv(4567, "/tmp/x")
    assert argv[argv.index("-H") + 1] == "127.0.0.1" and argv[argv.index("-p") + 1] == "4567"


def test_image_override_beats_mirror(monkeypatch):
    monkeypatch.delenv("LABRUNNER_IMAGE_DYNAMODB", raising=False)
    monkeypatch.setenv("LABRUNNER_REGISTRY_MIRROR", "mirror.school.example:5000/")
    assert config.resolve_image("dynamodb", dynamodb.IMAGE) == f"mirror.school.example:5000/{dynamodb.IMAGE}"
    monkeypatch.setenv("LABRUNNER_IMAGE_DYNAMODB", "local/dynamodb:test")
    assert config.resolve_image("dynamodb", dynamodb.IMAGE) == "local/dynamodb:test"


def test_config_file_sets_images_and_mirror(labrunner_home, monkeypatch):
    monkeypatch.delenv("LABRUNNER_IMAGE_DYNAMODB", raising=False)
    labrunner_home.mkdir(parents=True, exist_ok=True)
    (labrunner_home / "config.toml").write_text('registry_mirror = "m.example"\n[images]\ndynamodb = "x/y:1"\n')
    config.load.cache_clear()
    assert config.resolve_image("dynamodb", dynamodb.IMAGE) == "x/y:1"
    assert config.registry_mirror() == "m.example"


def test_a_broken_config_file_is_one_line(labrunner_home):
    from labrunner.errors import UsageError

    labrunner_home.mkdir(parents=True, exist_ok=True)
    (labrunner_home / "config.toml").write_text("registry_mirror = \n")
    config.load.cache_clear()
    with pytest.raises(UsageError) as info:
        config.registry_mirror()
    assert "config.toml" in info.value.one_line() and "\n" not in info.value.one_line()


def test_moto_missing_names_the_install_command(monkeypatch):
    import importlib.util

    from labrunner.errors import RuntimeUnavailable

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "moto" else real(name, *a))
    with pytest.raises(RuntimeUnavailable) as info:
        dynamodb.SERVICE.local.find()
    assert 'pip install "labrunner[local]"' in info.value.one_line()


def test_docker_only_services_say_why_and_need_no_local_engine():
    from labrunner.services import oracle, sqlserver  # noqa: the consistency test reads this line

    for service in (oracle.SERVICE, sqlserver.SERVICE):
        assert service.local is None and "container image" in service.local_unavailable_reason
        assert service.username == "admin" and service.needs_password
    assert sqlserver.SERVICE.docker_architectures == ("x86_64", "amd64")
    assert oracle.SERVICE.database == "FREEPDB1" and oracle.SERVICE.container_port == 1521


def test_oracle_and_sqlserver_follow_their_images():
    from labrunner.services import oracle, sqlserver
    from labrunner.services.base import Endpoint

    endpoint = Endpoint("x", "127.0.0.1", 1, "x", "admin", "Pw1secret", "appdb")
    assert oracle.docker_environment(endpoint) == {"ORACLE_PASSWORD": "Pw1secret", "APP_USER": "admin",
                                                   "APP_USER_PASSWORD": "Pw1secret"}
    env = sqlserver.docker_environment(endpoint)
    assert env["ACCEPT_EULA"] == "Y" and env["MSSQL_SA_PASSWORD"] == "Pw1secret"   # not SA_PASSWORD
    assert sqlserver.exports(endpoint)["SQLCMDSERVER"] == "127.0.0.1,1"
    assert oracle.shell_args(endpoint) == ["-L", 'admin/"Pw1secret"@//127.0.0.1:1/appdb']


def test_session_passwords_suit_every_engine():
    """SQL Server wants three character classes; Oracle an unquoted identifier shape."""
    from labrunner.runtimes.base import new_password

    for _ in range(200):
        password = new_password()
        assert len(password) == 16 and password[0].isalpha() and password.isalnum()
        assert any(c.isupper() for c in password) and any(c.islower() for c in password)
        assert any(c.isdigit() for c in password)


def test_sqlserver_refuses_arm64_with_a_clear_line(monkeypatch):
    from labrunner.errors import RuntimeUnavailable
    from labrunner.runtimes.docker import DockerRuntime
    from labrunner.services import sqlserver

    class FakeDockerClient:          # the daemon's answer is all that matters here
        def info(self):
            return {"Architecture": "aarch64"}

    runtime = DockerRuntime.__new__(DockerRuntime)
    runtime.client = FakeDockerClient()
    with pytest.raises(RuntimeUnavailable) as info:
        runtime.launch(sqlserver.SERVICE, lab_id="x", session_id="y", port=None)
    assert "no container image for aarch64" in info.value.one_line() and "x86-64" in info.value.one_line()


def test_an_image_override_by_image_name_serves_every_service_that_runs_it(monkeypatch):
    from labrunner.services import elasticache, memorydb

    monkeypatch.setenv("LABRUNNER_IMAGE_VALKEY", "local/valkey:test")
    monkeypatch.delenv("LABRUNNER_IMAGE_MEMORYDB", raising=False)
    assert config.resolve_image("memorydb", memorydb.IMAGE) == "local/valkey:test"
    assert config.resolve_image("elasticache", elasticache.IMAGE) == "local/valkey:test"
    monkeypatch.setenv("LABRUNNER_IMAGE_MEMORYDB", "local/memorydb:1")      # the service's own wins
    assert config.resolve_image("memorydb", memorydb.IMAGE) == "local/memorydb:1"
