"""Step 6: a stream of orders, shared out between workers by a consumer group.

A stream is an append-only log: producers add entries, and each entry keeps
its place and an id. A consumer group hands each entry to one worker of the
group, and remembers what each worker has not yet acknowledged, so a worker
that dies does not lose an order.
"""

import redis


def publish(r, stream, event):
    """Append `event` (a dict of strings) to `stream`; return the new entry's id."""
    return r.xadd(stream, event)


def consume(r, stream, group, consumer, count=10):
    """Up to `count` entries of `stream` that no worker of `group` has had yet, for the worker
    `consumer`, as a list of dicts (the events), oldest first. Acknowledge each one you return
    (a real worker would acknowledge each only once its work is done; here the caller's work
    is to receive it). The group reads the stream from its very first entry; create it if it is
    not there yet."""
    try:
        r.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):       # the group is already there: fine
            raise
    replies = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    events = []
    for _, entries in replies:
        for entry_id, fields in entries:
            events.append(fields)
            r.xack(stream, group, entry_id)
    return events
