"""What a learner's MongoDB code uses that Amazon DocumentDB does not support: a warning, never a
failure (the local server and MongoDB run it; DocumentDB would refuse it).

A check returns `note(result)` (a string shown beside a pass) or adds it to a failure message:

    from labrunner.services.documentdb_compat import note
    ...
    return note(result)          # "" when nothing unsupported was used

The list is deliberately short: what AWS's "Supported MongoDB APIs, operations, and data types"
page marks as unsupported in every DocumentDB version (server-side JavaScript and map-reduce).
Operators whose support varies by DocumentDB version are named in the lab's differences.md
instead of being guessed here.
"""

from __future__ import annotations

# operator or command -> why DocumentDB refuses it, and what to use there
UNSUPPORTED = {
    "$where": "server-side JavaScript; write the condition with query operators or $expr",
    "$function": "server-side JavaScript; compute with aggregation expressions, or in your application",
    "$accumulator": "server-side JavaScript; use $group's built-in accumulators ($sum, $avg, $push ...)",
    "mapReduce": "map-reduce; write an aggregation pipeline instead",
}


def operators_in(value, found: set | None = None) -> set[str]:
    """Every $-operator named anywhere in a filter, update or pipeline (keys only)."""
    found = set() if found is None else found
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.startswith("$"):
                found.add(key)
            operators_in(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            operators_in(item, found)
    return found


def unsupported(value=None, calls=()) -> list[str]:
    """Unsupported operators in a query/pipeline value and in recorded calls ("find[$where]")."""
    names = operators_in(value) if value is not None else set()
    for call in calls:
        command, _, operators = str(call).partition("[")
        names.add(command)
        names.update(op for op in operators.rstrip("]").split(",") if op)
    return sorted(name for name in names if name in UNSUPPORTED)


def note(result=None, *, value=None) -> str:
    """A one-line warning naming what DocumentDB would refuse, or "" — from an answer result
    (the commands its code sent) and/or a query or pipeline value."""
    calls = getattr(result, "calls", ()) if result is not None else ()
    found = unsupported(value, calls)
    if not found:
        return ""
    reasons = "; ".join(f"{name}: {UNSUPPORTED[name]}" for name in found)
    return (f"note: Amazon DocumentDB does not support {', '.join(found)} — this works here but would "
            f"fail on AWS ({reasons})")
