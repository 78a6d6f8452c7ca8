"""Checks for dynamodb-basics. Each reads the live engine; none reads the learner's text.

Fixtures: dynamodb (boto3 client), dynamodb_resource, answer (runs a function
from the learner's workspace in a child process), lab_dir.

Where a step teaches how (Query not Scan, an atomic counter, a conditional delete), the
checks also watch the requests the learner's function made (the _probe_ functions at the
end of this file, run in the answer runner's child): the PartiQL statements it ran, and
what happens when another listener plays the song between its read and its write.
"""

import importlib.util
import json
import os
import secrets
from decimal import Decimal

from labrunner.checks import expect, fail

TABLE = "Music"
SINGLE_SONG = {"Artist": "Acme Band", "SongTitle": "Harbour Lights", "AlbumTitle": "Low Tide",
               "Year": 2024, "Genre": "Folk", "Plays": 0}
TYPE_WORDS = {"S": "string", "N": "number", "B": "binary"}


# ---- helpers -------------------------------------------------------------

def _describe(dynamodb):
    try:
        return dynamodb.describe_table(TableName=TABLE)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        fail("there is no table named 'Music' yet — step 1 creates it")


def _table(dynamodb_resource):
    _describe(dynamodb_resource.meta.client)
    return dynamodb_resource.Table(TABLE)


def _all_items(table):
    items, kwargs = [], {}
    while True:
        page = table.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _dataset(lab_dir):
    return json.loads((lab_dir / "workspace" / "music.json").read_text(encoding="utf-8"))


def _mismatch(item, expected):
    """First difference between a stored item and the song it should be, in words; or None."""
    title = expected["SongTitle"]
    for attr, want in expected.items():
        if attr not in item:
            return f"'{title}' has no attribute {attr}"
        got = item[attr]
        if isinstance(want, int) and not isinstance(got, Decimal):
            return (f"{attr} of '{title}' is the string {got!r}; expected the number {want} "
                    f"(in DynamoDB JSON: {{\"N\": \"{want}\"}}, not {{\"S\": ...}})")
        if isinstance(want, str) and not isinstance(got, str):
            return f"{attr} of '{title}' is {got!r}; expected the string {want!r}"
        if got != want:
            return f"{attr} of '{title}' is {got!r}; expected {want!r}"
    return None


def _check_artist():
    return f"Check Artist {secrets.token_hex(3)}"


def _seed(table, items):
    with table.batch_writer() as batch:
        for item in items:
            batch.put_item(Item=item)


def _unseed(table, items):
    with table.batch_writer() as batch:
        for item in items:
            batch.delete_item(Key={"Artist": item["Artist"], "SongTitle": item["SongTitle"]})


def _value(result):
    """The learner's return value, or fail with the runner's one line. An HTML error page from
    an emulator (moto answers some requests it cannot run with HTTP 500) is told in one line."""
    if not result.ok and "<!doctype html" in result.error_message.lower():
        fail(f"{result.describe_call()} in {result.file}: the DynamoDB stand-in answered with an HTTP 500 "
             "error page, an emulator's internal error, not your mistake — moto cannot run that request "
             "(often a PartiQL form); write it with query, put_item, update_item or delete_item instead")
    return result.value_or_fail()


# ---- step 1: create-table --------------------------------------------------

def music_table_exists(dynamodb):
    names = dynamodb.list_tables()["TableNames"]
    if TABLE in names:
        return
    close = [n for n in names if n.lower() == TABLE.lower()]
    if close:
        fail(f"found a table '{close[0]}' but not 'Music' — table names are case-sensitive")
    fail(f"no table named 'Music' yet; found {', '.join(names) if names else 'no tables at all'}")


def music_keys_are_artist_and_songtitle(dynamodb):
    table = _describe(dynamodb)
    keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    expect(keys.get("HASH") == "Artist", f"Music's partition key is '{keys.get('HASH')}'; expected 'Artist'")
    expect("RANGE" in keys, "Music has no sort key; expected 'SongTitle' as its sort (RANGE) key")
    expect(keys["RANGE"] == "SongTitle", f"Music's sort key is '{keys['RANGE']}'; expected 'SongTitle'")
    for role, name in (("partition", "Artist"), ("sort", "SongTitle")):
        kind = types.get(name)
        expect(kind == "S", f"Music's {role} key '{name}' has type {kind} ({TYPE_WORDS.get(kind, kind)}); "
                            "expected S (string) — a table's keys cannot change: delete it and create it again")


