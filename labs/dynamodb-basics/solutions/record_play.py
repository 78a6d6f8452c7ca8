"""Step 4: an atomic counter with a condition.

Write record_play(table, artist, song_title): add 1 to the song's Plays in a
single UpdateItem, and return the new value as an int.

- Let DynamoDB do the arithmetic: UpdateExpression "ADD Plays :one" (or
  "SET Plays = Plays + :one"). Reading Plays, adding 1 in Python and writing
  it back loses plays when two listeners press play at the same moment.
- Add ConditionExpression "attribute_exists(Artist)". Without it, UpdateItem
  on a key that does not exist quietly creates a new item. With it, DynamoDB
  raises ConditionalCheckFailedException instead; let that exception reach the
  caller.
- ReturnValues="UPDATED_NEW" sends back the new Plays (boto3 gives you a
  Decimal: convert it with int()).

Try it:  python record_play.py   (after  eval "$(labrunner env)")
"""


def record_play(table, artist, song_title):
    """Add one play to a song that exists; return its new Plays as an int.

    table      -- a boto3 DynamoDB Table resource (the Music table)
    artist     -- partition key value, e.g. "Kettle and Compass"
    song_title -- sort key value, e.g. "Road Salt"

    Raises botocore's ClientError with the code
    ConditionalCheckFailedException if there is no such song.
    """
    response = table.update_item(
        Key={"Artist": artist, "SongTitle": song_title},
        UpdateExpression="ADD Plays :one",
        ConditionExpression="attribute_exists(Artist)",
        ExpressionAttributeValues={":one": 1},
        ReturnValues="UPDATED_NEW",
    )
    return int(response["Attributes"]["Plays"])


if __name__ == "__main__":
    import os

    import boto3
    from botocore.exceptions import ClientError

    if not (
        os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
        or os.environ.get("AWS_ENDPOINT_URL")
    ):
        raise SystemExit(
            "No local endpoint is set, so this would talk to real AWS.\n"
            'Run  eval "$(labrunner env)"  first (PowerShell:'
            "  labrunner env --shell powershell | Invoke-Expression)."
        )
    music = boto3.resource("dynamodb").Table("Music")
    print(
        "Road Salt now has",
        record_play(music, "Kettle and Compass", "Road Salt"),
        "plays",
    )
    try:
        record_play(music, "Kettle and Compass", "Road Salt (Live)")
        print("Oops: a play was recorded for a song that does not exist")
    except ClientError as err:
        print("No such song:", err.response["Error"]["Code"])
