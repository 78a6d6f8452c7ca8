"""Correct answers the reference solutions do not take, one or more per step: a session as one
JSON string, a MULTI/EXEC transaction written out, ZREVRANGE and a pipeline, a rank from a
range by score, another key name, EXPIRE NX or EXPIREAT, one XACK for a whole batch.
`labrunner test` applies each from the step's start and requires every check of the step to
pass; each writes the learner's file as a learner might."""

SESSIONS_AS_JSON = '''
import json
import secrets

SESSION_TTL = 1800


def create_session(r, user_id, data, ttl_seconds=SESSION_TTL):
    """One JSON string per session: SET ... EX writes it and its TTL in one command."""
    session_id = secrets.token_urlsafe(16)
    r.set(f"session:{session_id}", json.dumps({"user_id": user_id, **data}), ex=ttl_seconds)
    return session_id


def load_session(r, session_id):
    text = r.get(f"session:{session_id}")
    return None if text is None else json.loads(text)
'''

SESSIONS_IN_A_TRANSACTION = '''
import secrets

SESSION_TTL = 1800


def create_session(r, user_id, data, ttl_seconds=SESSION_TTL):
    """HSET then EXPIRE, in a transaction written out (pipeline(transaction=True) is MULTI/EXEC)."""
    session_id = secrets.token_urlsafe(16)
    key = "session:" + session_id
    with r.pipeline(transaction=True) as pipe:
        pipe.multi()
        for field, value in {"user_id": user_id, **data}.items():
            pipe.hset(key, field, value)
        pipe.pexpire(key, int(ttl_seconds * 1000))
        pipe.execute()
    return session_id


def load_session(r, session_id):
    fields = r.hgetall("session:" + session_id)
    if not fields:
        return None
    return dict(fields)
'''

TOP_WITH_ZREVRANGE = '''
def add_points(r, board, player, points):
    pipe = r.pipeline(transaction=False)
    pipe.zincrby("board:" + board, points, player)
    (total,) = pipe.execute()
    return total


def top(r, board, n):
    return [(player, score) for player, score in r.zrevrange("board:" + board, 0, n - 1, withscores=True)]


def rank(r, board, player):
    raise NotImplementedError
'''

RANK_FROM_A_RANGE = '''
def add_points(r, board, player, points):
    return r.zincrby(f"lb:{board}", points, player)


def top(r, board, n):
    return r.zrange(f"lb:{board}", "+inf", "-inf", byscore=True, desc=True, offset=0, num=n, withscores=True)


def rank(r, board, player):
    """One more than the number of players with strictly more points, read as a range by score."""
    score = r.zscore(f"lb:{board}", player)
    if score is None:
        return None
    better = r.zrangebyscore(f"lb:{board}", f"({score}", "+inf")
    return len(better) + 1
'''

VISITORS_UNDER_ANOTHER_NAME = '''
COUNTER_TTL = 3600


def record_visit(r, page, visitor_id):
    r.pfadd("uv:" + page, visitor_id)


def unique_visitors(r, page):
    return int(r.pfcount("uv:" + page))
'''

COUNTERS_WITH_EXPIRE_NX = '''
COUNTER_TTL = 3600


def count_event(r, event, timestamp):
    """INCR, and a TTL only where there is none yet (EXPIRE ... NX): the hour runs from the
    counter's first event."""
    key = f"events:{event}:{int(timestamp) // 60}"
    pipe = r.pipeline()
    pipe.incr(key)
    pipe.expire(key, COUNTER_TTL, nx=True)
    pipe.execute()


def events_per_minute(r, event, start, minutes):
    first = int(start) // 60
    pipe = r.pipeline(transaction=False)
    for minute in range(first, first + minutes):
        pipe.get(f"events:{event}:{minute}")
    return [int(value) if value is not None else 0 for value in pipe.execute()]
'''

COUNTERS_EXPIRING_AT = '''
COUNTER_TTL = 3600


def count_event(r, event, timestamp):
    """The counter goes an hour after its minute is over (EXPIREAT), however late it is counted."""
    minute = int(timestamp) // 60
    key = f"count:{event}:{minute}"
    pipe = r.pipeline()
    pipe.incr(key)
    pipe.expireat(key, (minute + 1) * 60 + COUNTER_TTL)
    pipe.execute()


def events_per_minute(r, event, start, minutes):
    first = int(start) // 60
    values = r.mget([f"count:{event}:{m}" for m in range(first, first + minutes)])
    return [int(v or 0) for v in values]
'''

CONSUME_ACKING_ONCE = '''
def publish(r, stream, event):
    return r.xadd(stream, event)


def consume(r, stream, group, consumer, count=10):
    """The group is created only where it is missing (asked with XINFO GROUPS), and the whole
    batch is acknowledged with one XACK."""
    if not r.exists(stream) or group not in [g["name"] for g in r.xinfo_groups(stream)]:
        r.xgroup_create(stream, group, id="0", mkstream=True)
    batch = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    entries = batch[0][1] if batch else []
    if entries:
        r.xack(stream, group, *[entry_id for entry_id, _ in entries])
    return [fields for _, fields in entries]
'''