def music_is_on_demand(dynamodb):
    table = _describe(dynamodb)
    mode = (table.get("BillingModeSummary") or {}).get("BillingMode")
    if mode:
        expect(mode == "PAY_PER_REQUEST", f"Music uses {mode} capacity; expected on-demand (PAY_PER_REQUEST)")
        return None
    throughput = table.get("ProvisionedThroughput") or {}
    reads, writes = throughput.get("ReadCapacityUnits", 0), throughput.get("WriteCapacityUnits", 0)
    expect(not reads and not writes,
           f"Music has provisioned capacity ({reads} reads, {writes} writes per second); "
           "expected on-demand: --billing-mode PAY_PER_REQUEST")
    return "this engine does not report a billing mode; judged by its provisioned capacity being zero"


# ---- step 2: load-items -----------------------------------------------------

def single_song_added(dynamodb_resource):
    table = _table(dynamodb_resource)
    key = {"Artist": SINGLE_SONG["Artist"], "SongTitle": SINGLE_SONG["SongTitle"]}
    item = table.get_item(Key=key, ConsistentRead=True).get("Item")
    expect(item, "the song 'Harbour Lights' by 'Acme Band' is not in Music yet (keys are case-sensitive)")
    problem = _mismatch(item, SINGLE_SONG)
    expect(problem is None, problem or "")


def dataset_loaded(dynamodb_resource, lab_dir):
    table = _table(dynamodb_resource)
    stored = {(i["Artist"], i["SongTitle"]): i for i in _all_items(table)}
    songs = _dataset(lab_dir)
    missing = [s for s in songs if (s["Artist"], s["SongTitle"]) not in stored]
    if missing:
        first = missing[0]
        fail(f"{len(missing)} of the {len(songs)} songs in music.json are not in Music yet, "
             f"e.g. '{first['SongTitle']}' by '{first['Artist']}'")
    for song in songs:
        problem = _mismatch(stored[(song["Artist"], song["SongTitle"])], song)
        expect(problem is None, problem or "")


# ---- step 3: query-by-key ----------------------------------------------------

def _expected_titles(items, artist, prefix):
    return sorted(i["SongTitle"] for i in items if i["Artist"] == artist and i["SongTitle"].startswith(prefix))


def songs_by_artist_matches_data(answer, dynamodb_resource):
    table = _table(dynamodb_resource)
    artist = _check_artist()
    seeded = [{"Artist": artist, "SongTitle": title, "Year": 2000 + n, "Plays": n}
              for n, title in enumerate(["Ridge Line", "Ridgeback", "River Glass", "Ridge Walk", "Quarry",
                                         "ridge demo"])]   # begins_with is case-sensitive: not a 'Ridge' song
    cases = [(artist, "Ridge"), ("Saffron Radar", "Blue"), ("Kettle and Compass", "Road"),
             ("The Lint Collectors", "Lost"), ("Static Meadow", "Night"), ("Mothwing Choir", "Zz")]
    _seed(table, seeded)
    try:
        items = _all_items(table)
        results = answer.call_many("query_songs.py", "songs_by_artist", cases, table=TABLE)
    finally:
        _unseed(table, seeded)
    for (who, prefix), result in zip(cases, results):
        got = _value(result)
        want = _expected_titles(items, who, prefix)
        call = f"songs_by_artist(table, {who!r}, {prefix!r})"
        if got == want:
            continue
        expect(isinstance(got, list), f"{call} returned {got!r}; expected a list of SongTitle strings: {want!r}")
        not_text = [t for t in got if not isinstance(t, str)]
        if not_text:
            fail(f"{call} returned a list holding {not_text[0]!r}; expected SongTitle strings only: {want!r} — "
                 "take item['SongTitle'] from each item of the response")
        if sorted(got, key=str) == want:
            order = "reverse sort-key order" if got == want[::-1] else "an order of its own"
            fail(f"{call} returned the right songs in {order}: {got!r}; expected them as DynamoDB gives them, "
                 f"in sort-key order: {want!r} — drop ScanIndexForward=False and any sorting of your own")
        off_prefix = [t for t in got if isinstance(t, str) and not t.startswith(prefix)]
        if off_prefix:
            fail(f"{call} returned {off_prefix[0]!r}, which does not start with {prefix!r} (case counts) — add "
                 "begins_with(SongTitle, :prefix) to the key condition (full result: "
                 f"{got!r}; expected {want!r})")
        note = ""
        if who == artist and not set(got) & {item["SongTitle"] for item in seeded}:
            note = (" — that artist was added by the check just now, so the answer must come from the table your "
                    "function is given (its `table` argument), not from a list in your code or another table")
        fail(f"{call} returned {got!r}; expected {want!r}{note}")


