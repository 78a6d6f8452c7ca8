"""Checks for elasticache-sessions-leaderboards: each calls the learner's functions in a child
process, with names and data it makes up on the spot (so a hard-coded answer fails), then
looks at what they left on the live server.

Fixtures: elasticache (a redis-py client, decode_responses=True), answer.
"""

import random
import string
import time

from labrunner.checks import expect, fail

SESSION_TTL = 2            # seconds: the expiry check waits this long, and not much more
EXPIRY_GRACE = 3.0         # seconds past the TTL before "it did not expire" (a busy machine)
MAX_COUNTER_TTL = 7200
MIN_COUNTER_TTL = 1800     # "about an hour": a counter gone within the chart's hour loses its minutes
READ_TTL_MS = 45_000       # the TTL a check gives a session before load_session reads it
HLL_MAX_BYTES = 16 * 1024  # a dense HyperLogLog is 12 KB and a bit


def _tag() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=6))


def _run(answer, file, *calls):
    """Call functions of one workspace file in order, in one child process with one client."""
    return answer.run(file, list(calls), connect="elasticache", shared=True, timeout=30)


def _values(results):
    return [result.value_or_fail() for result in results]


def _keys_naming(cache, text, kind=None):
    keys = [key for key in cache.scan_iter(match=f"*{text}*", count=1000)]
    return [key for key in keys if kind is None or cache.type(key) == kind]


# ---- step 1: sessions ---------------------------------------------------------------------

def _new_session_data():
    return f"user-{_tag()}", {"cart": f"{random.randint(1, 9)} items",
                              "theme": random.choice(["dark", "light", "sepia"]), "visit": _tag()}


def session_round_trip(answer, elasticache):
    expired = elasticache.info("stats")["expired_keys"]
    (user, data), (user2, data2) = _new_session_data(), _new_session_data()
    created = _values(_run(answer, "sessions.py", ("create_session", (user, data, 60)),
                           ("create_session", (user2, data2, 60))))
    for session_id in created:
        expect(isinstance(session_id, str) and session_id,
               f"create_session returned {session_id!r}; expected the new session's id, a string")
    expect(created[0] != created[1], f"two new sessions both got the id {created[0]!r}: each needs its own, "
                                     "one nobody can guess (secrets.token_urlsafe(16))")
    unknown = f"no-such-session-{_tag()}"
    loaded, missing = _values(_run(answer, "sessions.py", ("load_session", (created[0],)),
                                   ("load_session", (unknown,))))
    want = {"user_id": user, **data}
    kept = isinstance(loaded, dict) and all(loaded.get(key) == value for key, value in want.items())
    if not kept and loaded is None:
        if created[0].startswith("session:") and elasticache.exists(created[0]):
            fail(f"create_session returned {created[0]!r}, the session's key, and load_session(r, {created[0]!r}) "
                 f"then looked up session:{created[0]} and found nothing — return the id alone "
                 "(secrets.token_urlsafe(16)); load_session adds session: to it")
        if elasticache.info("stats")["expired_keys"] > expired:
            fail(f"load_session(r, {created[0]!r}) returned None: the session, created with ttl_seconds=60, had "
                 "expired already (expired_keys in INFO stats went up) — PEXPIRE and px= count milliseconds, "
                 "EXPIRE and ex= seconds: give the key ttl_seconds as seconds")
    expect(kept, f"load_session(r, {created[0]!r}) returned {loaded!r}; expected {want!r}")
    expect(missing is None, f"load_session(r, {unknown!r}) returned {missing!r} for a session that does not "
                            "exist; expected None (HGETALL of a missing key gives {})")


