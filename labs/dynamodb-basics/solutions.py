"""Reference solutions for dynamodb-basics, one per step (what `labrunner solve` applies)."""

import json

TABLE = "Music"


def create_music_table(dynamodb):
    dynamodb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"},
                              {"AttributeName": "SongTitle", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"},
                   {"AttributeName": "SongTitle", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.get_waiter("table_exists").wait(TableName=TABLE, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def load_music(dynamodb_resource, lab_dir):
    table = dynamodb_resource.Table(TABLE)
    table.put_item(Item={"Artist": "Acme Band", "SongTitle": "Harbour Lights", "AlbumTitle": "Low Tide",
                         "Year": 2024, "Genre": "Folk", "Plays": 0})
    songs = json.loads((lab_dir / "workspace" / "music.json").read_text(encoding="utf-8"))
    with table.batch_writer() as batch:
        for song in songs:
            batch.put_item(Item=song)


def install_query_songs(workspace):
    workspace.install_solution("query_songs.py")


def install_record_play(workspace):
    workspace.install_solution("record_play.py")


def add_genre_index(dynamodb, workspace):
    dynamodb.update_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "Genre", "AttributeType": "S"},
                              {"AttributeName": "Year", "AttributeType": "N"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "GenreIndex",
            "KeySchema": [{"AttributeName": "Genre", "KeyType": "HASH"},
                          {"AttributeName": "Year", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }}],
    )
    wait_for_index(dynamodb, "GenreIndex")
    workspace.install_solution("genre_query.py")


def wait_for_index(dynamodb, name, seconds=60):
    import time

    for _ in range(seconds * 2):
        indexes = dynamodb.describe_table(TableName=TABLE)["Table"].get("GlobalSecondaryIndexes") or []
        if any(i["IndexName"] == name and i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes):
            return
        time.sleep(0.5)
    raise TimeoutError(f"index {name} did not become ACTIVE")


def install_remove_song(workspace):
    workspace.install_solution("remove_song.py")


def enable_ttl(dynamodb):
    dynamodb.update_time_to_live(TableName=TABLE,
                                 TimeToLiveSpecification={"Enabled": True, "AttributeName": "ExpiresAt"})
