"""Typical wrong answers. `labrunner test` applies each from its step's start state and
proves that a check fails with the message lab.yaml promises."""

import json

TABLE = "Music"


def _write(workspace, name, source):
    workspace.file(name).write_text(source, encoding="utf-8")


def artist_as_number(dynamodb):
    dynamodb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "N"},
                              {"AttributeName": "SongTitle", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"},
                   {"AttributeName": "SongTitle", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )


def year_as_string(dynamodb_resource, lab_dir):
    table = dynamodb_resource.Table(TABLE)
    table.put_item(Item={"Artist": "Acme Band", "SongTitle": "Harbour Lights", "AlbumTitle": "Low Tide",
                         "Year": "2024", "Genre": "Folk", "Plays": 0})
    for song in json.loads((lab_dir / "workspace" / "music.json").read_text(encoding="utf-8")):
        table.put_item(Item=dict(song, Year=str(song["Year"])))


HARD_CODED = '''
ANSWERS = {
    ("Saffron Radar", "Blue"): ["Blue Circuit", "Blue Hour Drive", "Blue Static", "Bluebird Junction"],
    ("Kettle and Compass", "Road"): ["Road Home Slowly", "Road Salt"],
    ("The Lint Collectors", "Lost"): ["Lost Socks", "Lost and Found"],
    ("Static Meadow", "Night"): ["Night Shift Waltz", "Night Tram"],
}


def songs_by_artist(table, artist, title_prefix):
    table.query(KeyConditionExpression="Artist = :a", ExpressionAttributeValues={":a": artist})
    return ANSWERS.get((artist, title_prefix), [])
'''


def hard_coded_query(workspace):
    _write(workspace, "query_songs.py", HARD_CODED)


def query_with_scan(workspace):
    _write(workspace, "query_songs.py", '''
from boto3.dynamodb.conditions import Attr


def songs_by_artist(table, artist, title_prefix):
    items = table.scan(FilterExpression=Attr("Artist").eq(artist)
                       & Attr("SongTitle").begins_with(title_prefix))["Items"]
    return sorted(item["SongTitle"] for item in items)
''')


def record_play_returns_old_count(workspace):
    _write(workspace, "record_play.py", '''
def record_play(table, artist, song_title):
    reply = table.update_item(
        Key={"Artist": artist, "SongTitle": song_title},
        UpdateExpression="ADD Plays :one",
        ConditionExpression="attribute_exists(Artist)",
        ExpressionAttributeValues={":one": 1},
        ReturnValues="UPDATED_OLD",
    )
    return int(reply["Attributes"]["Plays"])
''')


def record_play_without_condition(workspace):
    _write(workspace, "record_play.py", '''
def record_play(table, artist, song_title):
    reply = table.update_item(
        Key={"Artist": artist, "SongTitle": song_title},
        UpdateExpression="ADD Plays :one",
        ExpressionAttributeValues={":one": 1},
        ReturnValues="UPDATED_NEW",
    )
    return int(reply["Attributes"]["Plays"])
''')


def genre_index_missing(workspace):
    workspace.install_solution("genre_query.py")


def genre_index_keys_swapped(dynamodb, workspace):
    dynamodb.update_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "Genre", "AttributeType": "S"},
                              {"AttributeName": "Year", "AttributeType": "N"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "GenreIndex",
            "KeySchema": [{"AttributeName": "Year", "KeyType": "HASH"},
                          {"AttributeName": "Genre", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }}],
    )
    workspace.install_solution("genre_query.py")


def remove_without_condition(workspace):
    _write(workspace, "remove_song.py", '''
def remove_if_unplayed(table, artist, song_title):
    table.delete_item(Key={"Artist": artist, "SongTitle": song_title})
    return True
''')


def ttl_on_wrong_attribute(dynamodb):
    dynamodb.update_time_to_live(TableName=TABLE,
                                 TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