def session_expires_after_its_ttl(answer, elasticache):
    user, data = _new_session_data()
    (created,) = _run(answer, "sessions.py", ("create_session", (user, data, SESSION_TTL)))
    session_id = created.value_or_fail()
    started = time.monotonic()
    keys = _keys_naming(elasticache, session_id) if isinstance(session_id, str) and session_id else []
    expect(keys, f"no key in the cache has the session id {session_id!r} in its name: "
                 "keep each session under session:<id>")
    key = keys[0]
    ttl_ms = elasticache.pttl(key)
    expect(ttl_ms != -1, f"{key} has no TTL (TTL {key} says -1): it would never expire — "
                         "EXPIRE it with ttl_seconds in create_session")
    asked = SESSION_TTL * 1000
    expect(ttl_ms < asked * 500, f"{key} expires in {ttl_ms / 1000:,.0f} s, but create_session was asked for "
                                 f"ttl_seconds={SESSION_TTL}: EXPIRE takes seconds (PEXPIRE takes milliseconds), "
                                 "so pass ttl_seconds as it is, without multiplying by 1000")
    # EXPIREAT counts whole seconds: an end rounded up to the next second is as right as EXPIRE's.
    expect(0 < ttl_ms <= asked + 1000, f"{key} expires in {ttl_ms / 1000:,.1f} s, but create_session was asked "
                                       f"for ttl_seconds={SESSION_TTL}: EXPIRE the key with ttl_seconds itself")
    deadline = started + SESSION_TTL + EXPIRY_GRACE
    while elasticache.exists(key) and time.monotonic() < deadline:
        time.sleep(0.05)
    waited = time.monotonic() - started
    expect(not elasticache.exists(key), f"{key} is still there {waited:.1f} s after "
                                        f"create_session(..., ttl_seconds={SESSION_TTL})")
    (loaded,) = _run(answer, "sessions.py", ("load_session", (session_id,)))
    value = loaded.value_or_fail()
    expect(value is None, f"load_session(r, {session_id!r}) returned {value!r} after the session expired; "
                          "expected None")
    return f"{key} expired after {waited:.1f} s, as its TTL said"


def load_session_keeps_the_ttl(answer, elasticache):
    """A read must not move the session's end: the check sets a TTL of its own, reads the session
    through load_session, and asks the server for the TTL again."""
    user, data = _new_session_data()
    (created,) = _run(answer, "sessions.py", ("create_session", (user, data, 600)))
    session_id = created.value_or_fail()
    keys = _keys_naming(elasticache, session_id) if isinstance(session_id, str) and session_id else []
    expect(keys, f"no key in the cache has the session id {session_id!r} in its name: "
                 "keep each session under session:<id>")
    key = keys[0]
    elasticache.pexpire(key, READ_TTL_MS)
    (loaded,) = _run(answer, "sessions.py", ("load_session", (session_id,)))
    loaded.value_or_fail()
    after = elasticache.pttl(key)
    expect(after != -2, f"load_session(r, {session_id!r}) deleted {key}: reading a session must leave it in place")
    expect(after != -1, f"load_session(r, {session_id!r}) removed the TTL of {key} (TTL says -1 after the read): "
                        "the session would never expire — read it with HGETALL only")
    expect(after <= READ_TTL_MS,
           f"load_session(r, {session_id!r}) renewed the TTL of {key}: it had {READ_TTL_MS // 1000} s left before "
           f"the read and {after / 1000:.0f} s after. These sessions end ttl_seconds after they were created, so "
           "load_session must not EXPIRE (sliding expiry belongs in a separate touch_session)")
    return f"{key} kept its TTL across load_session ({after / 1000:.0f} s left)"


# ---- step 2: leaderboard-top --------------------------------------------------------------

def _sorted_set_of(cache, board):
    keys = _keys_naming(cache, board, "zset")
    expect(keys, f"no sorted set has the board name {board!r} in its key: keep each board in one sorted set "
                 "(ZINCRBY leaderboard:<board> points player)")
    return keys[0]


def points_add_up(answer, elasticache):
    board = f"weekly-{_tag()}"
    players = [f"player-{_tag()}" for _ in range(3)]
    plays = [(random.choice(players), random.randint(5, 50)) for _ in range(10)] + [(p, 10) for p in players]
    results = _run(answer, "leaderboard.py", *[("add_points", (board, p, pts)) for p, pts in plays])
    totals: dict = {}
    for (player, points), result in zip(plays, results):
        before = totals.get(player, 0)
        totals[player] = before + points
        got = result.value_or_fail()
        expect(isinstance(got, (int, float)) and got == totals[player],
               f"add_points(r, {board!r}, {player!r}, {points}) returned {got!r}; expected the player's new total "
               f"{totals[player]} (they had {before}): ZINCRBY adds the points and returns the total "
               "(ZADD would replace the score)")
    key = _sorted_set_of(elasticache, board)
    for player, total in totals.items():
        score = elasticache.zscore(key, player)
        expect(score == total, f"{player} has {score} points in {key}; expected {total}")


