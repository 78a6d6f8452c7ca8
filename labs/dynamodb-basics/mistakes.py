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


def record_play_reads_the_count_back(workspace):
    """The atomic update, then a GetItem for the new count: it counts a play made in between too."""
    _write(workspace, "record_play.py", '''
def record_play(table, artist, song_title):
    key = {"Artist": artist, "SongTitle": song_title}
    table.update_item(Key=key, UpdateExpression="ADD Plays :one", ConditionExpression="attribute_exists(Artist)",
                      ExpressionAttributeValues={":one": 1})
    return int(table.get_item(Key=key, ConsistentRead=True)["Item"]["Plays"])
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


# ---- more typical wrong answers, one per fault a learner really makes ----------

def provisioned_capacity(dynamodb):
    dynamodb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"},
                              {"AttributeName": "SongTitle", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"},
                   {"AttributeName": "SongTitle", "KeyType": "RANGE"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )


def keys_swapped(dynamodb):
    dynamodb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"},
                              {"AttributeName": "SongTitle", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "SongTitle", "KeyType": "HASH"},
                   {"AttributeName": "Artist", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )


def batch_only(dynamodb_resource, lab_dir):
    """Ran load_music.py but never put Harbour Lights."""
    with dynamodb_resource.Table(TABLE).batch_writer() as batch:
        for song in json.loads((lab_dir / "workspace" / "music.json").read_text(encoding="utf-8")):
            batch.put_item(Item=song)


def single_song_only(dynamodb_resource):
    dynamodb_resource.Table(TABLE).put_item(Item={
        "Artist": "Acme Band", "SongTitle": "Harbour Lights", "AlbumTitle": "Low Tide",
        "Year": 2024, "Genre": "Folk", "Plays": 0})


def query_reversed(workspace):
    workspace.install_variant("query_songs.py", "query_songs.py", {
        '"ProjectionExpression": "SongTitle",': '"ProjectionExpression": "SongTitle", "ScanIndexForward": False,'})


def query_ignores_prefix(workspace):
    workspace.install_variant("query_songs.py", "query_songs.py", {
        "    if title_prefix:  # DynamoDB refuses an empty string in a key condition\n"
        "        condition = condition & Key(\"SongTitle\").begins_with(title_prefix)\n": ""})


def partiql_select_all(workspace):
    """PartiQL with no key in the WHERE: right answers, but a full-table Scan."""
    _write(workspace, "query_songs.py", '''
def songs_by_artist(table, artist, title_prefix):
    client = table.meta.client
    items, kwargs = [], {"Statement": 'SELECT Artist, SongTitle FROM "Music"'}
    while True:
        page = client.execute_statement(**kwargs)
        items.extend(page["Items"])
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    # table.meta.client is the resource's client: it hands back plain Python values
    return sorted(i["SongTitle"] for i in items if i["Artist"] == artist and i["SongTitle"].startswith(title_prefix))
''')


def query_returns_items(workspace):
    """Returns the items the Query gave back, not their titles."""
    _write(workspace, "query_songs.py", '''
from boto3.dynamodb.conditions import Key


def songs_by_artist(table, artist, title_prefix):
    return table.query(KeyConditionExpression=Key("Artist").eq(artist)
                       & Key("SongTitle").begins_with(title_prefix))["Items"]
''')


def query_ignores_case(workspace):
    """Queries the artist and compares titles case-blind in Python: begins_with is case-sensitive."""
    _write(workspace, "query_songs.py", '''
from boto3.dynamodb.conditions import Key


def songs_by_artist(table, artist, title_prefix):
    items = table.query(KeyConditionExpression=Key("Artist").eq(artist))["Items"]
    return [i["SongTitle"] for i in items if i["SongTitle"].lower().startswith(title_prefix.lower())]
''')


def record_play_read_modify_write(workspace):
    """Read Plays, add 1 in Python, write it back with a condition: the race step 4 warns of."""
    _write(workspace, "record_play.py", '''
def record_play(table, artist, song_title):
    key = {"Artist": artist, "SongTitle": song_title}
    item = table.get_item(Key=key, ConsistentRead=True).get("Item")
    plays = int(item["Plays"]) + 1 if item else 1
    table.update_item(Key=key, UpdateExpression="SET Plays = :plays",
                      ConditionExpression="attribute_exists(Artist)",
                      ExpressionAttributeValues={":plays": plays})
    return plays
''')


def record_play_put_whole_item(workspace):
    """Read the item, change Plays, put the whole item back."""
    _write(workspace, "record_play.py", '''
from botocore.exceptions import ClientError


def record_play(table, artist, song_title):
    item = table.get_item(Key={"Artist": artist, "SongTitle": song_title}).get("Item")
    if item is None:
        raise ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "no such song"}},
                          "UpdateItem")
    item["Plays"] += 1
    table.put_item(Item=item)
    return int(item["Plays"])
