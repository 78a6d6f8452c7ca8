"""Step 6: a conditional delete.

Write remove_if_unplayed(table, artist, song_title): delete the song only if
its Plays is 0. Return True if it was deleted, False if it was kept.

Put the rule in the request, not in a get-then-delete: pass
ConditionExpression="Plays = :zero" to table.delete_item, so DynamoDB checks
and deletes in one step. When the condition is false DynamoDB deletes nothing
and raises ConditionalCheckFailedException: catch that one error (and only
that one) and return False. A song that does not exist has no Plays, so the
condition is false for it too.

Try it:  python remove_song.py   (after  eval "$(labrunner env)")
"""

from botocore.exceptions import ClientError


def remove_if_unplayed(table, artist, song_title):
    """Delete a song if nobody has played it; say whether it was deleted.

    table      -- a boto3 DynamoDB Table resource (the Music table)
    artist     -- partition key value, e.g. "The Lint Collectors"
    song_title -- sort key value, e.g. "Lost Socks"

    Returns True if the item was deleted, False if the condition failed.
    """
    try:
        table.delete_item(
            Key={"Artist": artist, "SongTitle": song_title},
            ConditionExpression="Plays = :zero",
            ExpressionAttributeValues={":zero": 0},
        )
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise  # anything else (wrong table name, no connection) is a real error
    return True


if __name__ == "__main__":
    import os

    import boto3

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
    # A played song from music.json: kept.
    print(
        "Lost Socks deleted?",
        remove_if_unplayed(music, "The Lint Collectors", "Lost Socks"),
    )
    # A scratch song with no plays, made just for this demo: deleted.
    music.put_item(Item={"Artist": "Acme Band", "SongTitle": "Demo Take 1", "Plays": 0})
    print("Demo Take 1 deleted?", remove_if_unplayed(music, "Acme Band", "Demo Take 1"))