def _pairs(value):
    """top()'s answer as [(player, score)], whatever sequence type it came in."""
    try:
        return [(str(player), float(score)) for player, score in value]
    except (TypeError, ValueError):
        fail(f"top() returned {value!r}; expected a list of (player, score) pairs")


def top_is_highest_first(answer):
    board = f"season-{_tag()}"
    scores = dict(zip((f"player-{_tag()}" for _ in range(8)), random.sample(range(10, 1000), 8)))
    adds = [("add_points", (board, player, points)) for player, points in scores.items()]
    results = _run(answer, "leaderboard.py", *adds, ("top", (board, 3)), ("top", (board, 20)))
    _values(results[:len(adds)])
    best = sorted(scores.items(), key=lambda item: -item[1])
    want = [(player, float(points)) for player, points in best[:3]]
    got = _pairs(results[-2].value_or_fail())
    lowest = [(player, float(points)) for player, points in best[::-1][:3]]
    if got == lowest:
        fail(f"top(r, {board!r}, 3) came back lowest score first: {got}; a leaderboard ranks the highest score "
             "first — ZRANGE key 0 2 REV WITHSCORES (or ZREVRANGE)")
    if len(got) == len(want) + 1 and got[:len(want)] == want:
        fail(f"top(r, {board!r}, 3) returned {len(got)} players: {got} — ZRANGE's stop index is inclusive, so the "
             "first n are 0 to n - 1")
    expect(got == want, f"top(r, {board!r}, 3) returned {got}; expected {want}")
    everyone = _pairs(results[-1].value_or_fail())
    expect(len(everyone) == len(scores), f"top(r, {board!r}, 20) on a board of {len(scores)} players returned "
                                         f"{len(everyone)} of them")


# ---- step 3: leaderboard-rank -------------------------------------------------------------

def _ranks(answer, board, scores, asked):
    adds = [("add_points", (board, player, points)) for player, points in scores.items()]
    results = _run(answer, "leaderboard.py", *adds, *[("rank", (board, player)) for player in asked])
    _values(results[:len(adds)])
    return _values(results[len(adds):])


def ranks_count_from_one(answer):
    board = f"daily-{_tag()}"
    scores = dict(zip((f"player-{_tag()}" for _ in range(6)), random.sample(range(10, 500), 6)))
    order = sorted(scores, key=lambda player: -scores[player])
    stranger = f"player-{_tag()}"
    asked = [order[0], order[2], order[-1], stranger]
    got = _ranks(answer, board, scores, asked)
    expect(got[0] != 0, f"the leader ({scores[order[0]]} points) got rank 0; ranks start at 1 for the best "
                        "score (ZREVRANK counts from 0)")
    expect(got[0] != len(order), f"the leader ({scores[order[0]]} points) got rank {got[0]} of {len(order)}: "
                                 "ranks count from the highest score, not the lowest")
    for player, want, have in zip(asked[:3], (1, 3, len(order)), got):
        expect(have == want, f"rank(r, {board!r}, {player!r}) returned {have!r} for {scores[player]} points; "
                             f"expected {want}")
    expect(got[3] is None, f"rank(r, {board!r}, {stranger!r}) returned {got[3]!r} for a player not on the board; "
                           "expected None")


def tied_players_share_a_rank(answer):
    board = f"cup-{_tag()}"
    base = random.randint(1, 40) * 10
    points = [base + 30, base + 20, base + 20, base + 10, base + 10, base + 10, base]
    players = [f"player-{_tag()}" for _ in points]
    scores = dict(zip(players, points))
    want = [1, 2, 2, 4, 4, 4, 7]                 # standard competition ranking
    shuffled = random.sample(players, len(players))
    got = dict(zip(shuffled, _ranks(answer, board, scores, shuffled)))
    for tie in (base + 20, base + 10):
        tied = [player for player in players if scores[player] == tie]
        given = sorted({got[player] for player in tied}, key=repr)
        expect(len(given) == 1, f"players tied on {tie} points got ranks {', '.join(map(str, given))}; players "
                                "with the same score share a rank (scores 90, 80, 80, 70 rank 1, 2, 2, 4): count "
                                "the players with more points (ZCOUNT) and add one")
    for player, rank in zip(players, want):
        as_many_or_more = sum(1 for other in players if scores[other] >= scores[player])
        if got[player] != rank and got[player] == as_many_or_more:
            fail(f"rank(r, {board!r}, {player!r}) returned {got[player]!r} for {scores[player]} points on a board "
                 f"scored {points}; expected {rank}: that counts the players with as many points or more, the player "
                 f"and those tied included — count only those with more (ZCOUNT key ({scores[player]} +inf: the ( "
                 "leaves the score itself out) and add one")
        expect(got[player] == rank, f"rank(r, {board!r}, {player!r}) returned {got[player]!r} for {scores[player]} "
                                    f"points; expected {rank} on a board scored {points}")


