"""Step 2: load the Music dataset with boto3's batch writer.

Read this file before you run it: it is short, and each line is part of the
lesson.

    python load_music.py

It reads music.json (24 songs, beside this file) and writes every song to the
Music table. Run  eval "$(labrunner env)"  in this shell first: that sets the
local endpoint (AWS_ENDPOINT_URL_DYNAMODB), the Region and the stand-in's fake
credentials, which boto3 reads from the environment. On AWS you would leave
AWS_ENDPOINT_URL_DYNAMODB unset and boto3 would talk to the real service.

Running it twice is harmless: a put with the same key replaces the item (and
resets Plays to the value in music.json).
"""

import json
import os
from decimal import Decimal
from pathlib import Path

import boto3

DATASET = Path(__file__).resolve().parent / "music.json"


def load(table, path=DATASET):
    """Write every song in `path` to `table`; return how many were written."""
    # parse_float=Decimal: boto3's resource layer accepts int and Decimal for
    # DynamoDB numbers but refuses float (floats are not exact). music.json has
    # only ints, so this is a habit, not a fix.
    songs = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)

    # BatchWriteItem takes at most 25 puts/deletes per call. batch_writer()
    # buffers items, sends them 25 at a time, and re-sends whatever DynamoDB
    # hands back as UnprocessedItems (for example when a table is throttled).
    # Without it you would write that loop yourself.
    with table.batch_writer() as batch:
        for song in songs:
            # A plain dict: boto3 turns "Year": 2019 into {"N": "2019"} for you.
            batch.put_item(Item=song)
    return len(songs)


def count_items(table):
    """Count the items in `table` with a Scan (fine for 25 items, not 25 million)."""
    total, kwargs = 0, {"Select": "COUNT"}
    while True:
        page = table.scan(**kwargs)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


if __name__ == "__main__":
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
    written = load(music)
    print(f"Wrote {written} songs from {DATASET.name}.")
    print(f"The Music table now holds {count_items(music)} items.")
