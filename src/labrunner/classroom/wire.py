"""What the learner's client and the teacher's server agree on: the fields of a result,
their limits, and the signature over a submission.

A submission is a JSON body {"learner": id, "seq": n, "results": [...]}, sent with the
learner's token (header X-Labrunner-Token) and X-Labrunner-Signature: hex HMAC-SHA256 of
the body under the learner's key. The key is HMAC(server secret, learner id): the server
derives it and stores it nowhere; it stores only a SHA-256 of the token.
"""

from __future__ import annotations

import hashlib
import hmac
import re

TOKEN_HEADER = "X-Labrunner-Token"
SIGNATURE_HEADER = "X-Labrunner-Signature"
MAX_BODY = 64 * 1024            # bytes a request body may hold (join, results, leave)
MAX_BATCH = 50                  # results in one submission (50 results are ~12 KiB)
NAME_MAX = 60
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")    # lab and step ids

# field -> (type, lowest, highest); every result has exactly these
NUMBERS = {"check_runs": (0, 1_000_000), "failed_runs": (0, 1_000_000), "hints": (0, 1000),
           "time_on_step": (0, 10 * 365 * 86400), "at": (0, 1e11)}
STATUSES = ("passed", "solved", "attempted")    # the step's status after this check, as `report` says
FIELDS = ("id", "lab", "step", "passed", "status", *NUMBERS)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def learner_key(secret: bytes, learner: str) -> bytes:
    return hmac.new(secret, b"learner-key:" + learner.encode("utf-8"), hashlib.sha256).digest()


def sign(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def signature_ok(key: bytes, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(key, body), signature or "")


def result_problem(item) -> str | None:
    """Why a result is not acceptable, or None. Nothing but the known fields is allowed in."""
    if not isinstance(item, dict) or set(item) != set(FIELDS):
        return f"a result has exactly the fields {', '.join(FIELDS)}"
    if not (isinstance(item["id"], str) and re.fullmatch(r"[0-9a-f]{32}", item["id"])):
        return "a result id is 32 hex digits"
    for field in ("lab", "step"):
        if not (isinstance(item[field], str) and ID_PATTERN.match(item[field])):
            return f"{field} is not an id"
    if not isinstance(item["passed"], bool):
        return "passed is true or false"
    if item["status"] not in STATUSES:
        return f"status is one of {', '.join(STATUSES)}"
    for field, (low, high) in NUMBERS.items():
        value = item[field]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            return f"{field} is a number from {low} to {high}"
    return None
