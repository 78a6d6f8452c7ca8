"""Steps 4 and 5: real-time analytics: unique visitors and per-minute counters.

Counting is what an in-memory store does best: every counter below is updated
in well under a millisecond, as the events happen, with no batch job.
"""

COUNTER_TTL = 3600          # seconds: keep each minute's counter for an hour


def record_visit(r, page, visitor_id):
    """Note that `visitor_id` viewed `page` (the same visitor may come back many times),
    under the key visitors:<page>."""
    r.pfadd(f"visitors:{page}", visitor_id)


def unique_visitors(r, page):
    """How many different visitors viewed `page`: an estimate is fine, about 1 % off."""
    return r.pfcount(f"visitors:{page}")


def count_event(r, event, timestamp):
    """Count one `event` (e.g. "checkout") that happened at `timestamp` (Unix seconds), in the
    counter of its minute, events:<event>:<minute> (the minute is timestamp // 60). Each minute's
    counter is kept for COUNTER_TTL seconds, then expires."""
    raise NotImplementedError


def events_per_minute(r, event, start, minutes):
    """The counts of `event` for the `minutes` minutes from the minute of `start` (Unix seconds),
    oldest first, 0 for a minute with none: e.g. [3, 0, 5]."""
    raise NotImplementedError
