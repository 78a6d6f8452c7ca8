"""Step 6: a stream of orders, shared out between workers by a consumer group.

A stream is an append-only log: producers add entries, and each entry keeps
its place and an id. A consumer group hands each entry to one worker of the
group, and remembers what each worker has not yet acknowledged, so a worker
that dies does not lose an order.
"""


def publish(r, stream, event):
    """Append `event` (a dict of strings) to `stream`; return the new entry's id."""
    raise NotImplementedError


def consume(r, stream, group, consumer, count=10):
    """Up to `count` entries of `stream` that no worker of `group` has had yet, for the worker
    `consumer`, as a list of dicts (the events), oldest first. Acknowledge each one you return
    (a real worker would acknowledge each only once its work is done; here the caller's work
    is to receive it). The group reads the stream from its very first entry; create it if it is
    not there yet."""
    raise NotImplementedError
