"""labrunner's moto launcher (services/moto_dynamodb.py) on a real moto server, started by the
local runtime exactly as `labrunner run --runtime local` starts it. Nothing is mocked: every
statement goes over HTTP to moto, through boto3 or the aws CLI.

Each of these failed on moto 5.2.5 started plainly (`python -m moto.server`): parameterised
INSERT, UPDATE and DELETE answered an HTML 500 page, begins_with was ignored, `Artist=?`
without spaces answered 500, INSERT overwrote an existing key, and a crash reached the client
as HTML.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labrunner import runtimes
from labrunner.runtimes.base import wait_ready
from labrunner.services import dynamodb, moto_dynamodb

pytestmark = pytest.mark.local

TABLE = "Music"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LABRUNNER_HOME", str(tmp_path_factory.mktemp("partiql-home")))
        runtime = runtimes.get("local")
        state = runtime.launch(dynamodb.SERVICE, lab_id="partiql-test", session_id="partiql", port=None)
        try:
            yield wait_ready(runtime, dynamodb.SERVICE, state)
        finally:
            runtime.remove(state)


@pytest.fixture
def client(endpoint):
    ddb = dynamodb.client(endpoint)
    for name in ddb.list_tables()["TableNames"]:
        ddb.delete_table(TableName=name)
    ddb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"},
                              {"AttributeName": "SongTitle", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"},
                   {"AttributeName": "SongTitle", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST")
    for title, plays in (("Bluebird Junction", 3), ("Blue Static", 0), ("Blue Circuit", 7), ("Road Salt", 5)):
        ddb.put_item(TableName=TABLE, Item={"Artist": {"S": "Saffron Radar"}, "SongTitle": {"S": title},
                                            "Plays": {"N": str(plays)}})
    ddb.put_item(TableName=TABLE, Item={"Artist": {"S": "Other"}, "SongTitle": {"S": "Blue Moon"},
                                        "Plays": {"N": "1"}})
    return ddb


def run(ddb, statement, *parameters):
    kwargs = {"Statement": statement}
    if parameters:
        kwargs["Parameters"] = list(parameters)
    return ddb.execute_statement(**kwargs)["Items"]


def S(value):
    return {"S": value}


def N(value):
    return {"N": str(value)}


def error_of(call):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def test_select_runs_begins_with_in_sort_key_order(client):
    items = run(client, "SELECT SongTitle FROM Music WHERE Artist = ? AND begins_with(SongTitle, ?)",
                S("Saffron Radar"), S("Blue"))
    # byte order: "Blue " (space) sorts before "Blueb"; the other artist's Blue Moon is not there
    assert [i["SongTitle"]["S"] for i in items] == ["Blue Circuit", "Blue Static", "Bluebird Junction"]


def test_select_without_spaces_and_with_quoted_names(client):
    items = run(client, 'SELECT "SongTitle", Plays FROM "Music" WHERE "Artist"=? AND Plays>?',
                S("Saffron Radar"), N(4))
    assert sorted((i["SongTitle"]["S"], i["Plays"]["N"]) for i in items) == [("Blue Circuit", "7"),
                                                                            ("Road Salt", "5")]


def test_parameterised_insert_and_duplicate_key(client):
    run(client, "INSERT INTO Music VALUE {'Artist': ?, 'SongTitle': ?, 'Plays': ?, 'Tags': ['a', 1]}",
        S("Acme Band"), S("Harbour Lights"), N(0))
    item = client.get_item(TableName=TABLE, Key={"Artist": S("Acme Band"), "SongTitle": S("Harbour Lights")})
    assert item["Item"]["Plays"] == N(0) and item["Item"]["Tags"] == {"L": [S("a"), N(1)]}
    code, message = error_of(lambda: run(
        client, "INSERT INTO Music VALUE {'Artist': 'Acme Band', 'SongTitle': 'Harbour Lights', 'Plays': 9}"))
    assert code == "DuplicateItemException" and "Duplicate primary key" in message
    again = client.get_item(TableName=TABLE, Key={"Artist": S("Acme Band"), "SongTitle": S("Harbour Lights")})
    assert again["Item"]["Plays"] == N(0)          # not overwritten


def test_update_adds_and_returns_and_refuses_a_missing_item(client):
    items = run(client, "UPDATE Music SET Plays = Plays + ? WHERE Artist = ? AND SongTitle = ? "
                        "RETURNING MODIFIED NEW *", N(1), S("Saffron Radar"), S("Road Salt"))
    assert items == [{"Plays": N(6)}]
    code, _ = error_of(lambda: run(client, "UPDATE Music SET Plays = Plays + 1 WHERE Artist = ? AND SongTitle = ?",
                                   S("Saffron Radar"), S("Road Salt (Live)")))
    assert code == "ConditionalCheckFailedException"
    assert "Item" not in client.get_item(TableName=TABLE, Key={"Artist": S("Saffron Radar"),
                                                                "SongTitle": S("Road Salt (Live)")})


def test_delete_honours_its_condition(client):
    code, _ = error_of(lambda: run(client, "DELETE FROM Music WHERE Artist = ? AND SongTitle = ? AND Plays = ?",
                                   S("Saffron Radar"), S("Road Salt"), N(0)))
    assert code == "ConditionalCheckFailedException"
    old = run(client, "DELETE FROM Music WHERE Artist = ? AND SongTitle = ? AND Plays = ? RETURNING ALL OLD *",
              S("Saffron Radar"), S("Blue Static"), N(0))
    assert old[0]["SongTitle"] == S("Blue Static")
    left = client.query(TableName=TABLE, KeyConditionExpression="Artist = :a",
                        ExpressionAttributeValues={":a": S("Saffron Radar")})["Items"]
    assert sorted(i["SongTitle"]["S"] for i in left) == ["Blue Circuit", "Bluebird Junction", "Road Salt"]


def test_a_form_it_cannot_run_is_one_line_naming_moto_not_an_html_page(client):
    code, message = error_of(lambda: run(client, "SELECT Tags[0] FROM Music WHERE Artist = ?", S("Saffron Radar")))
    assert code == "InternalFailure"
    assert message.startswith("moto (the local DynamoDB emulator) cannot run this PartiQL form")
    assert "use the API calls" in message and "<" not in message and "\n" not in message


def test_a_moto_crash_is_json_not_html(client):
    # A filter comparing a number with a string: AWS finds no match and answers; moto 5.2.5 breaks
    client.put_item(TableName=TABLE, Item={"Artist": S("Crash"), "SongTitle": S("Test"), "Plays": {"N": "3"}})
    code, message = error_of(lambda: client.scan(TableName=TABLE, FilterExpression="Plays > :v",
                                                 ExpressionAttributeValues={":v": S("many")}))
    assert code == "InternalFailure" and "moto (the local DynamoDB emulator) failed on Scan" in message
    assert "<!doctype" not in message.lower()


def test_an_empty_string_key_is_refused_by_every_write_as_on_dynamodb(client):
    # moto 5.2.5 took these from UpdateItem and DeleteItem (UpdateItem stored the item)
    calls = {
        "UpdateItem": lambda: client.update_item(TableName=TABLE, Key={"Artist": S(""), "SongTitle": S("x")},
                                                 UpdateExpression="SET Plays = :p", ExpressionAttributeValues={":p": N(1)}),
        "DeleteItem": lambda: client.delete_item(TableName=TABLE, Key={"Artist": S("Other"), "SongTitle": S("")}),
        "PutItem": lambda: client.put_item(TableName=TABLE, Item={"Artist": S(""), "SongTitle": S("x")}),
        "PartiQL UPDATE": lambda: run(client, "UPDATE Music SET Plays = 1 WHERE Artist = ? AND SongTitle = ?",
                                      S(""), S("x")),
    }
    for what, call in calls.items():
        code, message = error_of(call)
        assert code == "ValidationException" and "empty string" in message and "Key: " in message, (what, message)
    assert client.scan(TableName=TABLE, FilterExpression="Artist = :a",
                       ExpressionAttributeValues={":a": S("")})["Items"] == []
    # an empty string is still fine outside the key
    client.update_item(TableName=TABLE, Key={"Artist": S("Other"), "SongTitle": S("Blue Moon")},
                       UpdateExpression="SET Note = :n", ExpressionAttributeValues={":n": S("")})


def _aws_cli():
    return shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")


@pytest.mark.skipif(not _aws_cli(), reason="the aws CLI is not installed (dev extra awscli)")
def test_aws_cli_as_a_learner_runs_the_lab_statements(client, endpoint, tmp_path):
    env = dict(os.environ, **dynamodb.exports(endpoint))

    def aws(*args):
        return subprocess.run([_aws_cli(), "dynamodb", *args, "--output", "json"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)

    inserted = aws("execute-statement", "--statement",
                   "INSERT INTO Music VALUE {'Artist': ?, 'SongTitle': ?, 'Plays': 0}",
                   "--parameters", json.dumps([S("Acme Band"), S("Harbour Lights")]))
    assert inserted.returncode == 0, inserted.stderr
    selected = aws("execute-statement", "--statement",
                   "SELECT SongTitle FROM Music WHERE Artist = ? AND begins_with(SongTitle, ?)",
                   "--parameters", json.dumps([S("Saffron Radar"), S("Blue")]))
    assert [i["SongTitle"]["S"] for i in json.loads(selected.stdout)["Items"]] == [
        "Blue Circuit", "Blue Static", "Bluebird Junction"]
    refused = aws("execute-statement", "--statement", "EXISTS(SELECT * FROM Music)")
    assert refused.returncode != 0
    said = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(said) == 1 and "(InternalFailure)" in said[0] and "moto (the local DynamoDB emulator)" in said[0]


def test_launcher_refuses_another_moto_version(monkeypatch):
    from labrunner.errors import RuntimeUnavailable

    monkeypatch.setattr(importlib.metadata, "version", lambda name: "5.2.6" if name == "moto" else "1")
    with pytest.raises(SystemExit) as info:
        moto_dynamodb.install()
    assert "patches moto 5.2.5" in str(info.value) and 'moto[dynamodb]==5.2.5' in str(info.value)
    with pytest.raises(RuntimeUnavailable) as why:
        dynamodb.SERVICE.local.find()
    assert "moto 5.2.6 is installed" in why.value.one_line() and "moto[dynamodb]==5.2.5" in why.value.one_line()


def test_local_runtime_starts_moto_through_the_launcher():
    argv = dynamodb.SERVICE.local.argv(4567, "/tmp/x")
    assert argv[1:3] == ["-m", "labrunner.services.moto_dynamodb"]


@pytest.mark.parametrize("statement, pinned", [
    ("SELECT SongTitle FROM Music WHERE Artist = ? AND begins_with(SongTitle, ?)", True),
    ('SELECT * FROM "Music" WHERE "Artist"=?', True),
    ("select * from Music where ? = Artist", True),
    ("SELECT * FROM Music", False),
    ("SELECT * FROM Music WHERE Artist = ? OR Artist = ?", False),
    ("SELECT * FROM Music WHERE begins_with(Artist, ?)", False),
    ("SELECT * FROM Music WHERE SongTitle = ?", False),
])
def test_pins_key_tells_a_query_from_a_scan(statement, pinned):
    assert moto_dynamodb.pins_key(statement, "Artist") is pinned


def test_reads_index():
    assert moto_dynamodb.reads_index('SELECT * FROM "Music"."GenreIndex" WHERE Genre = ?') == "GenreIndex"
    assert moto_dynamodb.reads_index("SELECT * FROM Music WHERE Artist = ?") == ""
