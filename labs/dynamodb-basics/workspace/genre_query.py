"""Step 5: query a global secondary index.

Write songs_in_genre(table, genre, from_year): the SongTitle of every song in
`genre` with Year >= from_year, oldest first.

The table's key is Artist + SongTitle, so "Rock since 2010" cannot be a Query
on the table. GenreIndex (partition key Genre, sort key Year) can answer it:
pass IndexName="GenreIndex" to table.query, with the key condition
    Genre = :genre AND Year >= :from_year
Year is a DynamoDB reserved word: boto3's Key("Year") writes the #name
placeholder for you; in a hand-written expression use "#y" and
ExpressionAttributeNames={"#y": "Year"}.

Try it:  python genre_query.py   (after  eval "$(labrunner env)")
"""

from boto3.dynamodb.conditions import Key  # noqa: F401 (you will need it)


def songs_in_genre(table, genre, from_year):
    """Return the titles of songs in `genre` released in or after `from_year`.

    table     -- a boto3 DynamoDB Table resource (the Music table)
    genre     -- the index's partition key value, e.g. "Rock"
    from_year -- an int, e.g. 2010

    Returns a list of SongTitle strings in Year order, e.g.
    ["Static Cling", "Bluebird Junction", "Spin Cycle"] for ("Rock", 2010).
    """
    raise NotImplementedError(
        "songs_in_genre() is not written yet: write it in genre_query.py (step 5)"
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
    print(songs_in_genre(music, "Rock", 2010))