def _probe(lab_dir):
    return str(lab_dir / "checks.py")      # its _probe_ functions run in the answer runner's child


def _watched(answer, lab_dir, file, function, *args):
    """The learner's function run through probe.requests_of: (outcome dict, requests)."""
    result = answer.call(_probe(lab_dir), "_probe_requests_of", file, function, *args, table=TABLE)
    outcome = _value(result)
    return outcome, outcome.get("requests", [])


def _full_scans(requests, key):
    """PartiQL SELECTs among the requests that do not pin `key` with '=' in their WHERE."""
    from labrunner.services.moto_dynamodb import pins_key

    return [statement for operation, statement, _ in requests
            if operation == "ExecuteStatement" and statement.lstrip().upper().startswith("SELECT")
            and not pins_key(statement, key)]


def _fail_raised(call, file, raised):
    if raised["type"] == "NotImplementedError":
        fail(f"{call.split('(')[0]}() in {file} is not written yet (it still raises NotImplementedError)")
    if "<!doctype html" in raised["message"].lower():
        fail(f"{call} in {file}: the DynamoDB stand-in answered with an HTTP 500 error page, an emulator's "
             "internal error, not your mistake — moto cannot run that request (often a PartiQL form); write "
             "it with query, put_item, update_item or delete_item instead")
    where = f" at {raised['where']}" if raised["where"] else ""
    fail(f"{call} raised {raised['type']}{where}: {raised['message']}")


def songs_by_artist_uses_query(answer, lab_dir):
    outcome, requests = _watched(answer, lab_dir, "query_songs.py", "songs_by_artist", "Saffron Radar", "Blue")
    if "raised" in outcome:
        _fail_raised("songs_by_artist(table, 'Saffron Radar', 'Blue')", "query_songs.py", outcome["raised"])
    operations = [operation for operation, _, _ in requests]
    expect("Scan" not in operations,
           "songs_by_artist used Scan, which reads every item of the table; "
           "use table.query(KeyConditionExpression=...) so DynamoDB reads one artist's items only")
    scans = _full_scans(requests, "Artist")
    expect(not scans, f"songs_by_artist ran the PartiQL statement {scans[0] if scans else ''!r}, whose WHERE "
                      "does not pin the partition key: DynamoDB runs it as a full-table Scan; write "
                      "WHERE Artist = ? AND begins_with(SongTitle, ?) so it runs as a Query")
    expect("Query" in operations or "ExecuteStatement" in operations,
           f"songs_by_artist made no Query call (calls made: {', '.join(operations) or 'none'})")


# ---- step 4: update-plays ------------------------------------------------------

def record_play_adds_one(answer, dynamodb_resource):
    table = _table(dynamodb_resource)
    song = {"Artist": _check_artist(), "SongTitle": "Counter Test", "Plays": 41, "Genre": "Test", "Year": 2001}
    _seed(table, [song])
    key = {"Artist": song["Artist"], "SongTitle": song["SongTitle"]}
    try:
        first, second = answer.call_many("record_play.py", "record_play",
                                          [(song["Artist"], "Counter Test")] * 2, table=TABLE)
        _value(first)
        _value(second)
        stored = table.get_item(Key=key, ConsistentRead=True).get("Item", {}).get("Plays")
    finally:
        _unseed(table, [song])
    expect(stored == 43, f"after two calls of record_play on a song with 41 plays, Plays is {stored}; "
                         "expected 43 (41 + 1 + 1)")
    expect(second.value == 43, f"record_play returned {second.value!r} on the second call; expected the new "
                               "count, 43 — ask for ReturnValues='UPDATED_NEW'")