def _write(workspace, name, text):
    workspace.file(name).write_text(text, encoding="utf-8")


def sessions_as_json_strings(workspace):
    _write(workspace, "sessions.py", SESSIONS_AS_JSON)


def sessions_hash_then_expire_in_a_transaction(workspace):
    _write(workspace, "sessions.py", SESSIONS_IN_A_TRANSACTION)


def top_with_zrevrange_and_a_pipeline(workspace):
    _write(workspace, "leaderboard.py", TOP_WITH_ZREVRANGE)


def rank_from_a_range_by_score(workspace):
    _write(workspace, "leaderboard.py", RANK_FROM_A_RANGE)


def visitors_under_another_key_name(workspace):
    _write(workspace, "analytics.py", VISITORS_UNDER_ANOTHER_NAME)


def counters_with_expire_nx_and_gets(workspace):
    _write(workspace, "analytics.py", COUNTERS_WITH_EXPIRE_NX)


def counters_expiring_an_hour_after_their_minute(workspace):
    _write(workspace, "analytics.py", COUNTERS_EXPIRING_AT)


def consume_acknowledging_in_one_call(workspace):
    _write(workspace, "stream.py", CONSUME_ACKING_ONCE)


SESSIONS_PLAIN_COMMANDS = '''
import uuid

SESSION_TTL = 1800


def create_session(r, user_id, data, ttl_seconds=SESSION_TTL):
    """HSET, then EXPIRE, as two commands (no pipeline); a uuid4 for the id."""
    session_id = str(uuid.uuid4())
    r.hset("session:" + session_id, mapping={"user_id": user_id, **data})
    r.expire("session:" + session_id, ttl_seconds)
    return session_id


def load_session(r, session_id):
    if not r.exists("session:" + session_id):
        return None
    return r.hgetall("session:" + session_id)
'''

TOP_WITH_ZADD_INCR = '''
def add_points(r, board, player, points):
    """ZADD ... INCR adds to the score like ZINCRBY, and returns the new total too."""
    return r.zadd(f"leaderboard:{board}", {player: points}, incr=True)


def top(r, board, n):
    return [(member, int(score)) for member, score in
            r.zrange(f"leaderboard:{board}", 0, n - 1, desc=True, withscores=True)]


def rank(r, board, player):
    raise NotImplementedError
'''


def sessions_with_two_plain_commands(workspace):
    _write(workspace, "sessions.py", SESSIONS_PLAIN_COMMANDS)


def top_with_zadd_incr(workspace):
    _write(workspace, "leaderboard.py", TOP_WITH_ZADD_INCR)


COUNTERS_BY_CLOCK_MINUTE = '''
import time

COUNTER_TTL = 3600


def _key(event, timestamp):
    """The minute as the clock says it (UTC), e.g. events/checkout/2026-11-30T16:20."""
    return "events/%s/%s" % (event, time.strftime("%Y-%m-%dT%H:%M", time.gmtime(timestamp)))


def record_visit(r, page, visitor_id):
    r.pfadd(f"visitors:{page}", visitor_id)


def unique_visitors(r, page):
    return r.pfcount(f"visitors:{page}")


def count_event(r, event, timestamp):
    """INCR, then EXPIRE, as two commands."""
    r.incr(_key(event, timestamp))
    r.expire(_key(event, timestamp), COUNTER_TTL)


def events_per_minute(r, event, start, minutes):
    first = start - start % 60
    return [int(v) if v else 0 for v in r.mget(*[_key(event, first + 60 * i) for i in range(minutes)])]
'''


def counters_keyed_by_clock_minute(workspace):
    _write(workspace, "analytics.py", COUNTERS_BY_CLOCK_MINUTE)


SESSIONS_EXPIRING_AT = '''
import math
import secrets
import time

SESSION_TTL = 1800


def create_session(r, user_id, data, ttl_seconds=SESSION_TTL):
    """The end as a Unix time (EXPIREAT counts whole seconds, so it is rounded up)."""
    session_id = secrets.token_urlsafe(16)
    key = f"session:{session_id}"
    with r.pipeline() as pipe:
        pipe.hset(key, mapping={"user_id": user_id, **data})
        pipe.expireat(key, math.ceil(time.time()) + ttl_seconds)
        pipe.execute()
    return session_id


def load_session(r, session_id):
    return r.hgetall(f"session:{session_id}") or None
'''


def sessions_expiring_at_a_unix_time(workspace):
    _write(workspace, "sessions.py", SESSIONS_EXPIRING_AT)
