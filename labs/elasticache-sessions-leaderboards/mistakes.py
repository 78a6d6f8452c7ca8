"""Typical wrong answers for elasticache-sessions-leaderboards, each proven caught by
`labrunner test`. Each is a reference version of a workspace file with one change, made here."""

TOP = "leaderboard-2-top.py"            # step 2's leaderboard.py: rank() still to write
RANK_TODO = "    raise NotImplementedError\n"


def sessions_without_ttl(workspace):
    workspace.install_variant("sessions.py", "sessions.py", {"    pipe.expire(key, ttl_seconds)\n": ""})


def session_ttl_in_milliseconds(workspace):
    workspace.install_variant("sessions.py", "sessions.py",
                              {"    pipe.expire(key, ttl_seconds)\n": "    pipe.expire(key, ttl_seconds * 1000)\n"})


def unknown_session_reads_as_empty(workspace):
    workspace.install_variant("sessions.py", "sessions.py", {"return fields or None": "return fields"})


def top_lowest_first(workspace):
    workspace.install_variant("leaderboard.py", TOP, {"n - 1, desc=True, withscores=True": "n - 1, withscores=True"})


def points_replace_the_score(workspace):
    workspace.install_variant("leaderboard.py", TOP, {
        '    return r.zincrby(f"leaderboard:{board}", points, player)\n':
        '    r.zadd(f"leaderboard:{board}", {player: points})\n'
        '    return r.zscore(f"leaderboard:{board}", player)\n'})


def rank_from_zrevrank(workspace):
    """ZREVRANK + 1: right for distinct scores, different ranks for tied players."""
    workspace.install_variant("leaderboard.py", TOP, {RANK_TODO: (
        '    found = r.zrevrank(f"leaderboard:{board}", player)\n'
        "    return None if found is None else found + 1\n")})


def rank_from_zero(workspace):
    workspace.install_variant("leaderboard.py", TOP,
                              {RANK_TODO: '    return r.zrevrank(f"leaderboard:{board}", player)\n'})


def visitors_in_a_set(workspace):
    workspace.install_variant("analytics.py", "analytics-4-visitors.py",
                              {"r.pfadd(": "r.sadd(", "r.pfcount(": "r.scard("})


def counters_never_expire(workspace):
    workspace.install_variant("analytics.py", "analytics.py", {"    pipe.expire(key, COUNTER_TTL)\n": ""})


def counters_per_second(workspace):
    workspace.install_variant("analytics.py", "analytics.py", {"int(timestamp) // 60": "int(timestamp)"})


def consume_without_ack(workspace):
    workspace.install_variant("stream.py", "stream.py", {"            r.xack(stream, group, entry_id)\n": ""})


def consume_with_xread(workspace):
    """Plain XREAD from the start: no group, so every worker reads every entry."""
    workspace.install_variant("stream.py", "stream.py", {
        'replies = r.xreadgroup(group, consumer, {stream: ">"}, count=count)':
        'replies = r.xread({stream: "0"}, count=count)'})


def load_session_renews_the_ttl(workspace):
    """Sliding expiry where the step asks for a fixed end: every read pushes the end back."""
    workspace.install_variant("sessions.py", "sessions.py", {
        '    fields = r.hgetall(f"session:{session_id}")\n':
        '    fields = r.hgetall(f"session:{session_id}")\n'
        '    if fields:\n'
        '        r.expire(f"session:{session_id}", SESSION_TTL)\n'})


def counters_expire_after_a_minute(workspace):
    workspace.install_variant("analytics.py", "analytics.py", {"    pipe.expire(key, COUNTER_TTL)\n":
                                                               "    pipe.expire(key, 60)\n"})


def create_session_returns_the_key(workspace):
    """Hands back session:<id>, the key, where the id was asked for."""
    workspace.install_variant("sessions.py", "sessions.py", {"    return session_id\n": "    return key\n"})


def session_ttl_with_pexpire(workspace):
    """PEXPIRE with the seconds: a session of 60 s lives 60 ms."""
    workspace.install_variant("sessions.py", "sessions.py",
                              {"    pipe.expire(key, ttl_seconds)\n": "    pipe.pexpire(key, ttl_seconds)\n"})


def top_one_too_many(workspace):
    """ZRANGE key 0 n: the stop index is inclusive, so n + 1 players."""
    workspace.install_variant("leaderboard.py", TOP, {"n - 1, desc=True, withscores=True": "n, desc=True, withscores=True"})


def counters_one_minute_too_many(workspace):
    """range(first, first + minutes + 1): the chart gets one minute more than it asked for."""
    workspace.install_variant("analytics.py", "analytics.py", {"range(first, first + minutes)":
                                                               "range(first, first + minutes + 1)"})


def group_created_at_the_end(workspace):
    """XGROUP CREATE ... $: the group starts after the orders already published, so none arrive."""
    workspace.install_variant("stream.py", "stream.py", {'id="0", mkstream=True': 'id="$", mkstream=True'})


def group_read_from_zero(workspace):
    """XREADGROUP ... STREAMS stream 0: the worker's own pending entries, none of the new ones."""
    workspace.install_variant("stream.py", "stream.py", {'{stream: ">"}': '{stream: "0"}'})


def rank_counts_the_tie_itself(workspace):
    """ZCOUNT key score +inf without the (: right for distinct scores, too low a rank for ties."""
    workspace.install_variant("leaderboard.py", TOP, {RANK_TODO: (
        '    score = r.zscore(f"leaderboard:{board}", player)\n'
        '    return None if score is None else r.zcount(f"leaderboard:{board}", score, "+inf")\n')})