def record_play_refuses_missing_song(answer, dynamodb_resource):
    table = _table(dynamodb_resource)
    key = {"Artist": _check_artist(), "SongTitle": "No Such Song"}
    result = answer.call("record_play.py", "record_play", key["Artist"], key["SongTitle"], table=TABLE)
    created = table.get_item(Key=key, ConsistentRead=True).get("Item")
    if created:
        table.delete_item(Key=key)
        fail("record_play created a new item for a song that does not exist; add "
             "ConditionExpression='attribute_exists(Artist)' so DynamoDB refuses the update")
    if result.error_type == "ConditionalCheckFailedException":
        return
    if result.ok:
        fail(f"record_play returned {result.value!r} for a song that does not exist; "
             "expected it to raise ConditionalCheckFailedException")
    if result.error_type == "ValidationException":
        said = result.error_message.split(" operation: ", 1)[-1]
        fail(f"record_play raised ValidationException for a song that does not exist ({said}); "
             "the update has no condition, so DynamoDB tried to add to a Plays that is not there — add "
             "ConditionExpression='attribute_exists(Artist)' so it refuses with ConditionalCheckFailedException")
    _value(result)


def _reads(requests):
    return [operation for operation, statement, _ in requests
            if operation in ("GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems")
            or (operation == "ExecuteStatement" and statement.lstrip().upper().startswith("SELECT"))]


def _writes(requests):
    return [operation for operation, statement, _ in requests
            if operation in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
            or (operation == "ExecuteStatement" and not statement.lstrip().upper().startswith("SELECT"))]


def _race(answer, lab_dir, file, function, song, when="read"):
    result = answer.call(_probe(lab_dir), "_probe_race", file, function, song["Artist"], song["SongTitle"], when,
                         table=TABLE)
    return _value(result)


def record_play_is_atomic(answer, dynamodb_resource, lab_dir):
    table = _table(dynamodb_resource)
    song = {"Artist": _check_artist(), "SongTitle": "Race Test", "Plays": 41, "Genre": "Test", "Year": 2003}
    _seed(table, [song])
    try:
        outcome = _race(answer, lab_dir, "record_play.py", "record_play", song)
        stored = table.get_item(Key={"Artist": song["Artist"], "SongTitle": song["SongTitle"]},
                                ConsistentRead=True).get("Item", {}).get("Plays")
    finally:
        _unseed(table, [song])
    if "raised" in outcome:
        _fail_raised(f"record_play(table, {song['Artist']!r}, 'Race Test')", "record_play.py", outcome["raised"])
    if not outcome["raced_after"] or stored == 43:
        return
    reads, writes = _reads(outcome["requests"]), _writes(outcome["requests"])
    fail(f"record_play read the song first ({reads[0] if reads else outcome['raced_after']}) and then wrote "
         f"Plays itself ({writes[0] if writes else 'no write'}): another listener's play, recorded between the "
         f"two, was lost — Plays is {stored}, expected 43 (41 + theirs + yours). Let DynamoDB do the "
         "arithmetic in one request: UpdateExpression='ADD Plays :one', with no read before it")


def record_play_returns_its_own_count(answer, dynamodb_resource, lab_dir):
    table = _table(dynamodb_resource)
    song = {"Artist": _check_artist(), "SongTitle": "Count Test", "Plays": 41, "Genre": "Test", "Year": 2005}
    _seed(table, [song])
    try:
        outcome = _race(answer, lab_dir, "record_play.py", "record_play", song, when="write")
    finally:
        _unseed(table, [song])
    if "raised" in outcome:
        _fail_raised(f"record_play(table, {song['Artist']!r}, 'Count Test')", "record_play.py", outcome["raised"])
    if not outcome["raced_after"]:
        return
    value = outcome.get("value")
    expect(value == 42,
           f"record_play returned {value!r} on a song with 41 plays; expected 42, the count its own update made "
           "— another listener played the song right after your update, and a read after the update counts that "
           "play too. Take the new count from the update itself: ReturnValues='UPDATED_NEW'")


# ---- step 5: genre-index -----------------------------------------------------

def _genre_index(dynamodb):
    table = _describe(dynamodb)
    indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes") or []}
    if "GenreIndex" not in indexes:
        found = ", ".join(indexes) or "no global secondary indexes"
        fail(f"Music has no index 'GenreIndex'; found {found}")
    return table, indexes["GenreIndex"]


def genre_index_exists(dynamodb):
    _, index = _genre_index(dynamodb)
    status = index.get("IndexStatus", "ACTIVE")
    expect(status == "ACTIVE", f"GenreIndex is {status}; check again in a moment, when it is ACTIVE")