# ---- step 4: unique-visitors ---------------------------------------------------------------

def _visits(answer, page, distinct):
    visitors = [f"visitor-{_tag()}-{n}" for n in range(distinct)]
    visits = visitors + random.choices(visitors, k=distinct)          # many come back
    random.shuffle(visits)
    results = _run(answer, "analytics.py", *[("record_visit", (page, v)) for v in visits],
                   ("unique_visitors", (page,)))
    _values(results[:-1])
    return len(visits), results[-1].value_or_fail()


def unique_visitors_estimated(answer):
    page = f"/products/{_tag()}"
    distinct = random.randint(2000, 4000)
    visits, counted = _visits(answer, page, distinct)
    expect(isinstance(counted, (int, float)), f"unique_visitors(r, {page!r}) returned {counted!r}; expected a number")
    error = abs(counted - distinct) / distinct
    expect(error <= 0.03, f"unique_visitors(r, {page!r}) says {counted:,} after {visits:,} visits from {distinct:,} "
                          "different visitors: more than 3 % off — count each visitor once (PFADD, PFCOUNT)")
    return f"{counted:,} counted for {distinct:,} different visitors ({error:.2%} off)"


def visitors_kept_in_a_hyperloglog(answer, elasticache):
    page = f"/blog/{_tag()}"
    _visits(answer, page, 1500)
    keys = _keys_naming(elasticache, page)
    expect(keys, f"no key has the page {page!r} in its name: keep each page's visitors under visitors:<page>")
    for key in keys:
        kind, size = elasticache.type(key), elasticache.memory_usage(key) or 0
        is_hll = kind == "string" and elasticache.getrange(key, 0, 3) == "HYLL"
        expect(is_hll, f"{key} is a {kind} of {size / 1024:.0f} KB after 1,500 visitors: a HyperLogLog "
                       "(PFADD, PFCOUNT) counts them in 12 KB at most, however many come")
        expect(size <= HLL_MAX_BYTES, f"{key} takes {size / 1024:.0f} KB")
    return f"{keys[0]}: a HyperLogLog of {elasticache.memory_usage(keys[0]):,} bytes for 1,500 visitors"


# ---- step 5: per-minute-counters -----------------------------------------------------------

def _events(answer, event, counts, first_minute):
    stamps = [(first_minute + i) * 60 + random.randint(0, 59) for i, n in enumerate(counts) for _ in range(n)]
    random.shuffle(stamps)
    _values(_run(answer, "analytics.py", *[("count_event", (event, stamp)) for stamp in stamps]))


def counts_per_minute(answer):
    event = f"checkout-{_tag()}"
    counts = [random.randint(1, 6) for _ in range(5)]
    counts[2] = 0                                   # a quiet minute
    first_minute = int(time.time()) // 60 - random.randint(5, 50)
    _events(answer, event, counts, first_minute)
    start = first_minute * 60 + random.randint(0, 59)
    (result,) = _run(answer, "analytics.py", ("events_per_minute", (event, start, len(counts))))
    got = result.value_or_fail()
    if isinstance(got, list) and len(got) != len(counts):
        fail(f"events_per_minute(r, {event!r}, {start}, {len(counts)}) returned {len(got)} counts for {len(counts)} "
             f"minutes: {got!r} — one per minute, range(first, first + minutes), the last one excluded")
    expect(got == counts, f"events_per_minute(r, {event!r}, {start}, {len(counts)}) returned {got!r}; expected "
                          f"{counts} (the counts of {len(counts)} minutes from the minute of {start})")


