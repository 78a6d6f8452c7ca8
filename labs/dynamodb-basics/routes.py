"""Correct answers the reference solution does not take. `labrunner test` starts each from its
step's start state, applies it, and requires every check of the step to pass.

Other clients (the boto3 resource, the low-level client, the aws CLI), PartiQL instead of the
expression API, and answers written differently that are still right (an optimistic lock that
reads first and retries) must all pass: the checks judge the engine and the requests made.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

TABLE = "Music"


def _write(workspace, name, source):
    workspace.file(name).write_text(source, encoding="utf-8")


def _aws(endpoints, workspace, *args):
    """Run the aws CLI as a learner would after `eval "$(labrunner env)"`, in the lab folder."""
    from labrunner.services import dynamodb

    program = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    if not program:
        raise RuntimeError("the aws CLI is not installed here (pip install awscli)")
    env = dict(os.environ, **dynamodb.exports(endpoints["dynamodb"]))
    subprocess.run([program, "dynamodb", *args, "--output", "json"], env=env, cwd=str(workspace.path),
                   check=True, capture_output=True, timeout=60)


# ---- step 1 -------------------------------------------------------------------

def create_with_aws_cli(endpoints, workspace):
    _aws(endpoints, workspace, "create-table", "--table-name", "Music",
         "--attribute-definitions", "AttributeName=Artist,AttributeType=S",
         "AttributeName=SongTitle,AttributeType=S",
         "--key-schema", "AttributeName=Artist,KeyType=HASH", "AttributeName=SongTitle,KeyType=RANGE",
         "--billing-mode", "PAY_PER_REQUEST")
    _aws(endpoints, workspace, "wait", "table-exists", "--table-name", "Music")


def create_with_resource(dynamodb_resource):
    table = dynamodb_resource.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "SongTitle", "AttributeType": "S"},
                              {"AttributeName": "Artist", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"},
                   {"AttributeName": "SongTitle", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST")
    table.wait_until_exists()


# ---- step 2 -------------------------------------------------------------------

def load_with_aws_cli(endpoints, workspace):
    _aws(endpoints, workspace, "put-item", "--table-name", "Music", "--item", json.dumps({
        "Artist": {"S": "Acme Band"}, "SongTitle": {"S": "Harbour Lights"}, "AlbumTitle": {"S": "Low Tide"},
        "Year": {"N": "2024"}, "Genre": {"S": "Folk"}, "Plays": {"N": "0"}}))
    _aws(endpoints, workspace, "batch-write-item", "--request-items", "file://music-batch.json")


def load_with_partiql_and_client(dynamodb, workspace):
    """A parameterised PartiQL INSERT for the one song; the CLI's batch file through the low-level client."""
    dynamodb.execute_statement(
        Statement="INSERT INTO \"Music\" VALUE {'Artist': ?, 'SongTitle': ?, 'AlbumTitle': ?, "
                  "'Year': ?, 'Genre': ?, 'Plays': ?}",
        Parameters=[{"S": "Acme Band"}, {"S": "Harbour Lights"}, {"S": "Low Tide"},
                    {"N": "2024"}, {"S": "Folk"}, {"N": "0"}])
    request = json.loads(workspace.file("music-batch.json").read_text(encoding="utf-8"))
    while request:
        request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


# ---- step 3 -------------------------------------------------------------------

def query_with_partiql(workspace):
    """The resource's own client takes and gives plain Python values, PartiQL included."""
    _write(workspace, "query_songs.py", '''
def songs_by_artist(table, artist, title_prefix):
    client = table.meta.client
    kwargs = {"Statement": f'SELECT SongTitle FROM "{table.name}" WHERE Artist = ? AND begins_with(SongTitle, ?)',
              "Parameters": [artist, title_prefix]}
    titles = []
    while True:
        page = client.execute_statement(**kwargs)
        titles += [item["SongTitle"] for item in page["Items"]]
        if "NextToken" not in page:
            return titles
        kwargs["NextToken"] = page["NextToken"]
''')


def query_with_client_paginator(workspace):
    _write(workspace, "query_songs.py", '''
import boto3


def songs_by_artist(table, artist, title_prefix):
    client = boto3.client("dynamodb")       # the endpoint, Region and keys come from labrunner env
    values = {":a": {"S": artist}}
    condition = "#a = :a"
    if title_prefix:
        condition += " AND begins_with(#t, :p)"
        values[":p"] = {"S": title_prefix}
    pages = client.get_paginator("query").paginate(
        TableName=table.name, KeyConditionExpression=condition, ExpressionAttributeValues=values,
        ExpressionAttributeNames={"#a": "Artist", **({"#t": "SongTitle"} if title_prefix else {})})
    return [item["SongTitle"]["S"] for page in pages for item in page["Items"]]
''')


