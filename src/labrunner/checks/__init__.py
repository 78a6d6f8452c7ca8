"""The check API that labs use.

A check is a plain function in a lab's checks.py; its parameters name what it
needs (fixtures), as in pytest:

    from labrunner.checks import expect, fail

    def music_table_exists(dynamodb):
        names = dynamodb.list_tables()["TableNames"]
        expect("Music" in names, f"no table named 'Music' yet; found {names or 'no tables'}")

A check passes when it returns (a returned string is shown as a detail); a
learner's mistake is `expect(...)`/`fail(...)`, which becomes a failed result
with that message. Any other exception is an error of the lab or the engine.
"""

from __future__ import annotations

from dataclasses import dataclass


class CheckFailed(Exception):
    """The learner's work is not right yet; the message says what was expected and found."""


def fail(message: str) -> None:
    raise CheckFailed(message)


def expect(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    message: str = ""
    error: bool = False        # True: the lab or the engine broke, not the learner
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"check": self.name, "passed": self.passed, "error": self.error,
                "message": self.message, "seconds": round(self.seconds, 3)}


__all__ = ["CheckFailed", "CheckResult", "expect", "fail"]