def counters_expire(answer, elasticache):
    event = f"signup-{_tag()}"
    _events(answer, event, [2, 1, 3], int(time.time()) // 60 - 3)
    keys = _keys_naming(elasticache, event)
    expect(keys, f"no key has the event name {event!r} in it: keep each minute under events:<event>:<minute>")
    for key in keys:
        ttl = elasticache.ttl(key)
        expect(ttl != -1, f"{key} never expires (TTL {key} says -1): every minute adds a counter, forever — "
                          "EXPIRE each one after COUNTER_TTL seconds")
        expect(ttl <= MAX_COUNTER_TTL, f"{key} expires in {ttl:,} s; keep a minute's counter for an hour")
        expect(ttl >= MIN_COUNTER_TTL,
               f"{key} expires in {ttl:,} s: a minute's counter must live about an hour (COUNTER_TTL, 3600 s), or "
               "the chart of the last hour finds its minutes gone — EXPIRE it with COUNTER_TTL, not a minute")
    ttls = [elasticache.ttl(key) for key in keys]
    return f"{len(keys)} counters, each expiring in about an hour ({min(ttls):,}–{max(ttls):,} s)"


# ---- step 6: stream -------------------------------------------------------------------

def _publish(answer, stream, count):
    events = [{"order": f"{_tag()}-{n}", "total": f"{random.randint(100, 9999) / 100:.2f}"} for n in range(count)]
    ids = _values(_run(answer, "stream.py", *[("publish", (stream, event)) for event in events]))
    for entry_id in ids:
        expect(isinstance(entry_id, str) and "-" in entry_id,
               f"publish returned {entry_id!r}; expected the new entry's id, e.g. '1732700000000-0' (what XADD says)")
    return events


def each_event_goes_to_one_worker(answer):
    stream, group = f"orders-{_tag()}", f"shipping-{_tag()}"
    events = _publish(answer, stream, 12)
    turns = ["worker-a", "worker-b", "worker-a", "worker-b"]
    results = _values(_run(answer, "stream.py", *[("consume", (stream, group, worker, 5)) for worker in turns]))
    got: dict = {}
    for worker, batch in zip(turns, results):
        expect(isinstance(batch, list), f"consume returned {batch!r}; expected a list of events (dicts)")
        expect(len(batch) <= 5, f"consume(r, {stream!r}, {group!r}, {worker!r}, count=5) returned {len(batch)} "
                                "events; at most 5 were asked for (COUNT)")
        for event in batch:
            got.setdefault(event.get("order") if isinstance(event, dict) else repr(event), []).append(worker)
    for order, workers in got.items():
        expect(len(workers) == 1, f"order {order} reached {' and '.join(workers)}: in a consumer group each entry "
                                  "goes to one worker — read with XREADGROUP ... STREAMS stream >, not XREAD")
    missing = [e["order"] for e in events if e["order"] not in got]
    if missing:
        fail(f"{len(missing)} of the {len(events)} orders reached no worker (e.g. {missing[0]}) — does the group "
             "start at the stream's first entry (XGROUP CREATE ... 0 MKSTREAM, not $, which means 'only entries "
             "added from now on'), and does XREADGROUP ask for entries no worker has had yet ('>'; an id such "
             "as 0 rereads the worker's own pending entries)?")
    order_seen = [e["order"] for batch in results for e in batch]
    expect(order_seen == [e["order"] for e in events], "the workers got the orders out of order; a stream hands "
                                                       "them out oldest first")


def consumed_events_are_acknowledged(answer, elasticache):
    stream, group = f"payments-{_tag()}", f"ledger-{_tag()}"
    events = _publish(answer, stream, 6)
    (batch,) = _values(_run(answer, "stream.py", ("consume", (stream, group, "worker-a", 10))))
    expect(isinstance(batch, list) and len(batch) == len(events),
           f"consume(r, {stream!r}, {group!r}, 'worker-a', count=10) returned {batch!r}; expected the "
           f"{len(events)} events published")
    groups = [g["name"] for g in elasticache.xinfo_groups(stream)]
    expect(group in groups, f"stream {stream} has no consumer group {group!r} (XINFO GROUPS {stream}): {groups}")
    pending = elasticache.xpending(stream, group)["pending"]
    expect(pending == 0, f"{pending} of the {len(events)} events are still pending in group {group} (XPENDING "
                         f"{stream} {group}): consume must XACK each event it hands back, or the group thinks "
                         "the worker is still busy with it")
    return f"{len(events)} events read and acknowledged; XPENDING {stream} {group} says 0"