def query_with_resource_client_expression(workspace):
    """The resource's own client with a hand-written key condition, a projection and a paging loop."""
    _write(workspace, "query_songs.py", '''
def songs_by_artist(table, artist, title_prefix):
    titles, more = [], {}
    while True:
        page = table.meta.client.query(
            TableName=table.name, KeyConditionExpression="Artist = :a AND begins_with(SongTitle, :p)",
            ExpressionAttributeValues={":a": artist, ":p": title_prefix}, ProjectionExpression="SongTitle", **more)
        titles += [item["SongTitle"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return titles
        more["ExclusiveStartKey"] = page["LastEvaluatedKey"]
''')


# ---- step 4 -------------------------------------------------------------------

def record_play_with_set(workspace):
    _write(workspace, "record_play.py", '''
def record_play(table, artist, song_title):
    reply = table.update_item(
        Key={"Artist": artist, "SongTitle": song_title},
        UpdateExpression="SET #p = #p + :one",
        ConditionExpression="attribute_exists(SongTitle)",
        ExpressionAttributeNames={"#p": "Plays"},
        ExpressionAttributeValues={":one": 1},
        ReturnValues="ALL_NEW")
    return int(reply["Attributes"]["Plays"])
''')


def record_play_with_partiql(workspace):
    """PartiQL's UPDATE refuses an item that is not there (ConditionalCheckFailedException) by itself."""
    _write(workspace, "record_play.py", '''
import boto3


def record_play(table, artist, song_title):
    reply = boto3.client("dynamodb").execute_statement(    # typed values: {"N": "1"}
        Statement=f'UPDATE "{table.name}" SET Plays = Plays + ? WHERE Artist = ? AND SongTitle = ? '
                  'RETURNING MODIFIED NEW *',
        Parameters=[{"N": "1"}, {"S": artist}, {"S": song_title}])
    return int(reply["Items"][0]["Plays"]["N"])
''')


def record_play_optimistic_lock(workspace):
    """Read, then write only if Plays is still what was read; try again if not. Slower, but no play is lost."""
    _write(workspace, "record_play.py", '''
from botocore.exceptions import ClientError


def record_play(table, artist, song_title):
    key = {"Artist": artist, "SongTitle": song_title}
    while True:
        item = table.get_item(Key=key, ConsistentRead=True).get("Item")
        if item is None:
            raise ClientError({"Error": {"Code": "ConditionalCheckFailedException",
                                         "Message": "The conditional request failed"}}, "UpdateItem")
        try:
            table.update_item(Key=key, UpdateExpression="SET Plays = :new",
                              ConditionExpression="Plays = :seen",
                              ExpressionAttributeValues={":new": item["Plays"] + 1, ":seen": item["Plays"]})
            return int(item["Plays"] + 1)
        except ClientError as err:
            if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
''')


# ---- step 5 -------------------------------------------------------------------

def genre_index_with_aws_cli_and_partiql(endpoints, workspace, dynamodb):
    _aws(endpoints, workspace, "update-table", "--table-name", "Music",
         "--attribute-definitions", "AttributeName=Genre,AttributeType=S", "AttributeName=Year,AttributeType=N",
         "--global-secondary-index-updates", json.dumps([{"Create": {
             "IndexName": "GenreIndex",
             "KeySchema": [{"AttributeName": "Genre", "KeyType": "HASH"},
                           {"AttributeName": "Year", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "ALL"}}}]))
    _wait_for_index(dynamodb)
    _write(workspace, "genre_query.py", '''
def songs_in_genre(table, genre, from_year):
    client = table.meta.client
    kwargs = {"Statement": f'SELECT SongTitle FROM "{table.name}"."GenreIndex" WHERE Genre = ? AND "Year" >= ?',
              "Parameters": [genre, from_year]}
    titles = []
    while True:
        page = client.execute_statement(**kwargs)
        titles += [item["SongTitle"] for item in page["Items"]]
        if "NextToken" not in page:
            return titles
        kwargs["NextToken"] = page["NextToken"]
''')


def _wait_for_index(dynamodb):
    import time

    for _ in range(120):
        indexes = dynamodb.describe_table(TableName=TABLE)["Table"].get("GlobalSecondaryIndexes") or []
        if any(i["IndexName"] == "GenreIndex" and i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes):
            return
        time.sleep(0.5)
    raise TimeoutError("GenreIndex did not become ACTIVE")


def genre_index_with_client_hand_written(dynamodb, workspace):
    dynamodb.update_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "Year", "AttributeType": "N"},
                              {"AttributeName": "Genre", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "GenreIndex",
            "KeySchema": [{"AttributeName": "Genre", "KeyType": "HASH"},
                          {"AttributeName": "Year", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}}])
    _wait_for_index(dynamodb)
    _write(workspace, "genre_query.py", '''
def songs_in_genre(table, genre, from_year):
    kwargs = {"IndexName": "GenreIndex",
              "KeyConditionExpression": "Genre = :g AND #y >= :from",
              "ExpressionAttributeNames": {"#y": "Year"},
              "ExpressionAttributeValues": {":g": genre, ":from": from_year}}
    titles = []
    while True:
        page = table.query(**kwargs)
        titles += [item["SongTitle"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return titles
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
''')


