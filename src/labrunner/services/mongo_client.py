"""pymongo clients for the DocumentDB stand-in: the fixtures, what learner code gets, the URI.

Light on purpose: the answer child imports this module for learner code (Service.learner_client),
so pymongo is imported inside the functions only.

The master user lives in the `admin` database (as `MONGO_INITDB_ROOT_USERNAME` makes it on the
mongo image, and as DocumentDB's users do), so every connection authenticates against `admin`.
retryWrites=false on every connection: DocumentDB does not support retryable writes, and code
that works here should carry over unchanged.
"""

from __future__ import annotations

import sys

from labrunner.services.base import Endpoint

TIMEOUTS = {"serverSelectionTimeoutMS": 5000, "connectTimeoutMS": 3000, "socketTimeoutMS": 20000}


def uri(endpoint: Endpoint, *, database: bool = True) -> str:
    """A DocumentDB-shaped connection string for the local session (TLS off, directConnection)."""
    return endpoint.mongodb_uri(database=database)


def client(endpoint: Endpoint, *, listeners=(), socket_timeout_ms: int | None = None):
    """A pymongo MongoClient on the session, logged in as the master user."""
    from pymongo import MongoClient

    options = dict(TIMEOUTS)
    if socket_timeout_ms:
        options["socketTimeoutMS"] = socket_timeout_ms
    return MongoClient(uri(endpoint), event_listeners=list(listeners), appname="labrunner", **options)


def _database_class():
    from pymongo.database import Database

    class SessionDatabase(Database):
        """The session's database, with close() closing its client (a plain Database has no
        close(): its attribute lookup would hand back a collection named 'close')."""

        def close(self) -> None:
            self.client.close()

    return SessionDatabase


def database(endpoint: Endpoint, **kwargs):
    """The `mongo` fixture: the session's database (pymongo Database) as the master user."""
    mongo = client(endpoint, **kwargs)
    return _database_class()(mongo, endpoint.database)


def learner_client(endpoint: Endpoint):
    """What learner code run by a check gets: the session's database, its commands recorded
    (find, aggregate, update ... with the operators they use) for the check to read."""
    return database(endpoint, listeners=[_recorder()], socket_timeout_ms=10000)


# What a recorded command says about its operators: where each command keeps them.
_PARTS = ("filter", "pipeline", "updates", "deletes", "query", "projection", "sort", "update", "q", "u")


def describe(command_name: str, command: dict) -> str:
    """One recorded call: "find[$gt,$in]" (the command and the $-operators it used)."""
    from labrunner.services.documentdb_compat import operators_in

    found: set = set()
    for part in _PARTS:
        if part in command:
            operators_in(command[part], found)
    return f"{command_name}[{','.join(sorted(found))}]" if found else command_name


IGNORED = {"hello", "ismaster", "isMaster", "ping", "saslStart", "saslContinue", "endSessions",
           "buildInfo", "getMore", "killCursors"}


def _recorder():
    """A pymongo CommandListener appending each command the learner's code sends to the answer
    child's list of calls (the one boto3 calls go to), so a check can tell an $inc from a
    read-then-replace, and which operators a query used."""
    from pymongo import monitoring

    class Recorder(monitoring.CommandListener):
        def started(self, event) -> None:
            if event.command_name in IGNORED:
                return
            calls = getattr(sys.modules.get("__main__"), "CALLS", None)
            if isinstance(calls, list):
                calls.append(describe(event.command_name, event.command))

        def succeeded(self, event) -> None:
            pass

        def failed(self, event) -> None:
            pass

    return Recorder()