def genre_index_has_genre_and_year_keys(dynamodb):
    table, index = _genre_index(dynamodb)
    keys = {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]}
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    expect(keys.get("HASH") == "Genre", f"GenreIndex has partition key '{keys.get('HASH')}'; expected 'Genre'")
    expect(keys.get("RANGE") == "Year", f"GenreIndex has sort key '{keys.get('RANGE')}'; expected 'Year'")
    expect(types.get("Genre") == "S", f"Genre is defined as type {types.get('Genre')}; expected S (string)")
    expect(types.get("Year") == "N", f"Year is defined as type {types.get('Year')}; expected N (number), "
                                     "so that Year >= 2010 compares numbers, not text")


def songs_in_genre_matches_data(answer, dynamodb_resource, lab_dir):
    table = _table(dynamodb_resource)
    genre = f"Check Genre {secrets.token_hex(3)}"
    artist = _check_artist()
    seeded = [{"Artist": artist, "SongTitle": f"Track {year}", "Genre": genre, "Year": year, "Plays": 1}
              for year in (1999, 2005, 2011, 2018, 2024)]
    cases = [(genre, 2006), ("Electronic", 2012), ("Folk", 0), ("Rock", 2004), ("Jazz", 2030)]
    _seed(table, seeded)
    try:
        items = _all_items(table)
        results = answer.call_many("genre_query.py", "songs_in_genre", cases, table=TABLE)
    finally:
        _unseed(table, seeded)
    for (which, year), result in zip(cases, results):
        got = _value(result)
        matching = sorted((i for i in items if i.get("Genre") == which and i.get("Year", -1) >= year),
                          key=lambda i: (i["Year"], i["SongTitle"]))
        want = [i["SongTitle"] for i in matching]
        note = (" — that genre was added by the check just now, so the answer must come from the index"
                if which == genre else "")
        expect(isinstance(got, list) and sorted(got) == sorted(want),
               f"songs_in_genre(table, {which!r}, {year}) returned {got!r}; expected {want!r}{note}")
        years = {i["SongTitle"]: i["Year"] for i in matching}
        expect([years[t] for t in got] == sorted(years[t] for t in got),
               f"songs_in_genre(table, {which!r}, {year}) returned the songs out of Year order: {got!r}")
        expect(not result.used("Scan"), "songs_in_genre used Scan; query the index instead "
                                        "(table.query(IndexName='GenreIndex', ...))")
        if result.used("Query", "GenreIndex"):
            continue
        expect(result.used("ExecuteStatement"),
               f"songs_in_genre did not query GenreIndex (calls made: {result.calls or 'none'}); "
               "pass IndexName='GenreIndex' to table.query")
        if (which, year) == cases[0]:       # PartiQL: its statements are read once, on the seeded genre
            _partiql_queries_index(answer, lab_dir, which, year)


def _partiql_queries_index(answer, lab_dir, genre, year):
    """A PartiQL answer: its SELECT must read "Music"."GenreIndex" with Genre pinned, as a Query."""
    from labrunner.services.moto_dynamodb import reads_index

    outcome, requests = _watched(answer, lab_dir, "genre_query.py", "songs_in_genre", genre, year)
    selects = [s for op, s, _ in requests if op == "ExecuteStatement" and s.lstrip().upper().startswith("SELECT")]
    off_index = [s for s in selects if reads_index(s) != "GenreIndex"]
    expect(selects and not off_index,
           f"songs_in_genre ran {(off_index or ['no SELECT'])[0]!r}, which does not read the index; "
           'select FROM "Music"."GenreIndex"')
    scans = _full_scans(requests, "Genre")
    expect(not scans, f"songs_in_genre ran {scans[0] if scans else ''!r}, whose WHERE does not pin Genre: "
                      "DynamoDB runs it as a Scan of the index; write WHERE Genre = ? AND \"Year\" >= ?")


# ---- step 6: conditional-delete ---------------------------------------------

def _remove(answer, table, plays):
    song = {"Artist": _check_artist(), "SongTitle": "Delete Test", "Plays": plays, "Genre": "Test", "Year": 2002}
    key = {"Artist": song["Artist"], "SongTitle": song["SongTitle"]}
    _seed(table, [song])
    try:
        result = answer.call("remove_song.py", "remove_if_unplayed", song["Artist"], song["SongTitle"], table=TABLE)
        still_there = table.get_item(Key=key, ConsistentRead=True).get("Item") is not None
    finally:
        _unseed(table, [song])
    return result, still_there


