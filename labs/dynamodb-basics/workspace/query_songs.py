"""Step 3: query by key.

Write songs_by_artist(table, artist, title_prefix): the SongTitle of every
song by `artist` whose title starts with `title_prefix`, in sort-key order.

Use Query, not Scan. A Query with the key condition
    Artist = :artist AND begins_with(SongTitle, :prefix)
goes straight to one artist's items, already sorted by SongTitle. A Scan
reads every item in the table and only then throws most of them away.

Try it:  python query_songs.py   (after  eval "$(labrunner env)")
"""

from boto3.dynamodb.conditions import Key  # noqa: F401 (you will need it)


def songs_by_artist(table, artist, title_prefix):
    """Return the titles of `artist`'s songs that start with `title_prefix`.

    table        -- a boto3 DynamoDB Table resource (the Music table)
    artist       -- the partition key value, e.g. "Saffron Radar"
    title_prefix -- the start of the sort key, e.g. "Blue" (case-sensitive)

    Returns a list of SongTitle strings in sort-key order, e.g.
    ["Blue Circuit", "Blue Hour Drive", "Blue Static", "Bluebird Junction"].
    """
    raise NotImplementedError(
        "songs_by_artist() is not written yet: write it in query_songs.py (step 3)"
    )


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
    print(songs_by_artist(music, "Saffron Radar", "Blue"))
