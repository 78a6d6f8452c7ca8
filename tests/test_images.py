"""Each locally built stand-in image serves, proven without labrunner: testcontainers starts the
image (Ryuk off; the test removes its container), and the engine's own client talks to it.
The engine and version each image's org.labrunner.engine label claims (what `labrunner run`
and `status` show for it) are checked against what the engine itself reports.

Images: the LABRUNNER_IMAGE_* variables of images/overrides.env (images/build.sh). Marked
`docker` through the docker_runtime fixture.
"""

from __future__ import annotations

import os
import re

import pytest

LOOPBACK = "127.0.0.1"


@pytest.fixture
def image_of(docker_runtime, monkeypatch):
    """The stand-in image for a LABRUNNER_IMAGE_<NAME> variable, with testcontainers pointed at
    the daemon labrunner found and its reaper off."""
    from testcontainers.core.config import testcontainers_config

    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
    monkeypatch.setattr(testcontainers_config, "ryuk_disabled", True)
    monkeypatch.setenv("DOCKER_HOST", docker_runtime.host.url)
    # Ports are published on this machine's 127.0.0.1; where it is itself a container,
    # testcontainers would otherwise look for them at the Docker network's gateway.
    from testcontainers.core.config import ConnectionMode

    monkeypatch.setattr(testcontainers_config, "connection_mode_override", ConnectionMode.docker_host)
    monkeypatch.setattr(testcontainers_config, "tc_host_override", LOOPBACK)

    def pick(name: str) -> tuple[str, str]:
        image = os.environ.get(f"LABRUNNER_IMAGE_{name}")
        if not image:
            pytest.skip(f"LABRUNNER_IMAGE_{name} is not set (source images/overrides.env)")
        labels = docker_runtime.client.images.get(image).labels or {}
        return image, labels.get("org.labrunner.engine", "")

    return pick


def _on_loopback(container, port: int):
    """Publish on 127.0.0.1 only, on a free port Docker picks (with_bind_ports takes no address:
    its `ports` map goes to the Docker SDK as is, which takes (address, port))."""
    container.ports[str(port)] = (LOOPBACK, None)
    return container


def _claimed_version(engine_label: str) -> str:
    found = re.search(r"\b(\d+\.\d+(?:\.\d+)?)\b", engine_label)
    assert found, f"no version in the image's engine label {engine_label!r}"
    return found.group(1)


def test_postgres_image_serves_psycopg(image_of):
    import psycopg
    from testcontainers.community.postgres import PostgresContainer

    image, engine = image_of("POSTGRES")
    with _on_loopback(PostgresContainer(image, username="lab", password="s3cret-pw", dbname="shop",
                                        driver=None), 5432) as pg:
        port = int(pg.get_exposed_port(5432))
        with psycopg.connect(host=LOOPBACK, port=port, user="lab", password="s3cret-pw", dbname="shop",
                             autocommit=True) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            conn.execute("CREATE TABLE t (id int PRIMARY KEY, name text)")
            conn.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')")
            assert conn.execute("SELECT name FROM t WHERE id = 2").fetchone() == ("two",)
            version = conn.execute("SHOW server_version").fetchone()[0]
    assert engine.startswith("PostgreSQL") and version.split()[0] == _claimed_version(engine)


@pytest.mark.parametrize("name", ["MYSQL", "MARIADB"])
def test_mysql_family_image_serves_pymysql(image_of, name):
    import pymysql
    from testcontainers.community.mysql import MySqlContainer

    image, engine = image_of(name)
    # The stand-ins follow the official images' MYSQL_* variables (MariaDB's image accepts them too).
    with _on_loopback(MySqlContainer(image, username="lab", password="s3cret-pw", dbname="shop",
                                     root_password="root-pw"), 3306) as db:
        port = int(db.get_exposed_port(3306))
        conn = pymysql.connect(host=LOOPBACK, port=port, user="lab", password="s3cret-pw", database="shop",
                               autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                assert cur.fetchone() == (1,)
                cur.execute("CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB")
                cur.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')")
                cur.execute("SELECT name FROM t WHERE id = 2")
                assert cur.fetchone() == ("two",)
                cur.execute("SELECT VERSION()")
                version = cur.fetchone()[0]
        finally:
            conn.close()
    # The label says what really runs: MariaDB, also in the mysql stand-in ("not MySQL").
    assert engine.startswith("MariaDB") and "MariaDB" in version
    assert version.startswith(_claimed_version(engine))
    if name == "MYSQL":
        assert "not MySQL" in engine


def test_valkey_image_serves_redis_py(image_of):
    import redis
    from testcontainers.community.valkey import ValkeyContainer

    image, engine = image_of("VALKEY")
    with _on_loopback(ValkeyContainer(image), 6379) as valkey:
        client = redis.Redis(host=LOOPBACK, port=int(valkey.get_exposed_port()), decode_responses=True)
        try:
            assert client.ping() is True
            assert client.set("greeting", "hello", ex=60) is True
            assert client.get("greeting") == "hello"
            assert 0 < client.ttl("greeting") <= 60
            version = client.info("server").get("valkey_version") or client.info("server")["redis_version"]
        finally:
            client.close()
    assert engine.startswith("Valkey") and str(version) == _claimed_version(engine)


def test_dynamodb_image_serves_boto3(image_of):
    import boto3
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import HttpWaitStrategy

    image, engine = image_of("DYNAMODB")
    container = _on_loopback(DockerContainer(image), 8000).waiting_for(
        HttpWaitStrategy(8000).for_status_code_matching(lambda status: status < 500)
        .with_startup_timeout(60))
    with container as ddb:
        client = boto3.client("dynamodb", endpoint_url=f"http://{LOOPBACK}:{ddb.get_exposed_port(8000)}",
                              region_name="us-east-1", aws_access_key_id="labrunner",
                              aws_secret_access_key="labrunner")
        assert client.list_tables()["TableNames"] == []
        client.create_table(TableName="Music", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"}])
        client.put_item(TableName="Music", Item={"Artist": {"S": "No One You Know"}, "Plays": {"N": "3"}})
        item = client.get_item(TableName="Music", Key={"Artist": {"S": "No One You Know"}})["Item"]
        assert item["Plays"] == {"N": "3"}
        assert client.list_tables()["TableNames"] == ["Music"]
    assert engine.startswith("moto") and "emulator" in engine