def remove_if_unplayed_keeps_played_songs(answer, dynamodb_resource):
    result, still_there = _remove(answer, _table(dynamodb_resource), plays=12)
    if result.error_type == "ConditionalCheckFailedException":
        fail("remove_if_unplayed let ConditionalCheckFailedException escape for a played song; "
             "catch it and return False")
    _value(result)
    expect(still_there, "remove_if_unplayed deleted a song although it had 12 plays; add "
                        "ConditionExpression='Plays = :zero' so DynamoDB refuses the delete")
    expect(result.value is False, f"remove_if_unplayed returned {result.value!r} for a song with 12 plays; "
                                  "expected False (kept)")


def remove_if_unplayed_refuses_missing_song(answer, dynamodb_resource):
    table = _table(dynamodb_resource)
    key = {"Artist": _check_artist(), "SongTitle": "No Such Song"}
    result = answer.call("remove_song.py", "remove_if_unplayed", key["Artist"], key["SongTitle"], table=TABLE)
    created = table.get_item(Key=key, ConsistentRead=True).get("Item")
    if created:
        table.delete_item(Key=key)
    if result.error_type == "ConditionalCheckFailedException":
        fail("remove_if_unplayed let ConditionalCheckFailedException escape for a song that does not exist; "
             "catch it and return False")
    _value(result)
    expect(result.value is False,
           f"remove_if_unplayed returned {result.value!r} for a song that is not in Music; expected False "
           "(nothing was deleted) — a missing item has no Plays, so the condition 'Plays = :zero' refuses it; "
           "a condition that also lets a missing Plays through, such as attribute_not_exists(Plays), does not")


def remove_if_unplayed_is_atomic(answer, dynamodb_resource, lab_dir):
    table = _table(dynamodb_resource)
    song = {"Artist": _check_artist(), "SongTitle": "Race Delete", "Plays": 0, "Genre": "Test", "Year": 2004}
    _seed(table, [song])
    try:
        outcome = _race(answer, lab_dir, "remove_song.py", "remove_if_unplayed", song)
        stored = table.get_item(Key={"Artist": song["Artist"], "SongTitle": song["SongTitle"]},
                                ConsistentRead=True).get("Item")
    finally:
        _unseed(table, [song])
    raised = outcome.get("raised") or {}
    if raised and raised["type"] != "ConditionalCheckFailedException":
        _fail_raised(f"remove_if_unplayed(table, {song['Artist']!r}, 'Race Delete')", "remove_song.py", raised)
    if not outcome["raced_after"]:
        return
    if stored is None:
        fail(f"remove_if_unplayed read the song first ({outcome['raced_after']}) and then deleted it: another "
             "listener played it in between, and a song with 1 play was deleted — put the rule in the delete "
             "itself, ConditionExpression='Plays = :zero', so DynamoDB checks and deletes in one step")
    if "raised" in outcome and outcome["raised"]["type"] == "ConditionalCheckFailedException":
        fail("remove_if_unplayed let ConditionalCheckFailedException escape for a song played just before the "
             "delete; catch it and return False")
    expect(outcome.get("value") is False,
           f"remove_if_unplayed returned {outcome.get('value', outcome.get('raised'))!r} for a song played "
           "between its read and its delete (the song is still there); expected False (kept)")


def remove_if_unplayed_deletes_unplayed_songs(answer, dynamodb_resource):
    result, still_there = _remove(answer, _table(dynamodb_resource), plays=0)
    _value(result)
    expect(not still_there, "remove_if_unplayed kept a song with 0 plays; expected it to be deleted")
    expect(result.value is True, f"remove_if_unplayed returned {result.value!r} after deleting; expected True")


# ---- step 7: ttl ---------------------------------------------------------------

def ttl_enabled_on_expires_at(dynamodb):
    _describe(dynamodb)
    description = dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    status = description.get("TimeToLiveStatus", "DISABLED")
    attribute = description.get("AttributeName")
    expect(status in ("ENABLED", "ENABLING"), f"Time to Live on Music is {status}; expected ENABLED")
    expect(attribute == "ExpiresAt", f"Time to Live uses the attribute {attribute!r}; expected 'ExpiresAt'")