''')


def record_play_set_without_condition(workspace):
    workspace.install_variant("record_play.py", "record_play.py", {
        'UpdateExpression="ADD Plays :one",\n        ConditionExpression="attribute_exists(Artist)",':
        'UpdateExpression="SET Plays = Plays + :one",'})


def genre_query_with_scan(dynamodb, workspace, lab):
    lab.modules["solutions"].add_genre_index(dynamodb, workspace)
    _write(workspace, "genre_query.py", '''
from boto3.dynamodb.conditions import Attr


def songs_in_genre(table, genre, from_year):
    items = table.scan(FilterExpression=Attr("Genre").eq(genre) & Attr("Year").gte(from_year))["Items"]
    return [i["SongTitle"] for i in sorted(items, key=lambda i: i["Year"])]
''')


def remove_get_then_delete(workspace):
    """Look at Plays, then delete without a condition: the race step 6 warns of."""
    _write(workspace, "remove_song.py", '''
def remove_if_unplayed(table, artist, song_title):
    key = {"Artist": artist, "SongTitle": song_title}
    item = table.get_item(Key=key, ConsistentRead=True).get("Item")
    if item is None or item.get("Plays") != 0:
        return False
    table.delete_item(Key=key)
    return True
''')


def remove_lets_error_escape(workspace):
    """The conditional delete, but ConditionalCheckFailedException is not caught."""
    _write(workspace, "remove_song.py", '''
def remove_if_unplayed(table, artist, song_title):
    table.delete_item(Key={"Artist": artist, "SongTitle": song_title},
                      ConditionExpression="Plays = :zero", ExpressionAttributeValues={":zero": 0})
    return True
''')


def remove_missing_counts_as_unplayed(workspace):
    """'No Plays attribute' taken as unplayed: a delete of a song that is not there reports True."""
    _write(workspace, "remove_song.py", '''
def remove_if_unplayed(table, artist, song_title):
    try:
        table.delete_item(Key={"Artist": artist, "SongTitle": song_title},
                          ConditionExpression="attribute_not_exists(Plays) OR Plays = :zero",
                          ExpressionAttributeValues={":zero": 0})
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return False
    return True
''')


def ttl_never_enabled(dynamodb_resource):
    """Wrote items with ExpiresAt, but never turned Time to Live on."""
    import time

    dynamodb_resource.Table(TABLE).put_item(Item={"Artist": "Acme Band", "SongTitle": "Tour Teaser",
                                                  "ExpiresAt": int(time.time()) + 3600})


def genre_partiql_scans_index(dynamodb, workspace, lab):
    """PartiQL on the index, but with no Genre in the WHERE: right answers from a Scan of the index."""
    lab.modules["solutions"].add_genre_index(dynamodb, workspace)
    _write(workspace, "genre_query.py", '''
def songs_in_genre(table, genre, from_year):
    page = table.meta.client.execute_statement(Statement='SELECT SongTitle, Genre, "Year" FROM "Music"."GenreIndex"')
    songs = [i for i in page["Items"] if i["Genre"] == genre and i["Year"] >= from_year]
    return [i["SongTitle"] for i in sorted(songs, key=lambda i: i["Year"])]
''')