def genre_index_keys_only_with_between(dynamodb, workspace):
    """A KEYS_ONLY index (cheaper; SongTitle is a table key, so it is projected anyway) and a BETWEEN query
    through a low-level client of the learner's own."""
    dynamodb.update_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "Genre", "AttributeType": "S"},
                              {"AttributeName": "Year", "AttributeType": "N"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "GenreIndex",
            "KeySchema": [{"AttributeName": "Genre", "KeyType": "HASH"},
                          {"AttributeName": "Year", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}}])
    _wait_for_index(dynamodb)
    _write(workspace, "genre_query.py", '''
import boto3


def songs_in_genre(table, genre, from_year):
    pages = boto3.client("dynamodb").get_paginator("query").paginate(
        TableName=table.name, IndexName="GenreIndex",
        KeyConditionExpression="Genre = :g AND #y BETWEEN :from AND :to", ExpressionAttributeNames={"#y": "Year"},
        ExpressionAttributeValues={":g": {"S": genre}, ":from": {"N": str(from_year)}, ":to": {"N": "9999"}})
    return [item["SongTitle"]["S"] for page in pages for item in page["Items"]]
''')


# ---- step 6 -------------------------------------------------------------------

def remove_with_partiql(workspace):
    _write(workspace, "remove_song.py", '''
from botocore.exceptions import ClientError


def remove_if_unplayed(table, artist, song_title):
    try:
        table.meta.client.execute_statement(
            Statement=f'DELETE FROM "{table.name}" WHERE Artist = ? AND SongTitle = ? AND Plays = ?',
            Parameters=[artist, song_title, 0])
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True
''')


def remove_read_then_conditional_delete(workspace):
    """Reads first (to skip a request when Plays is clearly not 0), but the delete still carries the rule."""
    _write(workspace, "remove_song.py", '''
from botocore.exceptions import ClientError


def remove_if_unplayed(table, artist, song_title):
    key = {"Artist": artist, "SongTitle": song_title}
    item = table.get_item(Key=key).get("Item")
    if item is None or item.get("Plays") != 0:
        return False
    try:
        table.delete_item(Key=key, ConditionExpression="Plays = :zero",
                          ExpressionAttributeValues={":zero": 0})
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True
''')


def remove_with_client_return_values(workspace):
    _write(workspace, "remove_song.py", '''
import boto3


def remove_if_unplayed(table, artist, song_title):
    client = boto3.client("dynamodb")
    try:
        reply = client.delete_item(
            TableName=table.name, Key={"Artist": {"S": artist}, "SongTitle": {"S": song_title}},
            ConditionExpression="attribute_exists(Plays) AND Plays = :zero",
            ExpressionAttributeValues={":zero": {"N": "0"}}, ReturnValues="ALL_OLD")
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return "Attributes" in reply
''')


def remove_with_condition_object(workspace):
    """boto3's Attr condition and the client's own exception class, instead of a string and error codes."""
    _write(workspace, "remove_song.py", '''
from boto3.dynamodb.conditions import Attr


def remove_if_unplayed(table, artist, song_title):
    try:
        table.delete_item(Key={"Artist": artist, "SongTitle": song_title}, ConditionExpression=Attr("Plays").eq(0))
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return False
    return True
''')


# ---- step 7 -------------------------------------------------------------------

def ttl_with_aws_cli(endpoints, workspace):
    _aws(endpoints, workspace, "update-time-to-live", "--table-name", "Music",
         "--time-to-live-specification", "Enabled=true,AttributeName=ExpiresAt")


def ttl_with_resource_client(dynamodb_resource):
    dynamodb_resource.meta.client.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ExpiresAt"})