# ---- probes: run in the answer runner's child, never by learners ---------------
#
# checks.py passes this file to answer.call, so these run in the child process with the
# table it made as their first argument. Each imports the learner's file from the workspace
# (the child's current folder) and calls the function.
# - _probe_requests_of records every request the function made: its operation and, for
#   PartiQL, the statement (a SELECT with `Artist = ?` in its WHERE runs as a Query).
# - _probe_race is another listener: right after the function's first read, it adds one play
#   to the song with its own atomic update. An answer that reads, computes and writes back
#   loses that play; one that deletes after a read deletes a song that has just been played.

_PROBE_READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}


def _learner(file, function):
    path = os.path.abspath(file)
    spec = importlib.util.spec_from_file_location("learner_probe_" + os.path.basename(file)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, function), path


def _raised(exc, path):
    """What the learner's code raised, described as the answer runner describes it (the probe
    runs in that runner's child process)."""
    from labrunner.checks.answer_child import _error

    error = _error(exc, path)
    return {"type": error["error_type"], "message": error["error_message"], "where": error["where"]}


def _is_read(operation, params):
    if operation in _PROBE_READS:
        return True
    if operation == "ExecuteStatement":
        return params.get("Statement", "").lstrip().upper().startswith("SELECT")
    if operation in ("BatchExecuteStatement", "ExecuteTransaction"):
        statements = params.get("Statements") or params.get("TransactStatements") or []
        return any(s.get("Statement", "").lstrip().upper().startswith("SELECT") for s in statements)
    return False


def _is_write(operation, params):
    if operation in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"):
        return True
    if operation == "ExecuteStatement":
        return not params.get("Statement", "").lstrip().upper().startswith("SELECT")
    return operation in ("BatchExecuteStatement", "ExecuteTransaction") and not _is_read(operation, params)


class _Watch:
    """Wrap botocore's request path for the length of one call."""

    def __init__(self, after=None):
        from botocore.client import BaseClient

        self.base = BaseClient
        self.original = BaseClient._make_api_call
        self.after = after
        self.requests = []
        self.quiet = False

    def __enter__(self):
        watch = self

        def watched(client, operation, params):
            if watch.quiet:
                return watch.original(client, operation, params)
            statement = params.get("Statement", "") if isinstance(params, dict) else ""
            watch.requests.append([operation, statement, (params or {}).get("IndexName", "")])
            response = watch.original(client, operation, params)
            if watch.after:
                watch.after(client, operation, params or {})
            return response

        self.base._make_api_call = watched
        return self

    def __exit__(self, *exc):
        self.base._make_api_call = self.original


def _probe_requests_of(table, file, function, *args):
    """{"value" or "raised", "requests": [[operation, statement, index], ...]}."""
    learner, path = _learner(file, function)
    with _Watch() as watch:
        try:
            outcome = {"value": learner(table, *args)}
        except Exception as exc:
            outcome = {"raised": _raised(exc, path)}
    outcome["requests"] = watch.requests
    return outcome


def _probe_race(table, file, function, artist, song_title, when="read"):
    """Call the function with another listener playing the song right after its first read
    (or, with when="write", right after its first write).

    {"value" or "raised", "requests": [...], "raced_after": the read it followed, or ""}."""
    learner, path = _learner(file, function)
    raced = []

    import boto3

    # The other listener: a low-level client of its own, on the same endpoint as the table.
    meta = table.meta.client.meta
    listener = boto3.client("dynamodb", endpoint_url=meta.endpoint_url, region_name=meta.region_name)

    def after(client, operation, params):
        if raced or not (_is_read(operation, params) if when == "read" else _is_write(operation, params)):
            return
        raced.append(operation)
        watch.quiet = True
        try:
            listener.update_item(TableName=table.name, Key={"Artist": {"S": artist}, "SongTitle": {"S": song_title}},
                                 UpdateExpression="ADD Plays :one", ExpressionAttributeValues={":one": {"N": "1"}})
        finally:
            watch.quiet = False

    with _Watch(after) as watch:
        try:
            outcome = {"value": learner(table, artist, song_title)}
        except Exception as exc:
            outcome = {"raised": _raised(exc, path)}
    outcome["requests"] = watch.requests
    outcome["raced_after"] = raced[0] if raced else ""
    return outcome
