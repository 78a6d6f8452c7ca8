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


PASS, FAIL, LAB_ERROR, SERVICE_ERROR = "pass", "fail", "lab-error", "service-error"


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome, one of three kinds besides a pass: the learner's work is not right
    yet (FAIL, the message says what was expected and found); the check itself broke
    (LAB_ERROR, a bug of the lab); the engine did not answer (SERVICE_ERROR)."""

    name: str
    passed: bool
    message: str = ""
    outcome: str = ""          # PASS, FAIL, LAB_ERROR or SERVICE_ERROR; derived from passed when empty
    seconds: float = 0.0

    def __post_init__(self):
        if not self.outcome:
            object.__setattr__(self, "outcome", PASS if self.passed else FAIL)

    @property
    def error(self) -> bool:
        """True when labrunner or the lab broke, not the learner."""
        return self.outcome in (LAB_ERROR, SERVICE_ERROR)

    def as_dict(self) -> dict:
        return {"check": self.name, "passed": self.passed, "outcome": self.outcome, "error": self.error,
                "message": self.message, "seconds": round(self.seconds, 3)}


__all__ = ["CheckFailed", "CheckResult", "expect", "fail", "PASS", "FAIL", "LAB_ERROR", "SERVICE_ERROR"]
