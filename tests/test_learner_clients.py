"""Services own their clients: learner code run with connect="<service>" gets the client its
Service's learner_client names, made in the answer's child, which imports nothing else heavy.
Real engines on the local runtime; Oracle and SQL Server (Docker only) are resolved, not run."""

import importlib
import subprocess
import sys
from types import SimpleNamespace

import pytest

from labrunner import services, sessions
from labrunner.checks.answer import AnswerRunner
from labrunner.errors import LabError

DRIVERS = {"postgres": "psycopg", "mysql": "pymysql", "mariadb": "pymysql", "dynamodb": "boto3",
           "elasticache": "redis", "memorydb": "redis", "oracle": "oracledb", "sqlserver": "pytds",
           "documentdb": "pymongo"}
HEAVY = sorted(set(DRIVERS.values()) | {"botocore", "valkey"})

PROBE = f'''
import sys

def modules(*clients):
    return sorted(name for name in {HEAVY!r} if name in sys.modules)
'''


@pytest.mark.parametrize("name", sorted(DRIVERS))
def test_every_service_names_a_learner_client_that_resolves(name):
    service = services.get(name)
    module_name, _, attribute = service.learner_client.partition(":")
    assert callable(getattr(importlib.import_module(module_name), attribute))


@pytest.mark.parametrize("name", sorted(DRIVERS))
def test_a_learner_client_module_imports_no_driver_until_called(name):
    """The child imports the factory's module: it must not pull in drivers (its own or others')."""
    module_name = services.get(name).learner_client.partition(":")[0]
    code = f"import sys, {module_name}; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done


def runner_for(lab, tmp_path, source):
    (tmp_path / "answer.py").write_text(source)
    return AnswerRunner(SimpleNamespace(path=tmp_path), sessions.find(lab))


MYSQL_ANSWER = PROBE + '''
def add(conn, n):
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS learner_rows (n INT)")
        cur.execute("INSERT INTO learner_rows VALUES (%s)", (n,))
    conn.commit()
    return type(conn).__module__

def add_without_commit(conn, n):
    with conn.cursor() as cur:
        cur.execute("INSERT INTO learner_rows VALUES (%s)", (n,))
    return n
'''


@pytest.mark.parametrize("service, lab", [("mysql", "rds-mysql-basics"), ("mariadb", "rds-mariadb-basics")])
def test_mysql_and_mariadb_learner_code_gets_a_pymysql_connection(cli, tmp_path, service, lab):
    result = cli("run", lab, "--runtime", "local", "--no-input")
    try:
        assert result.code == 0, result
        runner = runner_for(lab, tmp_path, MYSQL_ANSWER)
        added = runner.call("answer.py", "add", 41, connect=service)
        assert added.ok, added.failure()
        assert added.value == "pymysql.connections" and added.describe_call() == "add(conn, 41)"
        uncommitted = runner.call("answer.py", "add_without_commit", 42, connect=service)
        assert uncommitted.ok, uncommitted.failure()
        (mods,) = runner.run("answer.py", [("modules", ())], connect=service)
        assert mods.value == ["pymysql"]
        conn = services.get(service).fixtures["db"](sessions.find(lab).endpoint(service))
        with conn.cursor() as cur:
            cur.execute("SELECT n FROM learner_rows ORDER BY n")
            rows = [n for (n,) in cur.fetchall()]
        conn.close()
        assert rows == [41]                  # committed work stays; not autocommit, so 42 did not
    finally:
        cli("down", "--all", "--wipe")


POSTGRES_ANSWER = PROBE + '''
def autocommit(conn):
    return [type(conn).__module__, conn.autocommit]
'''


def test_postgres_learner_code_gets_psycopg_and_nothing_heavier(cli, tmp_path):
    lab = "rds-postgres-basics"
    assert cli("run", lab, "--runtime", "local", "--no-input").code == 0
    try:
        runner = runner_for(lab, tmp_path, POSTGRES_ANSWER)
        kind, mods = runner.run("answer.py", [("autocommit", ()), ("modules", ())], connect="postgres")
        assert kind.value == ["psycopg", False]
        assert mods.value == ["psycopg"]        # no botocore, no redis: the child stays light
        with pytest.raises(LabError, match=r"connect='mysql' names no service of this lab \(it has: postgres\)"):
            runner.call("answer.py", "modules", connect="mysql")
    finally:
        cli("down", "--all", "--wipe")


DYNAMODB_ANSWER = PROBE + '''
def make_table(ddb):
    ddb.create_table(TableName="Notes", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    return type(ddb).__name__

def put(table, key):
    table.put_item(Item={"id": key, "n": 1})
    return table.get_item(Key={"id": key})["Item"]
'''


def test_dynamodb_learner_code_gets_a_resource_or_a_table_and_calls_are_recorded(cli, tmp_path):
    lab = "dynamodb-basics"
    assert cli("run", lab, "--runtime", "local", "--no-input").code == 0
    try:
        runner = runner_for(lab, tmp_path, DYNAMODB_ANSWER)
        made = runner.call("answer.py", "make_table", connect="dynamodb")
        assert made.ok, made.failure()
        assert made.value == "dynamodb.ServiceResource" and made.calls == ["CreateTable"]
        put = runner.call("answer.py", "put", "a", table="Notes")
        assert put.value == {"id": "a", "n": 1} and put.calls == ["PutItem", "GetItem"]
        assert put.describe_call() == "put(table, 'a')"
    finally:
        cli("down", "--all", "--wipe")
