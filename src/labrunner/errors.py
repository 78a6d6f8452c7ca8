"""The tool's own errors and its exit codes, in one place.

A learner's mistake is never an error: it is a failed CheckResult. These
exceptions are for things that stop labrunner itself (a bad lab file, an engine
that is gone, Docker missing); the CLI turns each into one line on stderr.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    CHECKS_FAILED = 1      # a learner's check failed, or doctor found a problem
    INTERRUPTED = 2        # Ctrl-C
    INTERNAL_ERROR = 3     # a bug in labrunner: traceback written to the log file
    USAGE_ERROR = 4        # bad command line, unknown lab, malformed lab file
    SERVICE_ERROR = 5      # an engine, Docker or a port stopped labrunner
    LAB_TEST_FAILED = 6    # `labrunner test`: the lab did not prove itself


class LabrunnerError(Exception):
    """An error with a message for a person; `fix` says what to do next."""

    exit_code = ExitCode.USAGE_ERROR

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix

    def one_line(self) -> str:
        return f"{self.message} — {self.fix}" if self.fix else self.message


class UsageError(LabrunnerError):
    exit_code = ExitCode.USAGE_ERROR


class LabError(LabrunnerError):
    """A lab file is malformed or refers to something that is not there."""

    exit_code = ExitCode.USAGE_ERROR


class ServiceError(LabrunnerError):
    """An engine did not start, stopped answering, or its port is taken."""

    exit_code = ExitCode.SERVICE_ERROR

    def __init__(self, message: str, fix: str | None = None, log_tail: str = ""):
        super().__init__(message, fix)
        self.log_tail = log_tail


class RuntimeUnavailable(ServiceError):
    """Docker is not reachable, or the local runtime cannot serve a service."""


class NoSession(LabrunnerError):
    exit_code = ExitCode.USAGE_ERROR
